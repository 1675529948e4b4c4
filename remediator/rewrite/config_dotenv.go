package rewrite

import (
	"errors"
	"strings"

	"github.com/joho/godotenv"
)

// dotenvSyntax is a dotenv file (.env, .env.*, *.env), parsed with
// github.com/joho/godotenv, the Go port of Ruby's dotenv: KEY=value or
// KEY: value, optional "export ", '#' comments, single-quoted (literal),
// double-quoted (\n, \r and \" escapes; may span lines) and unquoted values
// (an inline comment needs a blank before '#'). A hand-written scanner
// following that parser finds the values; it does not expand ${VAR}, so a
// value reads back as written.
type dotenvSyntax struct{}

// dotenv value styles, as scalar.style.
const (
	dotenvBare = iota
	dotenvSingle
	dotenvDouble
)

func (dotenvSyntax) name() string { return "dotenv" }

func (dotenvSyntax) parse(content []byte) error {
	_, err := godotenv.UnmarshalBytes(content)
	return err
}

// checkValue reads the value back with godotenv. godotenv expands ${VAR},
// so a value holding '$' is left to the scanner's reading.
func (dotenvSyntax) checkValue(content []byte, sc scalar, want string) bool {
	m, err := godotenv.UnmarshalBytes(content)
	if err != nil {
		return false
	}
	return strings.Contains(want, "$") || m[sc.key] == want
}

func (dotenvSyntax) scalars(content []byte) ([]scalar, error) {
	src := string(content)
	var out []scalar
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' }
	i := 0
	for i < len(src) {
		// statement start: skip blanks and comment lines
		if isSpace(src[i]) || src[i] == '\n' {
			i++
			continue
		}
		if src[i] == '#' {
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		}
		if strings.HasPrefix(src[i:], "export") && i+6 < len(src) && isSpace(src[i+6]) {
			i += 6
			for i < len(src) && isSpace(src[i]) {
				i++
			}
		}
		ks := i
		for i < len(src) && src[i] != '=' && src[i] != ':' && src[i] != '\n' {
			i++
		}
		if i >= len(src) || src[i] == '\n' {
			return nil, errDotenvScan
		}
		key := strings.TrimSpace(src[ks:i])
		i++
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			break
		}
		switch q := src[i]; q {
		case '"', '\'':
			j := i + 1
			for j < len(src) && (src[j] != q || src[j-1] == '\\') {
				j++
			}
			if j >= len(src) {
				return nil, errDotenvScan
			}
			sc := scalar{start: i, end: j + 1, key: key, value: src[i+1 : j], style: dotenvSingle}
			if q == '"' {
				sc.style = dotenvDouble
				sc.value = dotenvUnescape(sc.value)
			}
			sc.value = strings.ReplaceAll(sc.value, "\r\n", "\n")
			out = append(out, sc)
			i = j + 1
			for i < len(src) && src[i] != '\n' {
				i++
			}
		default:
			j := i
			for j < len(src) && src[j] != '\n' && src[j] != '\r' {
				j++
			}
			line := src[i:j]
			// the last '#' after a blank starts a comment
			for k := len(line) - 1; k > 0; k-- {
				if line[k] == '#' && isSpace(line[k-1]) {
					line = line[:k]
					break
				}
			}
			v := strings.TrimRight(line, " \t\v\f\r")
			if v != "" {
				out = append(out, scalar{start: i, end: i + len(v), key: key, value: strings.ReplaceAll(v, `\$`, "$"), style: dotenvBare})
			}
			i = j
		}
	}
	return out, nil
}

var errDotenvScan = errors.New("dotenv: unexpected text")

// dotenvUnescape decodes a double-quoted value as godotenv does, without
// expanding variables (so "\$" is a plain "$").
func dotenvUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func (dotenvSyntax) render(sc scalar, v string, _ dollars) (string, bool) {
	switch sc.style {
	case dotenvBare:
		if dotenvBareOK(v) {
			return v, true
		}
	case dotenvSingle:
		if !strings.ContainsAny(v, "'\n\r") && configPrintable(v) {
			return "'" + v + "'", true
		}
	}
	if strings.HasSuffix(v, `\`) || !configPrintable(v) {
		return "", false
	}
	return `"` + dotenvEscape(v) + `"`, true
}

func (dotenvSyntax) escape(sc scalar, s string, _ dollars) (string, bool) {
	switch sc.style {
	case dotenvBare:
		if strings.ContainsAny(s, " \t\n\r\"'\\") {
			return "", false
		}
		return s, true
	case dotenvSingle:
		if strings.ContainsAny(s, "'") {
			return "", false
		}
		return s, true
	}
	return dotenvEscape(s), true
}

func dotenvBareOK(v string) bool {
	return v != "" && !strings.ContainsAny(v, " \t\n\r\\") && !strings.ContainsRune(`"'#`, rune(v[0])) && configPrintable(v)
}

func dotenvEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`).Replace(s)
}
