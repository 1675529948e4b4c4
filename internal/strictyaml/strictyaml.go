// Package strictyaml is pushvault's one walker over YAML settings: every
// section of .github/pushvault.yml (and the rotation section wherever it is
// written) is read through it, so all of them agree on what a string, a
// number, a list or a mapping is. Unknown keys, keys given twice and values
// of the wrong kind are errors; every error names the file, the line and the
// key path in the user's terms, and all of them are collected, not only the
// first.
package strictyaml

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"
)

// Walker reads nodes of one file and collects what is wrong with them. Not
// safe for concurrent use.
type Walker struct {
	file string
	errs []error
}

// New returns a walker for the file named file (for messages).
func New(file string) *Walker { return &Walker{file: file} }

// Err joins every problem found so far; nil when there is none.
func (w *Walker) Err() error { return errors.Join(w.errs...) }

// Errf records a problem at n (its line) under the key path key.
func (w *Walker) Errf(n *yaml.Node, key, format string, args ...any) {
	where := w.file
	if n != nil && n.Line > 0 {
		where += ":" + strconv.Itoa(n.Line)
	}
	if key != "" {
		where += ": " + key
	}
	w.errs = append(w.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

// Join is the key path of key under parent ("allowlist.paths").
func Join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// IsNull says whether n is absent or null (an empty section).
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// Root is the document's top node (the mapping inside the document node).
func Root(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return doc
}

// Mapping calls fields[k] for each key k of the mapping n; a null n is an
// empty mapping.
func (w *Walker) Mapping(n *yaml.Node, key string, fields map[string]func(n *yaml.Node, key string)) {
	if IsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		w.Errf(n, key, "must be a mapping of keys to values")
		return
	}
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		full := Join(key, k.Value)
		f, ok := fields[k.Value]
		switch {
		case !ok:
			w.Errf(k, full, "unknown key (known keys here: %s)", strings.Join(known, ", "))
		case seen[k.Value]:
			w.Errf(k, full, "appears twice")
		default:
			seen[k.Value] = true
			f(v, full)
		}
	}
}

// List calls item for each element of the list n, with its key path
// ("databases[2]"); a null n is an empty list.
func (w *Walker) List(n *yaml.Node, key string, item func(n *yaml.Node, key string)) {
	if IsNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		w.Errf(n, key, "must be a list")
		return
	}
	for i, it := range n.Content {
		item(it, fmt.Sprintf("%s[%d]", key, i))
	}
}

// Strings reads a list of strings (nil for a null n).
func (w *Walker) Strings(n *yaml.Node, key string) []string {
	if !IsNull(n) && n.Kind != yaml.SequenceNode {
		w.Errf(n, key, "must be a list of strings")
		return nil
	}
	var out []string
	w.List(n, key, func(item *yaml.Node, ikey string) {
		out = append(out, w.Str(item, ikey))
	})
	return out
}

// Str reads a string. A bare number, boolean or null is not one: a value
// the user meant as text is quoted when YAML would read it otherwise.
func (w *Walker) Str(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		w.Errf(n, key, "must be a string")
		return ""
	}
	return n.Value
}

// Text reads a string or a whole number written bare (a port: 5432 or
// "5432"), as its text.
func (w *Walker) Text(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int") {
		w.Errf(n, key, "must be a string")
		return ""
	}
	return n.Value
}

// Int reads a whole number written bare.
func (w *Walker) Int(n *yaml.Node, key string) int {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		w.Errf(n, key, "must be a whole number")
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		w.Errf(n, key, "must be a whole number")
	}
	return v
}

// Bool reads true or false.
func (w *Walker) Bool(n *yaml.Node, key string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		w.Errf(n, key, "must be true or false")
		return false
	}
	v, _ := strconv.ParseBool(n.Value)
	return v
}

// Glob reads a doublestar glob as Text does (a bare number is a valid
// glob for a port).
func (w *Walker) Glob(n *yaml.Node, key string) string {
	g := w.Text(n, key)
	if g != "" && !doublestar.ValidatePattern(g) {
		w.Errf(n, key, "invalid glob %q", g)
	}
	return g
}
