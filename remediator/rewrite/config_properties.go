package rewrite

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/magiconair/properties"
)

// propertiesSyntax is Java .properties, parsed with
// github.com/magiconair/properties (UTF-8, no ${...} expansion: Spring-style
// placeholders, which the env style writes, are the application's to
// resolve). A hand-written scanner following that parser's lexer finds the
// values, continuation lines included; edited values are read back with the
// parser.
type propertiesSyntax struct{}

var propertiesLoader = properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}

func (propertiesSyntax) name() string { return "Java properties" }

func (propertiesSyntax) parse(content []byte) error {
	_, err := propertiesLoader.LoadBytes(content)
	return err
}

func (propertiesSyntax) checkValue(content []byte, sc scalar, want string) bool {
	p, err := propertiesLoader.LoadBytes(content)
	if err != nil || len(sc.path) != 1 {
		return false
	}
	got, ok := p.Get(sc.path[0].key)
	return ok && got == want
}

func (propertiesSyntax) scalars(content []byte) ([]scalar, error) {
	src := string(content)
	var out []scalar
	isEOL := func(c byte) bool { return c == '\n' || c == '\r' }
	isWS := func(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case isEOL(c) || isWS(c):
			i++
			continue
		case c == '#' || c == '!':
			for i < len(src) && !isEOL(src[i]) {
				i++
			}
			continue
		}
		// key
		var key strings.Builder
		for i < len(src) && !strings.ContainsRune(" \f\t\r\n:=", rune(src[i])) {
			if src[i] == '\\' {
				r, n := propUnescape(src, i)
				if n == 0 {
					return nil, errPropScan
				}
				key.WriteString(r)
				i += n
				continue
			}
			key.WriteByte(src[i])
			i++
		}
		for i < len(src) && isWS(src[i]) {
			i++
		}
		if i < len(src) && (src[i] == ':' || src[i] == '=') {
			i++
		}
		for i < len(src) && isWS(src[i]) {
			i++
		}
		// value, up to an unescaped end of line
		start := i
		var val strings.Builder
		for i < len(src) && !isEOL(src[i]) {
			if src[i] != '\\' {
				val.WriteByte(src[i])
				i++
				continue
			}
			if i+1 < len(src) && isEOL(src[i+1]) {
				i += 2
				for i < len(src) && isWS(src[i]) {
					i++
				}
				continue
			}
			r, n := propUnescape(src, i)
			if n == 0 {
				return nil, errPropScan
			}
			val.WriteString(r)
			i += n
		}
		if i > start {
			out = append(out, scalar{start: start, end: i, value: val.String(), key: key.String(),
				path: []pathElem{keyElem(key.String())}})
		}
	}
	return out, nil
}

var errPropScan = errors.New("properties: bad escape")

// propUnescape decodes the escape at src[i] ('\\'), returning the text and
// the bytes used (0 for a bad escape).
func propUnescape(src string, i int) (string, int) {
	if i+1 >= len(src) {
		return "", 0
	}
	switch c := src[i+1]; c {
	case 'f':
		return "\f", 2
	case 'n':
		return "\n", 2
	case 'r':
		return "\r", 2
	case 't':
		return "\t", 2
	case 'u':
		if i+6 > len(src) {
			return "", 0
		}
		r, err := strconv.ParseUint(src[i+2:i+6], 16, 32)
		if err != nil {
			return "", 0
		}
		return string(rune(r)), 6
	default:
		_, n := utf8.DecodeRuneInString(src[i+1:])
		return src[i+1 : i+1+n], 1 + n
	}
}

func (propertiesSyntax) render(_ scalar, v string, _ dollars) (string, bool) {
	// leading blanks would be taken for part of the separator
	if v == "" || strings.TrimLeft(v, " \t\f") != v || !configPrintable(v) {
		return "", false
	}
	return propEscape(v), true
}

func (propertiesSyntax) escape(_ scalar, s string, _ dollars) (string, bool) {
	return propEscape(s), configPrintable(s)
}

func propEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\f", `\f`)
	return r.Replace(s)
}
