package rewrite

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// tomlSyntax is TOML, parsed with github.com/BurntSushi/toml. The parser
// has no value positions, so a hand-written scanner (tomlScanner) finds the
// strings, and every edited value is read back with the parser.
type tomlSyntax struct{}

// TOML string kinds, as scalar.style.
const (
	tomlBasic = iota
	tomlLiteral
	tomlMultiBasic
	tomlMultiLiteral
)

func (tomlSyntax) name() string { return "TOML" }

func (tomlSyntax) parse(content []byte) error {
	var v map[string]any
	_, err := toml.Decode(string(content), &v)
	return err
}

func (tomlSyntax) scalars(content []byte) ([]scalar, error) {
	s := &tomlScanner{src: string(content), arrays: map[string]int{}}
	if err := s.document(); err != nil {
		return nil, err
	}
	return s.out, nil
}

func (tomlSyntax) checkValue(content []byte, sc scalar, want string) bool {
	var v any
	m := map[string]any{}
	if _, err := toml.Decode(string(content), &m); err != nil {
		return false
	}
	v = m
	for _, p := range sc.path {
		switch t := v.(type) {
		case map[string]any:
			if p.key == "" {
				return false
			}
			v = t[p.key]
		case []map[string]any:
			if p.key != "" || p.index >= len(t) {
				return false
			}
			v = t[p.index]
		case []any:
			if p.key != "" || p.index >= len(t) {
				return false
			}
			v = t[p.index]
		default:
			return false
		}
	}
	got, ok := v.(string)
	return ok && got == want
}

func (tomlSyntax) render(sc scalar, v string, _ dollars) (string, bool) {
	if sc.style == tomlLiteral && !strings.ContainsAny(v, "'\n\r") && configPrintable(v) {
		return "'" + v + "'", true
	}
	return `"` + tomlEscape(v) + `"`, true
}

func (tomlSyntax) escape(sc scalar, s string, _ dollars) (string, bool) {
	switch sc.style {
	case tomlLiteral:
		if strings.ContainsAny(s, "'\n\r") || !configPrintable(s) {
			return "", false
		}
		return s, true
	case tomlMultiLiteral:
		if strings.Contains(s, "'''") || !configPrintable(s) {
			return "", false
		}
		return s, true
	}
	return tomlEscape(s), true
}

func tomlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tomlScanner walks a TOML document that the parser accepted, recording
// each string value with its span, decoded value, key and path.
type tomlScanner struct {
	src    string
	i      int
	out    []scalar
	table  []pathElem     // current table
	arrays map[string]int // array-of-tables path -> entries so far, to resolve nested headers
}

var errTOMLScan = errors.New("toml: unexpected text")

func (s *tomlScanner) document() error {
	for {
		s.skipSpace(true)
		if s.i >= len(s.src) {
			return nil
		}
		if s.src[s.i] == '[' {
			if err := s.header(); err != nil {
				return err
			}
			continue
		}
		keys, err := s.keys()
		if err != nil {
			return err
		}
		if !s.eat('=') {
			return errTOMLScan
		}
		path := append(append([]pathElem{}, s.table...), keys...)
		if err := s.value(path, keys[len(keys)-1].key); err != nil {
			return err
		}
	}
}

// header reads [table] or [[array.of.tables]].
func (s *tomlScanner) header() error {
	array := strings.HasPrefix(s.src[s.i:], "[[")
	if array {
		s.i += 2
	} else {
		s.i++
	}
	keys, err := s.keys()
	if err != nil {
		return err
	}
	s.skipSpace(false)
	if array && !strings.HasPrefix(s.src[s.i:], "]]") || !array && !strings.HasPrefix(s.src[s.i:], "]") {
		return errTOMLScan
	}
	if array {
		s.i += 2
	} else {
		s.i++
	}
	// Resolve the header against the arrays of tables opened so far:
	// [[a]] then [a.b] means a[last].b.
	var path []pathElem
	for j, k := range keys {
		path = append(path, k)
		if array && j == len(keys)-1 {
			break
		}
		if n, ok := s.arrays[tomlPathString(path)]; ok {
			path = append(path, indexElem(n-1))
		}
	}
	if array {
		ps := tomlPathString(path)
		n := s.arrays[ps]
		s.arrays[ps] = n + 1
		path = append(path, indexElem(n))
	}
	s.table = path
	return nil
}

func tomlPathString(p []pathElem) string {
	var b strings.Builder
	for _, e := range p {
		if e.key == "" {
			fmt.Fprintf(&b, "[%d]", e.index)
		} else {
			b.WriteString(strconv.Quote(e.key) + ".")
		}
	}
	return b.String()
}

// keys reads a dotted key.
func (s *tomlScanner) keys() ([]pathElem, error) {
	var out []pathElem
	for {
		s.skipSpace(false)
		if s.i >= len(s.src) {
			return nil, errTOMLScan
		}
		switch c := s.src[s.i]; {
		case c == '"' || c == '\'':
			sc, err := s.str()
			if err != nil {
				return nil, err
			}
			out = append(out, keyElem(sc.value))
		default:
			j := s.i
			for j < len(s.src) && isTOMLBare(s.src[j]) {
				j++
			}
			if j == s.i {
				return nil, errTOMLScan
			}
			out = append(out, keyElem(s.src[s.i:j]))
			s.i = j
		}
		s.skipSpace(false)
		if !s.eat('.') {
			return out, nil
		}
	}
}

func isTOMLBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// value reads one value at path; key is the innermost key naming it.
func (s *tomlScanner) value(path []pathElem, key string) error {
	s.skipSpace(false)
	if s.i >= len(s.src) {
		return errTOMLScan
	}
	switch s.src[s.i] {
	case '"', '\'':
		sc, err := s.str()
		if err != nil {
			return err
		}
		sc.key = key
		sc.path = append([]pathElem{}, path...)
		s.out = append(s.out, sc)
	case '[':
		s.i++
		for n := 0; ; n++ {
			s.skipSpace(true)
			if s.eat(']') {
				return nil
			}
			if err := s.value(append(append([]pathElem{}, path...), indexElem(n)), key); err != nil {
				return err
			}
			s.skipSpace(true)
			if s.eat(']') {
				return nil
			}
			if !s.eat(',') {
				return errTOMLScan
			}
		}
	case '{':
		s.i++
		for {
			s.skipSpace(true)
			if s.eat('}') {
				return nil
			}
			keys, err := s.keys()
			if err != nil {
				return err
			}
			if !s.eat('=') {
				return errTOMLScan
			}
			if err := s.value(append(append([]pathElem{}, path...), keys...), keys[len(keys)-1].key); err != nil {
				return err
			}
			s.skipSpace(true)
			if s.eat('}') {
				return nil
			}
			if !s.eat(',') {
				return errTOMLScan
			}
		}
	default:
		// number, boolean, date-time ("1979-05-27 07:32:00" has a space)
		j := s.i
		for j < len(s.src) && !strings.ContainsRune(" \t\r\n,]}#", rune(s.src[j])) {
			j++
		}
		if j == s.i {
			return errTOMLScan
		}
		if j-s.i == 10 && s.src[s.i+4] == '-' && j+1 < len(s.src) && s.src[j] == ' ' && s.src[j+1] >= '0' && s.src[j+1] <= '9' {
			j++
			for j < len(s.src) && !strings.ContainsRune(" \t\r\n,]}#", rune(s.src[j])) {
				j++
			}
		}
		s.i = j
	}
	return nil
}

// str reads a string of any of the four kinds at s.i.
func (s *tomlScanner) str() (scalar, error) {
	start := s.i
	src := s.src
	switch {
	case strings.HasPrefix(src[s.i:], `"""`), strings.HasPrefix(src[s.i:], `'''`):
		q := src[s.i : s.i+3]
		j := s.i + 3
		for {
			k := strings.Index(src[j:], q)
			if k < 0 {
				return scalar{}, errTOMLScan
			}
			if q == `"""` && tomlEscaped(src, j+k) {
				j += k + 1
				continue
			}
			j += k + 3
			// up to two more quotes belong to the content
			for n := 0; n < 2 && j < len(src) && src[j] == q[0]; n++ {
				j++
			}
			break
		}
		// a newline right after the opening quotes is not content
		body := src[s.i+3 : j-3]
		if strings.HasPrefix(body, "\r\n") {
			body = body[2:]
		} else if strings.HasPrefix(body, "\n") {
			body = body[1:]
		}
		s.i = j
		if q == `'''` {
			return scalar{start: start, end: j, value: body, style: tomlMultiLiteral}, nil
		}
		v, err := tomlUnescape(body, true)
		return scalar{start: start, end: j, value: v, style: tomlMultiBasic}, err
	case src[s.i] == '\'':
		k := strings.IndexByte(src[s.i+1:], '\'')
		if k < 0 {
			return scalar{}, errTOMLScan
		}
		end := s.i + 1 + k + 1
		v := src[s.i+1 : end-1]
		s.i = end
		return scalar{start: start, end: end, value: v, style: tomlLiteral}, nil
	default:
		j := s.i + 1
		for j < len(src) && src[j] != '"' {
			if src[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(src) {
			return scalar{}, errTOMLScan
		}
		v, err := tomlUnescape(src[s.i+1:j], false)
		s.i = j + 1
		return scalar{start: start, end: j + 1, value: v, style: tomlBasic}, err
	}
}

// tomlEscaped reports whether the quote at i is escaped by a backslash.
func tomlEscaped(src string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && src[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// tomlUnescape decodes a basic string's body; in a multi-line one, a
// backslash at the end of a line trims the newline and the whitespace after.
func tomlUnescape(s string, multi bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", errTOMLScan
		}
		switch s[i] {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case 'e':
			b.WriteByte(0x1b)
		case '"', '\\':
			b.WriteByte(s[i])
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
			if i+1+n > len(s) {
				return "", errTOMLScan
			}
			r, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil || !utf8.ValidRune(rune(r)) {
				return "", errTOMLScan
			}
			b.WriteRune(rune(r))
			i += n
		default:
			if !multi {
				return "", errTOMLScan
			}
			// line-ending backslash
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j >= len(s) || (s[j] != '\n' && s[j] != '\r') {
				return "", errTOMLScan
			}
			for j < len(s) && strings.ContainsRune(" \t\r\n", rune(s[j])) {
				j++
			}
			i = j - 1
		}
	}
	return b.String(), nil
}

func (s *tomlScanner) eat(c byte) bool {
	if s.i < len(s.src) && s.src[s.i] == c {
		s.i++
		return true
	}
	return false
}

// skipSpace skips blanks and comments, and newlines too when nl is set.
func (s *tomlScanner) skipSpace(nl bool) {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t':
			s.i++
		case c == '\r' || c == '\n':
			if !nl {
				return
			}
			s.i++
		case c == '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}
