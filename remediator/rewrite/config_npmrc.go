package rewrite

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// npmrcSyntax is npm's .npmrc, read the way npm's "ini" package reads it:
// "key=value" lines split at the first "=" (so "//registry.npmjs.org/:_authToken"
// is one key), whole-line comments starting with ';' or '#', [section]
// headers, and in an unquoted value a ';' or '#' ending the value. npm
// expands ${VAR} in every value itself, so the reference is always
// ${NAME}, filled by pushvault exec from vault.env (see envResolver).
// Values with backslash escapes are not edited.
type npmrcSyntax struct{}

var _ envResolver = npmrcSyntax{}

func (npmrcSyntax) name() string { return ".npmrc" }

func (npmrcSyntax) envRef(name string) string { return "${" + name + "}" }

var errNpmrcLine = errors.New("a line that is neither a comment, a [section] nor key=value")

// parse accepts what npm reads as settings; a line without "=" (npm
// would read it as key=true) is refused, as it is no setting anyone writes.
func (npmrcSyntax) parse(content []byte) error {
	if !utf8.Valid(content) {
		return errNpmrcLine
	}
	for _, line := range strings.Split(string(content), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "", t[0] == ';', t[0] == '#', t[0] == '[' && strings.HasSuffix(t, "]"):
		case strings.Index(t, "=") > 0:
		default:
			return errNpmrcLine
		}
	}
	return nil
}

func (npmrcSyntax) scalars(content []byte) ([]scalar, error) {
	var out []scalar
	section := ""
	eachLine(string(content), func(line string, lineStart int) {
		t := strings.TrimSpace(line)
		switch {
		case t == "", t[0] == ';', t[0] == '#':
			return
		case t[0] == '[':
			section = strings.Trim(t, "[]")
			return
		}
		d := strings.IndexByte(line, '=')
		if d <= 0 {
			return
		}
		key := strings.TrimSpace(line[:d])
		vs := d + 1
		for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
			vs++
		}
		val := strings.TrimRight(line[vs:], " \t")
		sc := scalar{start: lineStart + vs, key: key, path: []pathElem{keyElem(section), keyElem(key)}}
		switch {
		case len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0]:
			sc.quote = val[0]
			sc.value = val[1 : len(val)-1]
		default:
			if i := strings.IndexAny(val, ";#"); i >= 0 {
				val = strings.TrimRight(val[:i], " \t")
			}
			sc.value = val
		}
		if sc.value == "" || strings.ContainsAny(sc.value, `\"'`) {
			return
		}
		sc.end = sc.start + len(val)
		out = append(out, sc)
	})
	return out, nil
}

func (s npmrcSyntax) render(sc scalar, v string, d dollars) (string, bool) {
	e, ok := s.escape(sc, v, d)
	if !ok || e == "" {
		return "", false
	}
	if sc.quote != 0 {
		return string(sc.quote) + e + string(sc.quote), true
	}
	return e, true
}

// escape: npm reads no escapes that a reference or a token needs, so a
// value is written as it is, where nothing in it ends the value early.
func (npmrcSyntax) escape(sc scalar, s string, _ dollars) (string, bool) {
	if strings.ContainsAny(s, "\n\r\\\"'") || !configPrintable(s) ||
		(sc.quote == 0 && (strings.ContainsAny(s, ";#") || strings.TrimSpace(s) != s)) {
		return "", false
	}
	return s, true
}
