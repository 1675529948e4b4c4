package store

import "strings"

// Name fills a store's name template ("{owner}", "{repo}", "{name}") for
// one secret. Each segment is made safe first — letters, digits, '-', '_'
// and '.' kept, anything else (slashes included) replaced with '_', dots
// trimmed from its ends — so nothing a pusher names (a repository, a
// variable) can climb out of the template or split one segment in two.
func Name(template, owner, repo, name string) string {
	r := strings.NewReplacer("{owner}", safe(owner), "{repo}", safe(repo), "{name}", safe(name))
	return strings.Trim(r.Replace(template), "/")
}

// safe keeps letters, digits, '-', '_' and '.', replacing anything else
// (slashes included) with '_', so a segment can't climb or split the name.
func safe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "_"
	}
	return out
}
