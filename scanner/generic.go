package scanner

import (
	"context"
	"path"
	"regexp"
	"strings"
	"unicode"

	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors"
	"github.com/trufflesecurity/trufflehog/v3/pkg/pb/detectorspb"
)

// GenericName is the generic detector's name as findings, allowlists and
// settings spell it. It is stable: allowlists and ledgers refer to it.
const GenericName = "Generic"

// GenericMode is what pushvault does with a generic secret.
type GenericMode string

const (
	// GenericReport finds and shows generic secrets (reports, check runs,
	// the hook's message) but neither vaults nor rewrites them: a name and
	// a value that merely look like a credential are a guess, and fixing a
	// wrong guess rewrites working configuration.
	GenericReport GenericMode = "report"
	// GenericFix treats generic secrets as any other finding: vaulted,
	// referenced by the fix.
	GenericFix GenericMode = "fix"
	// GenericOff does not run the generic detector.
	GenericOff GenericMode = "off"
)

// DefaultGenericMode is the mode without a setting; see the README's
// performance section for the measured precision it is chosen from.
const DefaultGenericMode = GenericReport

// ParseGenericMode checks a mode as written in a settings file or the
// server's configuration; "" is the default.
func ParseGenericMode(s string) (GenericMode, bool) {
	switch m := GenericMode(s); m {
	case "":
		return DefaultGenericMode, true
	case GenericReport, GenericFix, GenericOff:
		return m, true
	}
	return "", false
}

// Generic finds credentials that no pattern detector recognises by their
// format but whose name says what they are: `DB_PASSWORD=…`,
// `"apiSecret": "…"`, `password: …` in database.yml, `client_secret =
// "…"` in code. It reads line by line — the scanner sees the lines a
// commit adds, not whole files, so a format's parser would choke on the
// fragment — with one assignment grammar that covers key = value in
// dotenv, YAML, JSON, TOML, INI, properties and XML and string assignments
// in code. A candidate is reported when the name's words name a credential
// (see secretName), the value is a literal rather than a reference,
// placeholder or identifier (see credentialValue), and the file is not a
// test fixture, an example or documentation (see genericSkipsPath). A value
// a pattern detector also finds is that detector's finding (see
// aggregator.findings). Its Type is CustomRegex; it never verifies.
type Generic struct{}

var _ extraDetector = Generic{}

// Name implements extraDetector.
func (Generic) Name() string { return GenericName }

// Keywords implements detectors.Detector: the generic detector runs on
// every chunk (see engine.detect), so its keywords only document it.
func (Generic) Keywords() []string { return nil }

// Type implements detectors.Detector.
func (Generic) Type() detectorspb.DetectorType { return detectorspb.DetectorType_CustomRegex }

// Description implements detectors.Detector.
func (Generic) Description() string {
	return "Generic credential: a literal value assigned to a name that says it is a password, secret, token or key; no format-specific detector recognised it."
}

// FromData implements detectors.Detector for data whose format is not
// known (no path): values in code and config alike must be quoted.
func (g Generic) FromData(ctx context.Context, verify bool, data []byte) ([]detectors.Result, error) {
	return g.inFile("").FromData(ctx, verify, data)
}

// IsFalsePositive implements detectors.CustomFalsePositiveChecker.
// TruffleHog's default check drops every value holding an English word,
// which a password a person chose usually does ("Winter2024!");
// credentialValue has judged the value already, so only TruffleHog's
// short list of example values applies.
func (Generic) IsFalsePositive(res detectors.Result) (bool, string) {
	return detectors.IsKnownFalsePositive(string(res.Raw), detectors.DefaultFalsePositives, false)
}

// inFile returns the detector for data of the file at p, whose name says
// whether unquoted values are literals (config files) or expressions (code).
func (Generic) inFile(p string) genericInFile {
	return genericInFile{Generic: Generic{}, unquoted: unquotedValues(p)}
}

// genericInFile is the generic detector bound to one file's format.
type genericInFile struct {
	Generic
	unquoted bool // bare values are literals (dotenv, YAML, INI...), not expressions
}

var _ extraDetector = genericInFile{}

