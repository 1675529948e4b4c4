package scanner

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/internal/strictyaml"
)

// DefaultMaxFileBytes is how much a single file may add in one commit before
// it is skipped (and counted) rather than scanned.
const DefaultMaxFileBytes = 10 << 20

// Settings are the scanning parts of a repository's pushvault settings.
// The zero value is usable: no allowlist, no custom detectors, default limits.
type Settings struct {
	Allowlist    Allowlist
	Detectors    []*CustomDetector
	MaxFileBytes int
	// FixStyle is how `--fix` writes references into config files: vault
	// (default), vals or env. The scanner itself ignores it.
	FixStyle string
	// Generic is what the generic detector's findings get (scan.generic):
	// report, fix or off; "" is DefaultGenericMode.
	Generic GenericMode
	// Rotation is the `rotation:` section as written (nil when absent),
	// decoded and checked by remediator/rotate.ParseSettings: what rotation
	// may do is not the scanner's business.
	Rotation *yaml.Node
}

// Allowlist says which findings not to report. Entries are matched
// case-sensitively except detector names.
type Allowlist struct {
	// Paths are doublestar globs ("testdata/**", "**/*_test.go") matched
	// against the slash-separated path in the repository.
	Paths []string
	// Detectors are detector names as reported ("Stripe", "AWS", "VaultToken").
	Detectors []string
	// Findings are finding ids (pv_...) as reported; a finding is allowed when
	// any of its locations has a listed id.
	Findings []string
}

var findingIDPat = regexp.MustCompile(`^pv_[0-9a-f]{20}$`)

// ParseSettings decodes a settings file strictly: unknown keys, wrong types,
// invalid regexes and globs are errors, all of them reported at once, each
// with the file, line and key. name is the file's name for messages. On
// problems the settings read so far come back with the error (nil only when
// data is not YAML), so app/policy can check the rotation section too.
func ParseSettings(name string, data []byte) (*Settings, error) {
	s := &Settings{MaxFileBytes: DefaultMaxFileBytes}
	if len(bytes.TrimSpace(data)) == 0 {
		return s, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p := &settingsParser{Walker: strictyaml.New(name), name: name}
	var allowNode *yaml.Node
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	p.Mapping(root, "", map[string]func(*yaml.Node, string){
		"version": func(n *yaml.Node, key string) {
			if v := p.Int(n, key); v != 1 && v != 0 {
				p.Errf(n, key, "unsupported version %d (this pushvault reads version 1)", v)
			}
		},
		"allowlist": func(n *yaml.Node, key string) {
			p.Mapping(n, key, map[string]func(*yaml.Node, string){
				"paths": func(n *yaml.Node, key string) { s.Allowlist.Paths = p.globs(n, key) },
				"detectors": func(n *yaml.Node, key string) {
					s.Allowlist.Detectors = p.detectorNames(n, key)
					allowNode = n
				},
				"findings": func(n *yaml.Node, key string) { s.Allowlist.Findings = p.findingIDs(n, key) },
			})
		},
		"detectors": func(n *yaml.Node, key string) { s.Detectors = p.customDetectors(n, key) },
		"fix": func(n *yaml.Node, key string) {
			p.Mapping(n, key, map[string]func(*yaml.Node, string){
				"style": func(n *yaml.Node, key string) {
					s.FixStyle = p.Str(n, key)
					switch s.FixStyle {
					case "", "vault", "vals", "env":
					default:
						p.Errf(n, key, "%q is not one of vault, vals, env", s.FixStyle)
					}
				},
			})
		},
		"rotation": func(n *yaml.Node, key string) { s.Rotation = n },
		"scan": func(n *yaml.Node, key string) {
			p.Mapping(n, key, map[string]func(*yaml.Node, string){
				"max_file_size": func(n *yaml.Node, key string) { s.MaxFileBytes = p.size(n, key) },
				"generic": func(n *yaml.Node, key string) {
					mode, ok := ParseGenericMode(p.Str(n, key))
					if !ok {
						p.Errf(n, key, "%q is not one of report, fix, off", n.Value)
					}
					s.Generic = mode
				},
			})
		},
	})
	if allowNode != nil && allowNode.Kind == yaml.SequenceNode {
		custom := map[string]bool{}
		for _, d := range s.Detectors {
			custom[strings.ToLower(d.name)] = true
		}
		for i, item := range allowNode.Content {
			if item.Kind == yaml.ScalarNode && item.Value != "" && !custom[strings.ToLower(item.Value)] && !KnownDetector(item.Value) {
				p.Errf(item, fmt.Sprintf("allowlist.detectors[%d]", i), "unknown detector %q (use the name pushvault scan reports, e.g. AWS, Stripe, VaultToken)", item.Value)
			}
		}
	}
	// The partial settings come back with the error, so the caller can
	// check the sections it owns (rotation) and report every problem.
	return s, p.Err()
}

// settingsParser reads the settings' scan sections through the project's
// one strict YAML walker.
type settingsParser struct {
	*strictyaml.Walker
	name string // the settings file, for custom detectors' descriptions
}

// size reads a byte count: a number, or a number with B, KiB, MiB or GiB.
func (p *settingsParser) size(n *yaml.Node, key string) int {
	if n.Kind != yaml.ScalarNode {
		p.Errf(n, key, "must be a size such as 1048576 or 1MiB")
		return DefaultMaxFileBytes
	}
	s := strings.TrimSpace(n.Value)
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		p.Errf(n, key, "must be a positive size such as 1048576 or 1MiB, not %q", n.Value)
		return DefaultMaxFileBytes
	}
	return v * mult
}

