package rotate

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"
)

// Rotator names, as settings list them.
const (
	NamePostgres   = "postgresql"
	NameMySQL      = "mysql"
	NameVaultToken = "vault_token"
	NamePKI        = "vault_pki"
	NameGitHub     = "github_token"
	NameOwned      = "owned"
)

var allNames = []string{NamePostgres, NameMySQL, NameVaultToken, NamePKI, NameGitHub, NameOwned}

// Approval modes.
const (
	ApprovalAuto     = "auto"
	ApprovalRequired = "required"
)

// Settings say what rotation may do. They come from the server config
// (embed this struct under `rotation:`) and from the `rotation:` section
// of .github/pushvault.yml (ParseSettings). The zero value is the default:
// every rotator whose settings exist is on, the exposed version is
// destroyed, rotations run at once.
type Settings struct {
	// Enabled names the rotators that may run; nil means all.
	Enabled []string `yaml:"enabled"`
	// DestroyExposed destroys the exposed KV version once the rotation is
	// verified; nil means true.
	DestroyExposed *bool `yaml:"destroy_exposed"`
	// Approval is auto (default) or required. Under required every
	// rotation waits for an approval (the "Approve rotation" check-run
	// action, or `pushvault scan --fix --approve-rotation` locally); under
	// auto only a rotation that would break a use of the secret the fix
	// leaves in place waits (Target.Unreplaced).
	Approval  string        `yaml:"approval"`
	Databases []Database    `yaml:"databases"`
	PKI       []PKIMount    `yaml:"pki"`
	Owned     []OwnedSecret `yaml:"owned"`
}

// Database maps databases the organisation declares to a Vault database
// secrets engine connection. Match fields are globs; empty matches any.
type Database struct {
	Match struct {
		Host     string `yaml:"host"`
		Port     string `yaml:"port"`
		Database string `yaml:"database"`
	} `yaml:"match"`
	// Connection is the connection's name under the engine (database/config/NAME).
	Connection string `yaml:"vault_connection"`
	// Mount is the database engine's mount; default "database".
	Mount string `yaml:"vault_mount"`
	// RotationPeriod is the static role's period; default "24h".
	RotationPeriod string `yaml:"rotation_period"`
}

// PKIMount names a Vault PKI mount whose certificates the organisation
// issues, and the role replacements are issued with.
type PKIMount struct {
	Mount string `yaml:"mount"`
	Role  string `yaml:"role"`
}

// OwnedSecret declares a secret the application owns (signing key, session or
// webhook secret): rotating it means generating a new value. Path is a
// doublestar glob over the file it was found in, Name the secret's name in
// Vault; one of them is required. Shape is "same" (default: the exposed
// value's alphabet and length), "hex:N", "base64:N" or "alnum:N" (N random
// bytes, or characters for alnum).
type OwnedSecret struct {
	Path  string `yaml:"path"`
	Name  string `yaml:"name"`
	Shape string `yaml:"shape"`
}

// Destroy reports whether the exposed version is destroyed after a
// verified rotation.
func (s Settings) Destroy() bool { return s.DestroyExposed == nil || *s.DestroyExposed }

func (s Settings) enabled(name string) bool {
	if s.Enabled == nil {
		return true
	}
	for _, n := range s.Enabled {
		if n == name {
			return true
		}
	}
	return false
}