// FromData implements detectors.Detector.
func (g genericInFile) FromData(_ context.Context, _ bool, data []byte) ([]detectors.Result, error) {
	var out []detectors.Result
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		for _, c := range assignments(line, g.unquoted) {
			if seen[c.value] || !secretName(c.name) || !credentialValue(c.value, c.name) {
				continue
			}
			seen[c.value] = true
			out = append(out, detectors.Result{DetectorType: detectorspb.DetectorType_CustomRegex, DetectorName: GenericName, Raw: []byte(c.value)})
		}
	}
	return out, nil
}

// candidate is one name assigned one value on a line.
type candidate struct{ name, value string }

// maxGenericLine bounds the lines the grammar reads: minified bundles and
// data URIs are not where people assign passwords, and the regexes are
// linear but not free.
const maxGenericLine = 4096

// Name characters: letters, digits, '_', '-', '.', and ':' as .NET's
// configuration keys use it ("ConnectionStrings:Db").
const genericNameChars = `[A-Za-z_][A-Za-z0-9_.\-]*`

var (
	// A name, optionally quoted or in brackets (x["password"], $env:X,
	// export X, ENV X, :symbol), an assignment operator, then a quoted
	// value or the rest of the line. The operator's second character is
	// checked by hand: comparisons (==, !=) are not assignments.
	assignPat = regexp.MustCompile(`(?:^|[\s{(\[,;>&!@$:*-])(?:\$env:)?["'` + "`" + `]?(` + genericNameChars + `)["'` + "`" + `]?\]?\s*(:=|=>|\?\?=|\|\|=|=|:|\s)\s*(.*)$`)
	// Java/Kotlin/C#-style declarations with a type between name and
	// operator are matched by assignPat on the name nearest the operator.
	// Calls that pass a name and a value: put("password", "…"),
	// setenv("API_TOKEN", "…"), withCredentials("secret", "…").
	callPat = regexp.MustCompile(`\(\s*["'](` + genericNameChars + `)["']\s*,\s*(.*)$`)
	// XML elements: <password>…</password>.
	xmlElemPat = regexp.MustCompile(`<(` + genericNameChars + `)(?:\s[^>]*)?>([^<]+)</`)
	// XML key/value attribute pairs: <add key="DbPassword" value="…"/>,
	// <entry name="token" value="…"/>.
	xmlPairPat = regexp.MustCompile(`(?i)\b(?:key|name)\s*=\s*["'](` + genericNameChars + `)["']\s+value\s*=\s*(.*)$`)
)

// assignments returns the name/value pairs a line assigns. unquoted says
// whether a bare value is a literal (config files) or an expression (code,
// and text whose format is unknown).
func assignments(line string, unquoted bool) []candidate {
	if len(line) > maxGenericLine {
		return nil
	}
	var out []candidate
	add := func(name, rest string, bare bool) {
		if v, ok := literal(rest, bare); ok {
			out = append(out, candidate{name: name, value: v})
		}
	}
	for _, m := range xmlElemPat.FindAllStringSubmatch(line, -1) {
		add(m[1], m[2], true)
	}
	for _, m := range xmlPairPat.FindAllStringSubmatch(line, -1) {
		add(m[1], m[2], false)
	}
	for _, m := range callPat.FindAllStringSubmatch(line, -1) {
		add(m[1], m[2], false)
	}
	// Several assignments can share a line (JSON on one line, XML
	// attributes, `a=1; b=2`): after each match, go on after its name.
	for off := 0; off < len(line); {
		loc := assignPat.FindStringSubmatchIndex(line[off:])
		if loc == nil {
			break
		}
		name, op, rest := line[off+loc[2]:off+loc[3]], line[off+loc[4]:off+loc[5]], line[off+loc[6]:]
		if op == ":" {
			// A type annotation between name and value (TypeScript, Kotlin,
			// Scala, Swift, Python): `API_KEY: string = "…"`.
			if m := typeAnnotationPat.FindStringIndex(rest); m != nil {
				op, rest = "=", rest[m[1]:]
			}
		}
		if assignment(op, rest) && !inPlaceholder(line, off+loc[2]) {
			// A bare word after a space is an assignment only in config
			// formats that allow it (properties' "key value", Dockerfile's
			// ENV KEY value): elsewhere it is prose or code.
			spaceOp := strings.TrimSpace(op) == ""
			add(name, rest, unquoted && (!spaceOp || !strings.ContainsAny(rest, " \t")))
		}
		off += loc[3]
	}
	return out
}

