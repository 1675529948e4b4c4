package rewrite

import (
	"strings"

	"gopkg.in/ini.v1"
)

// iniSyntax is INI (.ini, .cfg, .conf), parsed with gopkg.in/ini.v1.
// Comments start a line with ';' or '#', or follow a space inside a line
// (" #", " ;"), so "#" in a reference such as vault:...#value is kept; that
// is ini.v1's SpaceBeforeInlineComment, and what Python's configparser does
// by default. A hand-written line scanner finds one-line values ("key =
// value", optionally "..."/'...' quoted); values continued over several
// lines, and ini.v1's """ and ` quoting, are not edited.
type iniSyntax struct{}

var iniOptions = ini.LoadOptions{SpaceBeforeInlineComment: true}

func (iniSyntax) name() string { return "INI" }

func (iniSyntax) parse(content []byte) error {
	_, err := ini.LoadSources(iniOptions, content)
	return err
}

func (iniSyntax) checkValue(content []byte, sc scalar, want string) bool {
	f, err := ini.LoadSources(iniOptions, content)
	if err != nil || len(sc.path) != 2 {
		return false
	}
	sec, err := f.GetSection(sc.path[0].key)
	if err != nil {
		return false
	}
	k, err := sec.GetKey(sc.path[1].key)
	return err == nil && k.Value() == want
}

func (iniSyntax) scalars(content []byte) ([]scalar, error) {
	var out []scalar
	section := ini.DefaultSection
	continued := false
	eachLine(string(content), func(line string, lineStart int) {
		trimmed := strings.TrimSpace(line)
		wasContinued := continued
		continued = strings.HasSuffix(trimmed, `\`)
		switch {
		case wasContinued, trimmed == "", trimmed[0] == ';', trimmed[0] == '#':
			return
		case trimmed[0] == '[':
			if i := strings.IndexByte(trimmed, ']'); i > 0 {
				section = strings.TrimSpace(trimmed[1:i])
			}
			return
		}
		d := strings.IndexAny(line, "=:")
		if d < 0 {
			return
		}
		key := strings.TrimSpace(line[:d])
		if len(key) >= 2 && (key[0] == '"' || key[0] == '`') && key[len(key)-1] == key[0] {
			key = key[1 : len(key)-1]
		}
		vs := d + 1
		for vs < len(line) && (line[vs] == ' ' || line[vs] == '\t') {
			vs++
		}
		val := line[vs:]
		if continued || strings.HasPrefix(val, `"""`) || strings.HasPrefix(val, "`") {
			return
		}
		if i := iniComment(val); i >= 0 {
			val = val[:i]
		}
		val = strings.TrimRight(val, " \t")
		if val == "" {
			return
		}
		sc := scalar{start: lineStart + vs, end: lineStart + vs + len(val), value: val, key: key,
			path: []pathElem{keyElem(section), keyElem(key)}}
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			sc.quote = val[0]
			sc.value = val[1 : len(val)-1]
		}
		out = append(out, sc)
	})
	return out, nil
}

// iniComment is where ini.v1 (SpaceBeforeInlineComment) starts an inline
// comment in a value, or -1.
func iniComment(v string) int {
	if i := strings.Index(v, " #"); i >= 0 {
		return i
	}
	return strings.Index(v, " ;")
}

func (s iniSyntax) render(sc scalar, v string, _ dollars) (string, bool) {
	if !iniSafe(v) || v == "" {
		return "", false
	}
	q := sc.quote
	if q == 0 && (v != strings.TrimSpace(v) || v[0] == '"' || v[0] == '\'') {
		q = '"'
	}
	if q != 0 {
		if strings.IndexByte(v, q) >= 0 {
			return "", false
		}
		return string(q) + v + string(q), true
	}
	if strings.HasSuffix(v, `\`) {
		return "", false
	}
	return v, true
}

func (iniSyntax) escape(sc scalar, s string, _ dollars) (string, bool) {
	if !iniSafe(s) || (sc.quote != 0 && strings.IndexByte(s, sc.quote) >= 0) {
		return "", false
	}
	return s, true
}

// iniSafe reports whether s can sit in a one-line INI value without
// starting a comment or ending the line.
func iniSafe(s string) bool {
	return !strings.ContainsAny(s, "\n\r") && iniComment(s) < 0 && configPrintable(s)
}