// Validate checks settings given in Go (the server config), naming fields
// as the YAML does.
func (s Settings) Validate() error {
	var errs []error
	for i, n := range s.Enabled {
		if !known(n) {
			errs = append(errs, fmt.Errorf("rotation.enabled[%d]: %q is not one of %s", i, n, strings.Join(allNames, ", ")))
		}
	}
	if s.Approval != "" && s.Approval != ApprovalAuto && s.Approval != ApprovalRequired {
		errs = append(errs, fmt.Errorf("rotation.approval: %q is not one of auto, required", s.Approval))
	}
	for i, d := range s.Databases {
		key := fmt.Sprintf("rotation.databases[%d]", i)
		if d.Connection == "" {
			errs = append(errs, fmt.Errorf("%s.vault_connection: required", key))
		}
		for f, g := range map[string]string{"host": d.Match.Host, "port": d.Match.Port, "database": d.Match.Database} {
			if g != "" && !doublestar.ValidatePattern(g) {
				errs = append(errs, fmt.Errorf("%s.match.%s: invalid glob %q", key, f, g))
			}
		}
	}
	for i, p := range s.PKI {
		if p.Mount == "" || p.Role == "" {
			errs = append(errs, fmt.Errorf("rotation.pki[%d]: mount and role are required", i))
		}
	}
	for i, o := range s.Owned {
		key := fmt.Sprintf("rotation.owned[%d]", i)
		if o.Path == "" && o.Name == "" {
			errs = append(errs, fmt.Errorf("%s: path or name is required", key))
		}
		if o.Path != "" && !doublestar.ValidatePattern(o.Path) {
			errs = append(errs, fmt.Errorf("%s.path: invalid glob %q", key, o.Path))
		}
		if _, err := parseShape(o.Shape); err != nil {
			errs = append(errs, fmt.Errorf("%s.shape: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

func known(n string) bool {
	for _, k := range allNames {
		if k == n {
			return true
		}
	}
	return false
}

// ParseSettings decodes the `rotation:` section of a settings file
// strictly: unknown keys and wrong types are errors, all reported at once
// with file, line and key. n is the section's value node; file names the
// file in messages.
func ParseSettings(file string, n *yaml.Node) (Settings, error) {
	var s Settings
	p := &parser{file: file}
	p.mapping(n, "rotation", map[string]func(*yaml.Node, string){
		"enabled": func(n *yaml.Node, key string) {
			s.Enabled = p.strings(n, key)
			if s.Enabled == nil {
				s.Enabled = []string{}
			}
			for i, name := range s.Enabled {
				if !known(name) {
					p.errf(n.Content[i], fmt.Sprintf("%s[%d]", key, i), "%q is not one of %s", name, strings.Join(allNames, ", "))
				}
			}
		},
		"destroy_exposed": func(n *yaml.Node, key string) {
			if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
				p.errf(n, key, "must be true or false")
				return
			}
			b := n.Value == "true"
			s.DestroyExposed = &b
		},
		"approval": func(n *yaml.Node, key string) {
			s.Approval = p.str(n, key)
			if s.Approval != ApprovalAuto && s.Approval != ApprovalRequired {
				p.errf(n, key, "%q is not one of auto, required", s.Approval)
			}
		},
		"databases": func(n *yaml.Node, key string) {
			p.list(n, key, func(item *yaml.Node, ikey string) {
				var d Database
				p.mapping(item, ikey, map[string]func(*yaml.Node, string){
					"match": func(n *yaml.Node, key string) {
						p.mapping(n, key, map[string]func(*yaml.Node, string){
							"host":     func(n *yaml.Node, key string) { d.Match.Host = p.glob(n, key) },
							"port":     func(n *yaml.Node, key string) { d.Match.Port = p.glob(n, key) },
							"database": func(n *yaml.Node, key string) { d.Match.Database = p.glob(n, key) },
						})
					},
					"vault_connection": func(n *yaml.Node, key string) { d.Connection = p.str(n, key) },
					"vault_mount":      func(n *yaml.Node, key string) { d.Mount = p.str(n, key) },
					"rotation_period":  func(n *yaml.Node, key string) { d.RotationPeriod = p.str(n, key) },
				})
				if item.Kind == yaml.MappingNode && d.Connection == "" {
					p.errf(item, ikey+".vault_connection", "required")
				}
				s.Databases = append(s.Databases, d)
			})
		},
		"pki": func(n *yaml.Node, key string) {
			p.list(n, key, func(item *yaml.Node, ikey string) {
				var k PKIMount
				p.mapping(item, ikey, map[string]func(*yaml.Node, string){
					"mount": func(n *yaml.Node, key string) { k.Mount = p.str(n, key) },
					"role":  func(n *yaml.Node, key string) { k.Role = p.str(n, key) },
				})
				if item.Kind == yaml.MappingNode && (k.Mount == "" || k.Role == "") {
					p.errf(item, ikey, "mount and role are required")
				}
				s.PKI = append(s.PKI, k)
			})
		},
		"owned": func(n *yaml.Node, key string) {
			p.list(n, key, func(item *yaml.Node, ikey string) {
				var o OwnedSecret
				p.mapping(item, ikey, map[string]func(*yaml.Node, string){
					"path": func(n *yaml.Node, key string) { o.Path = p.glob(n, key) },
					"name": func(n *yaml.Node, key string) { o.Name = p.str(n, key) },
					"shape": func(n *yaml.Node, key string) {
						o.Shape = p.str(n, key)
						if _, err := parseShape(o.Shape); err != nil {
							p.errf(n, key, "%v", err)
						}
					},
				})
				if item.Kind == yaml.MappingNode && o.Path == "" && o.Name == "" {
					p.errf(item, ikey, "path or name is required")
				}
				s.Owned = append(s.Owned, o)
			})
		},
	})
	if len(p.errs) > 0 {
		return Settings{}, errors.Join(p.errs...)
	}
	return s, nil
}

type parser struct {
	file string
	errs []error
}

func (p *parser) errf(n *yaml.Node, key, format string, args ...any) {
	where := p.file
	if n != nil && n.Line > 0 {
		where += ":" + strconv.Itoa(n.Line)
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s: %s", where, key, fmt.Sprintf(format, args...)))
}

func (p *parser) mapping(n *yaml.Node, key string, fields map[string]func(*yaml.Node, string)) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, key, "must be a mapping of keys to values")
		return
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		full := key + "." + k.Value
		f, ok := fields[k.Value]
		switch {
		case !ok:
			p.errf(k, full, "unknown key (known keys here: %s)", strings.Join(names, ", "))
		case seen[k.Value]:
			p.errf(k, full, "appears twice")
		default:
			seen[k.Value] = true
			f(v, full)
		}
	}
}

func (p *parser) list(n *yaml.Node, key string, item func(*yaml.Node, string)) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, key, "must be a list")
		return
	}
	for i, it := range n.Content {
		item(it, fmt.Sprintf("%s[%d]", key, i))
	}
}

func (p *parser) strings(n *yaml.Node, key string) []string {
	var out []string
	p.list(n, key, func(item *yaml.Node, ikey string) {
		out = append(out, p.str(item, ikey))
	})
	return out
}

func (p *parser) str(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int") {
		p.errf(n, key, "must be a string")
		return ""
	}
	return n.Value
}

func (p *parser) glob(n *yaml.Node, key string) string {
	g := p.str(n, key)
	if g != "" && !doublestar.ValidatePattern(g) {
		p.errf(n, key, "invalid glob %q", g)
	}
	return g
}