// typeAnnotationPat is a type and the "=" after it.
var typeAnnotationPat = regexp.MustCompile(`^\s*[A-Za-z_][\w.]*(?:<[\w.,\s<>]*>|\[\])?\??\s*=\s*`)

// inPlaceholder reports whether the name at line[i:] is inside another
// syntax's placeholder — `${DB_PASSWORD:default}`, `{{ token }}`: what
// follows is that syntax's default or expression, which only the syntax's
// own tooling may read or rewrite.
func inPlaceholder(line string, i int) bool {
	before := strings.TrimRight(line[:i], " ")
	return strings.HasSuffix(before, "${") || strings.HasSuffix(before, "{{") || strings.HasSuffix(before, "#{") || strings.HasSuffix(before, "%{")
}

// assignment reports whether op followed by rest assigns: not a comparison
// (==, !=, =~), not a YAML key whose value follows on later lines, not a
// URL's scheme separator (https:).
func assignment(op, rest string) bool {
	switch {
	case op == "=" && (strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "~")):
		return false
	case op == ":" && strings.HasPrefix(rest, "/"):
		return false
	case op == "\t" || op == " ":
		// Whitespace as the operator is properties' and Dockerfile ENV's
		// form only; the value must follow at once.
		return rest != "" && !strings.HasPrefix(rest, "=") && !strings.HasPrefix(rest, ":")
	}
	return true
}

// literal returns the literal value at the start of rest: a quoted
// string's contents, or — when bare values are literals — the first word
// of an unquoted one, up to a comment or the end of the line. ok is false
// when rest starts with anything else: a variable, a call, an expression.
func literal(rest string, bare bool) (string, bool) {
	rest = strings.TrimSpace(rest)
	rest = strings.TrimPrefix(rest, "!!str ") // YAML's explicit string tag
	// String prefixes: Python's r"", b"", f"" (f-strings interpolate, but
	// a literal f-string without braces is still a literal), C#'s @"".
	if len(rest) > 2 && strings.ContainsRune("rbfuR@", rune(rest[0])) && strings.ContainsRune(`"'`, rune(rest[1])) {
		rest = rest[1:]
	}
	if rest == "" {
		return "", false
	}
	if q := rest[0]; q == '"' || q == '\'' || q == '`' {
		end := closingQuote(rest, q)
		if end < 0 {
			return "", false
		}
		return rest[1:end], true
	}
	if !bare {
		return "", false
	}
	v := rest
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimRight(v, ",;")
	return v, v != ""
}

// closingQuote returns the index of the quote closing the string opened at
// s[0], skipping backslash escapes; -1 when the line does not close it.
func closingQuote(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i
		}
	}
	return -1
}

