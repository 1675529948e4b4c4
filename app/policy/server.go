package policy

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/scanner"
)

// Server is what the server (serve.yml, the hook's pushvault.yml) decides
// about a repository's settings: which keys a repository's settings file —
// or its organisation's .github repository's — may set at all, and the
// value of every other key. A key the file may not set keeps the server's
// value (or the default) and is listed as ignored, so the check run and
// the hook's message say so.
type Server struct {
	// MaySet lists the keys (as in the file: "allowlist.paths",
	// "rotation.approval") a repository may set; nil means DefaultMaySet.
	MaySet []string
	// Rotation is the server's rotation section: database and PKI
	// mappings come only from here unless MaySet grants them.
	Rotation rotate.Settings
	// Generic is the server's mode for generic secrets ("": the
	// default); a repository changes it only when MaySet grants
	// "scan.generic", so a pusher cannot turn the detector off.
	Generic scanner.GenericMode
}

// repositoryKey is one key of the settings file and how a repository's
// value of it is taken over the server's.
type repositoryKey struct {
	name string
	take func(dst, src *Settings)
}

// repositoryKeys are every key a settings file can set, in the file's
// order. version is not a setting and always allowed.
var repositoryKeys = []repositoryKey{
	{"allowlist.paths", func(d, s *Settings) { d.Scan.Allowlist.Paths = s.Scan.Allowlist.Paths }},
	{"allowlist.findings", func(d, s *Settings) { d.Scan.Allowlist.Findings = s.Scan.Allowlist.Findings }},
	{"allowlist.detectors", func(d, s *Settings) { d.Scan.Allowlist.Detectors = s.Scan.Allowlist.Detectors }},
	{"detectors", func(d, s *Settings) { d.Scan.Detectors = s.Scan.Detectors }},
	{"fix.style", func(d, s *Settings) { d.Style, d.Scan.FixStyle = s.Style, s.Scan.FixStyle }},
	{"scan.max_file_size", func(d, s *Settings) { d.Scan.MaxFileBytes = s.Scan.MaxFileBytes }},
	{"scan.generic", func(d, s *Settings) { d.Scan.Generic = s.Scan.Generic }},
	{"rotation.enabled", func(d, s *Settings) { d.Rotation.Enabled = s.Rotation.Enabled }},
	{"rotation.destroy_exposed", func(d, s *Settings) { d.Rotation.DestroyExposed = s.Rotation.DestroyExposed }},
	{"rotation.approval", func(d, s *Settings) { d.Rotation.Approval = s.Rotation.Approval }},
	{"rotation.databases", func(d, s *Settings) { d.Rotation.Databases = s.Rotation.Databases }},
	{"rotation.pki", func(d, s *Settings) { d.Rotation.PKI = s.Rotation.PKI }},
	{"rotation.owned", func(d, s *Settings) { d.Rotation.Owned = s.Rotation.Owned }},
	{"rotation.aws", func(d, s *Settings) { d.Rotation.AWS = s.Rotation.AWS }},
}

// DefaultMaySet is what a repository may set unless the server says
// otherwise: what narrows reports to what the repository's reviewers
// accepted (allowlists by finding id and by path), what adds scanning
// (custom detectors) and how the fix is written. Not: allowlisting a whole
// detector, the file size limit, the generic detector's mode, and anything that decides what rotation
// does (which rotators run, database, PKI and AWS mappings, "owned" secrets,
// destroying exposed versions, approval).
var DefaultMaySet = []string{"allowlist.paths", "allowlist.findings", "detectors", "fix.style"}

// Keys lists every key a repository_may_set list may name.
func Keys() []string {
	out := make([]string, len(repositoryKeys))
	for i, k := range repositoryKeys {
		out[i] = k.name
	}
	return out
}

// ValidateMaySet checks a repository_may_set list: every entry a key of
// the settings file. field names the list in messages.
func ValidateMaySet(field string, keys []string) error {
	var bad []string
	for _, k := range keys {
		if !slices.Contains(Keys(), k) {
			bad = append(bad, fmt.Sprintf("%q", k))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: %s not a settings key (one of %s)", field, strings.Join(bad, ", "), strings.Join(Keys(), ", "))
	}
	return nil
}

func (srv Server) maySet() []string {
	if srv.MaySet == nil {
		return DefaultMaySet
	}
	return srv.MaySet
}

// Defaults are the settings of a repository without a settings file under
// this server: the defaults with the server's rotation section.
func (srv Server) Defaults() *Settings {
	d := Defaults()
	d.Rotation = srv.Rotation
	d.Scan.Generic = srv.Generic
	return d
}

// Apply returns the settings that govern a repository whose file parsed as
// file: the server's, with each key the file sets and the server lets it
// set taken from the file. Keys the file sets but may not are listed in
// Ignored.
func (srv Server) Apply(file *Settings) *Settings {
	out := srv.Defaults()
	out.Source = file.Source
	for _, k := range repositoryKeys {
		if !slices.Contains(file.set, k.name) {
			continue
		}
		if slices.Contains(srv.maySet(), k.name) {
			k.take(out, file)
		} else {
			out.Ignored = append(out.Ignored, k.name)
		}
	}
	return out
}

// keysSet lists the settings keys a file's YAML sets, named as
// repositoryKeys names them; data already parsed without error.
func keysSet(data []byte) []string {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		name, val := top[i].Value, top[i+1]
		if val.Kind != yaml.MappingNode {
			out = append(out, name)
			continue
		}
		for j := 0; j+1 < len(val.Content); j += 2 {
			out = append(out, name+"."+val.Content[j].Value)
		}
	}
	return out
}