func (p *settingsParser) globs(n *yaml.Node, key string) []string {
	list := p.Strings(n, key)
	for i, g := range list {
		if g == "" || !doublestar.ValidatePattern(g) {
			p.Errf(n.Content[i], fmt.Sprintf("%s[%d]", key, i), "invalid glob %q", g)
		}
	}
	return list
}

func (p *settingsParser) detectorNames(n *yaml.Node, key string) []string {
	list := p.Strings(n, key)
	for i, name := range list {
		if strings.TrimSpace(name) == "" {
			p.Errf(n.Content[i], fmt.Sprintf("%s[%d]", key, i), "empty detector name")
		}
	}
	return list
}

func (p *settingsParser) findingIDs(n *yaml.Node, key string) []string {
	list := p.Strings(n, key)
	for i, id := range list {
		if !findingIDPat.MatchString(id) {
			p.Errf(n.Content[i], fmt.Sprintf("%s[%d]", key, i), "%q is not a finding id (pv_ followed by 20 hex digits, as reported by pushvault scan)", id)
		}
	}
	return list
}

var detectorNamePat = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

func (p *settingsParser) customDetectors(n *yaml.Node, key string) []*CustomDetector {
	if n.Kind != yaml.SequenceNode {
		p.Errf(n, key, "must be a list of detectors (name, regex, keywords)")
		return nil
	}
	var out []*CustomDetector
	names := map[string]bool{}
	for i, item := range n.Content {
		ikey := fmt.Sprintf("%s[%d]", key, i)
		d := &CustomDetector{}
		var pattern string
		var patNode *yaml.Node
		p.Mapping(item, ikey, map[string]func(*yaml.Node, string){
			"name":        func(n *yaml.Node, key string) { d.name = p.Str(n, key) },
			"regex":       func(n *yaml.Node, key string) { pattern, patNode = p.Str(n, key), n },
			"keywords":    func(n *yaml.Node, key string) { d.keywords = p.Strings(n, key) },
			"description": func(n *yaml.Node, key string) { d.description = p.Str(n, key) },
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		switch {
		case d.name == "":
			p.Errf(item, ikey+".name", "required")
		case !detectorNamePat.MatchString(d.name):
			p.Errf(item, ikey+".name", "%q: use letters, digits, '_', '-' or '.', starting with a letter", d.name)
		case strings.EqualFold(d.name, GenericName):
			p.Errf(item, ikey+".name", "%q is the built-in generic detector's name", d.name)
		case names[strings.ToLower(d.name)]:
			p.Errf(item, ikey+".name", "%q is declared twice", d.name)
		}
		names[strings.ToLower(d.name)] = true
		if patNode == nil {
			p.Errf(item, ikey+".regex", "required")
			continue
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			p.Errf(patNode, ikey+".regex", "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			continue
		}
		if re.MatchString("") {
			p.Errf(patNode, ikey+".regex", "matches the empty string, so it would match everywhere")
			continue
		}
		for j, k := range d.keywords {
			if strings.TrimSpace(k) == "" {
				p.Errf(item, fmt.Sprintf("%s.keywords[%d]", ikey, j), "empty keyword")
			}
		}
		d.re = re
		if d.description == "" {
			d.description = "Custom detector " + d.name + " declared in " + p.name
		}
		out = append(out, d)
	}
	return out
}

// GenericMode is the generic detector's mode under these settings.
func (s *Settings) GenericMode() GenericMode {
	if s.Generic == "" {
		return DefaultGenericMode
	}
	return s.Generic
}

// allowsPath reports whether a path glob allows everything in path.
func (a *Allowlist) allowsPath(path string) bool {
	for _, g := range a.Paths {
		if ok, _ := doublestar.Match(g, path); ok {
			return true
		}
	}
	return false
}

func (a *Allowlist) allowsDetector(name string) bool {
	for _, d := range a.Detectors {
		if strings.EqualFold(d, name) {
			return true
		}
	}
	return false
}

func (a *Allowlist) allowsFinding(f *Finding) bool {
	for _, id := range a.Findings {
		for _, l := range f.Locations {
			if l.ID == id {
				return true
			}
		}
	}
	return false
}