// secretWords are the words that make a name a credential's. A word ending
// in one of them counts too ("dbpassword", "authtoken"). "key" counts only
// after a word that says whose or what key it is (keyQualifiers): a bare
// "key" is as often a map key or a translation key.
var secretWords = []string{"password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "apikey", "credential", "credentials", "auth"}

var keyQualifiers = map[string]bool{
	"api": true, "secret": true, "private": true, "access": true, "auth": true, "signing": true, "sign": true,
	"encryption": true, "encrypt": true, "master": true, "client": true, "app": true, "service": true,
	"session": true, "consumer": true, "shared": true, "hmac": true, "jwt": true, "cookie": true, "webhook": true,
}

// nonSecretWords name something about a credential, or next to one, that
// is not the credential: its length, where it is, what it is called, its
// id, its hash. A name with such a word after its last secret word
// ("password_length", "token_url", "secret_name", "key_file",
// "client_secret_id") is not a credential's.
var nonSecretWords = map[string]bool{
	"length": true, "len": true, "min": true, "max": true, "size": true, "count": true, "limit": true,
	"url": true, "uri": true, "urls": true, "endpoint": true, "host": true, "hostname": true, "port": true, "server": true, "domain": true,
	"name": true, "names": true, "file": true, "filename": true, "files": true, "path": true, "paths": true, "dir": true, "directory": true, "location": true,
	"id": true, "ids": true, "arn": true, "ref": true, "reference": true, "type": true, "kind": true, "mode": true,
	"expiry": true, "expires": true, "expiration": true, "expire": true, "ttl": true, "timeout": true, "lifetime": true, "age": true, "duration": true,
	"header": true, "field": true, "param": true, "parameter": true, "prefix": true, "suffix": true, "format": true, "pattern": true, "regex": true,
	"policy": true, "rules": true, "rule": true, "strength": true, "complexity": true, "validator": true, "validation": true,
	"hint": true, "label": true, "placeholder": true, "prompt": true, "message": true, "msg": true, "error": true, "text": true, "title": true, "description": true, "help": true,
	"hash": true, "hashed": true, "digest": true, "sha": true, "md": true, "checksum": true, "salt": true, "fingerprint": true,
	"env": true, "var": true, "variable": true, "enabled": true, "enable": true, "disabled": true, "required": true, "optional": true,
	"reset": true, "rotation": true, "version": true, "algorithm": true, "alg": true, "provider": true, "method": true, "store": true, "manager": true,
	"user": true, "username": true, "email": true, "login": true, "confirmation": true, "confirm": true, "input": true, "form": true, "button": true,
	"public": true, "pub": true, "source": true, "accessor": true, "vault": true, "engine": true, "mount": true, "template": true,
	"usage": true, "used": true, "set": true, "changed": true, "updated": true, "created": true, "at": true, "on": true, "date": true, "time": true,
}

// notCredentialQualifiers make the secret word after them something else:
// a pagination cursor, an anti-forgery token, a cancellation token, a
// public key.
var notCredentialQualifiers = map[string]bool{
	"page": true, "next": true, "continuation": true, "pagination": true, "cursor": true, "csrf": true, "xsrf": true,
	"cancellation": true, "cancel": true, "sync": true, "public": true, "pub": true, "lexer": true, "parser": true,
	"forgot": true, "forgotten": true, "reset": true, "verify": true, "old": true, "current": true, "new": true, "confirm": true,
	"no": true, "without": true, "show": true, "hide": true, "toggle": true, "has": true, "is": true, "use": true,
}

// secretName reports whether name says it holds a credential: it has a
// secret word that no disqualifying word precedes, and no word after the
// last such word names something other than the credential.
func secretName(name string) bool {
	words := nameWords(name)
	last := -1
	for i := range words {
		if isSecretWord(words, i) {
			last = i
		}
	}
	if last < 0 || last > 0 && notCredentialQualifiers[words[last-1]] {
		return false
	}
	for _, w := range words[last+1:] {
		if nonSecretWords[w] || nonSecretWords[strings.TrimRightFunc(w, unicode.IsDigit)] { // "token_sha256"
			return false
		}
	}
	return true
}

// isSecretWord reports whether words[i] makes the name a credential's.
func isSecretWord(words []string, i int) bool {
	w := strings.TrimRightFunc(words[i], unicode.IsDigit)
	if w == "key" || strings.HasSuffix(w, "key") && len(w) > 3 {
		// "api_key", "secretKey", "PRIVATE_KEY"; also "privatekey".
		if w == "key" {
			return i > 0 && keyQualifiers[words[i-1]]
		}
		for q := range keyQualifiers {
			if w == q+"key" {
				return true
			}
		}
		return false
	}
	for _, s := range secretWords {
		if w == s || len(w) > len(s)+1 && strings.HasSuffix(w, s) && s != "auth" && !notPassWords[w] {
			return true // "dbpassword", "authtoken", "smtppass"
		}
	}
	return false
}

// notPassWords end in "pass" without naming a password.
var notPassWords = map[string]bool{
	"bypass": true, "compass": true, "surpass": true, "overpass": true, "underpass": true, "trespass": true,
	"encompass": true, "impass": true, "multipass": true, "firstpass": true, "secondpass": true, "renderpass": true,
	"subpass": true, "onepass": true, "singlepass": true, "twopass": true,
}

// nameWords splits a name into lower-case words at '_', '-', '.', ':' and
// camel-case boundaries ("apiSecret", "APIKey", "DB_PASSWORD").
func nameWords(name string) []string {
	var words []string
	rs := []rune(name)
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, strings.ToLower(string(rs[start:end])))
		}
		start = -1
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			continue
		}
		if start >= 0 && unicode.IsUpper(r) {
			prevLower := unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])
			acronymEnd := unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || acronymEnd {
				flush(i)
			}
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(rs))
	return words
}

