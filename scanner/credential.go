package scanner

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// connectionDetectors are the detectors whose value is a connection string
// (a URI, a JDBC URL, an LDAP bind) holding a user and a password. Their
// value is only a secret when the password is one, and several of them
// normalise it (a default port added, the path or query rewritten), so the
// password is what locates and replaces it.
var connectionDetectors = map[string]bool{
	"URI": true, "Postgres": true, "MongoDB": true, "Redis": true, "FTP": true,
	"JDBC": true, "LDAP": true, "SQLServer": true, "RabbitMQ": true, "Couchbase": true,
}

// IsConnection reports whether detector's values are connection strings
// whose secret part is a password (see Credential).
func IsConnection(detector string) bool { return connectionDetectors[detector] }

// Credential returns the user and password of a connection finding, as
// the detector decoded them; ok is false for other findings and for
// connection strings without a password.
func (f *Finding) Credential() (user, password Secret, ok bool) {
	if !IsConnection(f.Detector) {
		return Secret{}, Secret{}, false
	}
	u, pw, ok := credential(f.Detector, f.Secret.Reveal(), f.fullValue)
	if !ok || pw == "" {
		return Secret{}, Secret{}, false
	}
	return NewSecret(u), NewSecret(pw), true
}

var (
	// jdbcPassword is a password property: ?password=, ;password=, &pwd=.
	jdbcPassword = regexp.MustCompile(`(?i)[;&?:]\s*(?:password|pwd)\s*=\s*([^;&]*)`)
	jdbcUser     = regexp.MustCompile(`(?i)[;&?:]\s*(?:user|username|uid)\s*=\s*([^;&]*)`)
	// oracleUser is Oracle's thin form, jdbc:oracle:thin:user/password@host.
	oracleUser = regexp.MustCompile(`(?i)^jdbc:oracle:[a-z]+:([^/@:]+)/([^@]*)@`)
	// userInfo is the user:password@ of a URI that url.Parse refuses.
	userInfo = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://([^:@/\s]*):([^@\s]*)@`)
)

// credential extracts the user and password from a connection detector's
// raw value (raw) or its RawV2 (full); ok is false when it holds none.
func credential(detector, raw, full string) (user, password string, ok bool) {
	switch detector {
	case "LDAP":
		// TruffleHog's LDAP value is "url\tuser\tpassword".
		parts := strings.Split(raw, "\t")
		if len(parts) != 3 {
			return "", "", false
		}
		return parts[1], parts[2], true
	case "SQLServer":
		// Raw is the password; RawV2 the URL holding the user.
		user, _, _ := uriCredential(full)
		return user, raw, true
	case "JDBC":
		return jdbcCredential(raw)
	}
	return uriCredential(raw)
}

// uriCredential is the user:password of a URI, percent-decoded.
func uriCredential(s string) (user, password string, ok bool) {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		pw, ok := u.User.Password()
		return u.User.Username(), pw, ok
	}
	if m := userInfo.FindStringSubmatch(s); m != nil {
		return m[1], m[2], true
	}
	return "", "", false
}

// jdbcCredential reads the credential of a JDBC URL in its common forms:
// properties (?user=&password=, ;password=), user:password@ after "//",
// and Oracle's user/password@.
func jdbcCredential(s string) (user, password string, ok bool) {
	if m := oracleUser.FindStringSubmatch(s); m != nil {
		return m[1], m[2], true
	}
	if m := jdbcPassword.FindStringSubmatch(s); m != nil {
		if u := jdbcUser.FindStringSubmatch(s); u != nil {
			user = u[1]
		}
		return user, m[1], true
	}
	if i := strings.Index(s, "//"); i >= 0 {
		if user, password, ok = uriCredential("jdbc" + s[i:]); ok {
			return user, password, true
		}
	}
	return "", "", false
}

// spellings are the ways a decoded URI component may be written in a file:
// as is, and percent-encoded the ways URIs and queries encode it.
func spellings(s string) []string {
	out := []string{s}
	for _, e := range []string{url.PathEscape(s), url.QueryEscape(s), url.UserPassword("", s).String()[1:], userinfoEscape(s)} {
		if e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// userinfoEscape percent-encodes what RFC 3986 does not allow bare in a
// URI's userinfo, and nothing else: the spelling of a person who encoded
// the @ in "p@ss*" and left the * (Go's url package encodes both).
func userinfoEscape(s string) string {
	const bare = "-._~!$&'()*+,;="
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(bare, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// placeholderWords are passwords documentation writes where the real one
// goes, compared with case and punctuation removed.
var placeholderWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "pwd": true, "secret": true, "changeme": true,
	"changeit": true, "replaceme": true, "placeholder": true, "redacted": true, "example": true,
	"dummy": true, "todo": true, "tbd": true, "none": true, "null": true, "empty": true,
	"mypassword": true, "yourpassword": true, "dbpassword": true, "userpassword": true,
}

// placeholderPassword reports whether a connection string's password is
// no secret: empty, masked ("***", "xxxx"), a variable of a templating or
// configuration syntax ("$PASSWORD", "${DB_PASS}", "{{pwd}}", "%(pw)s",
// "<password>", "{password}"), or a stock word ("changeme",
// "YOUR_PASSWORD").
func placeholderPassword(pw string) bool {
	t := strings.TrimSpace(pw)
	low := strings.ToLower(t)
	return t == "" ||
		strings.Trim(strings.ReplaceAll(low, "%2a", "*"), "*x.•#?-_") == "" ||
		templateVariable(t) ||
		strings.HasPrefix(low, "your") || strings.HasPrefix(low, "<your") || strings.HasPrefix(low, "enter") || strings.HasPrefix(low, "insert") ||
		placeholderWords[alnumOnly(low)]
}

// templateVariable reports whether s is (or starts with) a variable of a
// templating or configuration syntax rather than a value: $NAME, ${…},
// $(…), {{…}}, %(…)s, %{…}, #{…}, <…>, {…}, [[…]].
func templateVariable(s string) bool {
	if strings.HasPrefix(s, "$") || strings.HasPrefix(s, "%(") || strings.HasPrefix(s, "%{") ||
		strings.HasPrefix(s, "#{") || strings.HasPrefix(s, "{{") || strings.HasPrefix(s, "[[") ||
		strings.HasPrefix(s, "%24") || strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
		return true
	}
	enclosed := func(open, close string) bool {
		return len(s) > len(open)+len(close) && strings.HasPrefix(s, open) && strings.HasSuffix(s, close)
	}
	return enclosed("<", ">") || enclosed("{", "}") || enclosed("%3C", "%3E") || strings.Contains(s, "{{")
}

func alnumOnly(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
