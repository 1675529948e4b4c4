package contract

import (
	"errors"
	"net/url"
	"strings"
)

// validateURI checks the "uri" format of the REST description: an absolute
// URI (RFC 3986 section 4.3), as the webhook validator asserts too.
// kin-openapi leaves "uri" unchecked unless told, which would let a stand-in
// send "annotations_url": "annotations" unnoticed.
func validateURI(s string) error {
	if strings.ContainsAny(s, " \t\n\"<>\\^`{|}") {
		return errors.New("character not allowed in a URI")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URI")
	}
	if !u.IsAbs() {
		return errors.New("not an absolute URI")
	}
	return nil
}

// validateURITemplate checks RFC 6570 URI template syntax. It replaces
// jsonschema/v6's "uri-template" check, which splits the template at
// slashes before matching braces and so rejects the path-segment expansion
// "{/var}" that every GitHub resource uses ("keys_url":
// "https://api.github.com/repos/o/r/keys{/key_id}").
func validateURITemplate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	for len(s) > 0 {
		open := strings.IndexAny(s, "{}")
		if open < 0 {
			return checkLiterals(s)
		}
		if err := checkLiterals(s[:open]); err != nil {
			return err
		}
		if s[open] == '}' {
			return errors.New("closing brace without an opening one")
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return errors.New("expression without a closing brace")
		}
		if err := checkExpression(s[open+1 : open+end]); err != nil {
			return err
		}
		s = s[open+end+1:]
	}
	return nil
}

// checkLiterals rejects the characters RFC 6570 section 2.1 excludes from
// literals.
func checkLiterals(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || strings.IndexByte("\"'<>\\^`{|}", c) >= 0 || c == 0x7f {
			return errors.New("character not allowed in a template literal")
		}
		if c == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return errors.New("bad percent-encoding in a template literal")
		}
	}
	return nil
}

// checkExpression checks the inside of {...}: an optional operator, then
// comma-separated varspecs, each a varname with an optional prefix (":N",
// N of 1 to 4 digits) or explode ("*") modifier.
func checkExpression(e string) error {
	if e != "" && strings.IndexByte("+#./;?&=,!@|", e[0]) >= 0 {
		e = e[1:]
	}
	if e == "" {
		return errors.New("empty expression")
	}
	for _, spec := range strings.Split(e, ",") {
		name, mod := spec, ""
		if i := strings.IndexAny(spec, ":*"); i >= 0 {
			name, mod = spec[:i], spec[i:]
		}
		if !validVarname(name) {
			return errors.New("bad variable name in an expression")
		}
		switch {
		case mod == "", mod == "*":
		case mod[0] == ':' && len(mod) >= 2 && len(mod) <= 5 && mod[1] != '0' && allDigits(mod[1:]):
		default:
			return errors.New("bad modifier in an expression")
		}
	}
	return nil
}

func validVarname(n string) bool {
	if n == "" || n[0] == '.' || n[len(n)-1] == '.' || strings.Contains(n, "..") {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.':
		case c == '%' && i+2 < len(n) && isHex(n[i+1]) && isHex(n[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