// placeholderPieces are pieces of a value that say it is an example or a
// stand-in, not a credential. Each is long or holds punctuation, so a
// random credential practically never contains one by chance.
var placeholderPieces = []string{
	"changeme", "change_me", "change-me", "changethis", "change_this", "replace", "example", "sample", "placeholder",
	"your_", "your-", "yourpass", "yoursecret", "yourtoken", "yourkey", "my_", "my-", "mypass", "mysecret", "mytoken",
	"xxxx", "***", "...", "redacted", "secret_here", "_here", "-here", "notasecret", "not_a_secret", "not-a-secret",
	"notreal", "not_real", "foobar", "lorem", "password", "passw0rd", "p@ssw0rd", "secret", "default", "sensitive",
	"undefined", "hidden", "masked", "insert", "<", ">", "{{", "}}", "%(", "%{",
}

// standinWords are stand-in words. Common enough in random text,
// they mark a value only as a whole run of letters ("test123",
// "fake-key-1", "DUMMY_TOKEN") or as its start ("testtoken1"): a random
// credential of 20 characters does either about once in 20,000 values.
var standinWords = map[string]bool{
	"test": true, "testing": true, "fake": true, "dummy": true, "todo": true, "fixme": true, "none": true, "null": true,
	"empty": true, "demo": true, "qwerty": true, "asdf": true, "abcd": true, "abcdef": true, "foobar": true,
	"enter": true, "your": true, "some": true, "random": true, "mock": true, "stub": true,
}

// placeholderValue reports whether v is an example or stand-in value.
func placeholderValue(v string) bool {
	lower := strings.ToLower(v)
	for _, m := range placeholderPieces {
		if strings.Contains(lower, m) {
			return true
		}
	}
	for w := range standinWords {
		if strings.HasPrefix(lower, w) {
			return true
		}
	}
	for _, run := range strings.FieldsFunc(lower, func(r rune) bool { return r < 'a' || r > 'z' }) {
		if standinWords[run] {
			return true
		}
	}
	return false
}

// referencePrefixes start values that point at a credential kept
// elsewhere, or that are a digest of one rather than the credential.
var referencePrefixes = []string{"sha1:", "sha256:", "sha512:", "md5:", "hmac-", "sha256-", "sha512-", "$", "{", "%", "#{", "@", "&", "*", "vault:", "ref+", "env:", "env.", "secret:", "secrets.", "arn:", "projects/", "sm://", "ssm:", "awssm:", "azkv:", "op://", "keyvault:", "file:", "!", "http://", "https://", "/", "./", "../", "~/", "classpath:"}

// credentialValue reports whether v looks like a credential rather than a
// reference, a placeholder, an identifier or a path, judged by its form:
// at least 8 characters, no whitespace, more than one character class and
// an entropy a word or name does not reach.
func credentialValue(v, name string) bool {
	if len(v) < 8 || len(v) > 512 || strings.ContainsAny(v, " \t\\") {
		return false
	}
	lower := strings.ToLower(v)
	for _, p := range referencePrefixes {
		if strings.HasPrefix(lower, p) {
			return false
		}
	}
	if placeholderValue(v) {
		return false
	}
	for _, w := range nameWords(name) {
		if len(w) >= 4 && strings.Contains(lower, w) {
			return false // "db_password: db_password_value", "token: API_TOKEN"
		}
	}
	if placeholder([]byte(v)) || looksLikeFile(lower) || looksLikeVersion(v) {
		return false
	}
	return randomEnough(v)
}

// randomEnough judges a value by its characters: a credential mixes
// character classes (letters and digits at least, "s3cr3tP4ss"), or is
// long letters-only text whose case changes like generated text does
// (generatedWord). Identifiers — lower-case words joined by '_', '-' or
// '.', or UPPER_CASE environment variable names — fall short.
func randomEnough(v string) bool {
	var lower, upper, digit, other int
	for _, r := range v {
		switch {
		case unicode.IsLower(r):
			lower++
		case unicode.IsUpper(r):
			upper++
		case unicode.IsDigit(r):
			digit++
		default:
			other++
		}
	}
	letters := lower + upper
	if letters == 0 || digit == len(v) || entropy(v) < 2.8 {
		return false // numbers, runs, repeated patterns
	}
	if digit == 0 {
		// Letters and separators only: an identifier, a word, or camel case
		// unless it looks generated.
		return generatedWord(strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) {
				return r
			}
			return -1
		}, v)) && len(v) >= 12
	}
	return true
}

// fileExtensions end values that name a file, not hold a credential.
var fileExtensions = []string{".pem", ".key", ".crt", ".cer", ".p12", ".pfx", ".jks", ".json", ".yml", ".yaml", ".txt", ".env", ".xml", ".conf", ".cfg", ".ini", ".properties", ".der", ".keystore", ".gpg", ".asc", ".pub", ".ppk"}

func looksLikeFile(lower string) bool {
	for _, e := range fileExtensions {
		if strings.HasSuffix(lower, e) {
			return true
		}
	}
	return false
}

var versionPat = regexp.MustCompile(`^v?\d+(\.\d+){1,3}([-+][0-9A-Za-z.\-]+)?$`)

// looksLikeVersion: "1.2.3", "v2.0.0-rc1".
func looksLikeVersion(v string) bool { return versionPat.MatchString(v) }

// genericSkipDirs are directories whose files hold fixtures, examples or
// documentation: secret-looking values there are planted on purpose.
var genericSkipDirs = map[string]bool{
	"test": true, "tests": true, "testdata": true, "__tests__": true, "spec": true, "specs": true, "fixtures": true, "fixture": true,
	"__fixtures__": true, "__mocks__": true, "mocks": true, "mock": true, "examples": true, "example": true, "samples": true, "sample": true,
	"docs": true, "doc": true, "e2e": true, "node_modules": true, "vendor": true, "third_party": true,
}

// genericSkipSuffixes end the names of test files, example and template
// configs, documentation and generated files.
var genericSkipSuffixes = []string{
	"_test.go", "_test.py", "_spec.rb", "_test.rb", ".test.js", ".test.ts", ".test.jsx", ".test.tsx", ".spec.js", ".spec.ts",
	"test.java", "tests.java", "test.kt", "tests.cs", "test.cs", "test.php",
	".example", ".sample", ".template", ".tmpl", ".tpl", ".dist", ".default", ".md", ".rst", ".adoc", ".markdown",
	".lock", "-lock.json", ".min.js", ".map", ".svg", "go.sum", ".snap",
}

// genericSkipsPath reports whether the generic detector leaves the file at
// p alone: a test, a fixture, an example or template, documentation or a
// generated file. Pattern detectors still scan it.
func genericSkipsPath(p string) bool {
	lower := strings.ToLower(p)
	dirs := strings.Split(lower, "/")
	for _, d := range dirs[:len(dirs)-1] {
		if genericSkipDirs[d] {
			return true
		}
	}
	base := dirs[len(dirs)-1]
	if strings.HasPrefix(base, "test_") || strings.Contains(base, ".example.") || strings.Contains(base, ".sample.") {
		return true
	}
	for _, s := range genericSkipSuffixes {
		if strings.HasSuffix(base, s) {
			return true
		}
	}
	return false
}

// unquotedExtensions are config formats whose bare values are literals.
var unquotedExtensions = map[string]bool{
	".env": true, ".yml": true, ".yaml": true, ".properties": true, ".ini": true, ".cfg": true, ".conf": true, ".cnf": true,
	".toml": true, ".xml": true, ".config": true, ".plist": true, ".npmrc": true, ".pypirc": true, ".netrc": true,
}

// unquotedValues reports whether bare values in the file at p are literals:
// config formats, dotenv files (".env", ".env.production", "prod.env"),
// Dockerfiles; not code, where a bare value is an expression.
func unquotedValues(p string) bool {
	base := strings.ToLower(path.Base(p))
	if strings.HasPrefix(base, ".env") || strings.HasPrefix(base, "dockerfile") || base == "containerfile" {
		return true
	}
	return unquotedExtensions[path.Ext(base)]
}
