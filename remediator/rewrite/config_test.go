package rewrite

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/golden"
)

// Fake secrets, built here: random-looking, stable from run to run (the
// golden files depend on it), and never real.

const fakeAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func fakeChars(seed string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		h := sha256.Sum256([]byte(seed + string(rune('a'+i))))
		for _, c := range h {
			if b.Len() < n {
				b.WriteByte(fakeAlnum[int(c)%len(fakeAlnum)])
			}
		}
	}
	return b.String()
}

// fakeToken looks like a Stripe live key: "sk_live_" and 24 alphanumerics.
func fakeToken(seed string) string { return "sk_live_" + fakeChars(seed, 24) }

// fakePassword is a 20-character password, as found inside a database URL.
func fakePassword(seed string) string { return fakeChars(seed, 20) }

// fakePEM is shaped like an RSA private key: armor and 64-column lines.
func fakePEM(seed string) string {
	body := fakeChars(seed, 64*4+24)
	lines := []string{"-----BEGIN RSA PRIVATE KEY-----"}
	for len(body) > 64 {
		lines = append(lines, body[:64])
		body = body[64:]
	}
	lines = append(lines, body, "-----END RSA PRIVATE KEY-----")
	return strings.Join(lines, "\n")
}

// indentLines indents every line of s but the first by pad.
func indentLines(s, pad string) string { return strings.ReplaceAll(s, "\n", "\n"+pad) }

var (
	stripeRef = Ref{Mount: "secret", Path: "pushvault/acme/shop/stripe_api_key", Key: "value"}
	dbRef     = Ref{Mount: "secret", Path: "pushvault/acme/shop/database_url", Key: "password"}
	tlsRef    = Ref{Mount: "secret", Path: "pushvault/acme/shop/tls_key", Key: "value"}
	githubRef = Ref{Mount: "secret", Path: "pushvault/acme/shop/github_token", Key: "value"}
)

func stripeRep(line int, lit string) Replacement {
	return Replacement{Line: line, Literal: lit, EnvName: "STRIPE_API_KEY", Ref: stripeRef}
}

func dbRep(line int, lit string) Replacement {
	return Replacement{Line: line, Literal: lit, EnvName: "DATABASE_PASSWORD", Ref: dbRef}
}

func tlsRep(line int, lit string) Replacement {
	return Replacement{Line: line, Literal: lit, EnvName: "TLS_KEY", Ref: tlsRef}
}

func githubRep(line int, lit string) Replacement {
	return Replacement{Line: line, Literal: lit, EnvName: "GITHUB_TOKEN", Ref: githubRef}
}

// configCase is one Apply of a config file, compared with a golden file:
// the rewritten file, or for an UnsafeError its message and manual step.
type configCase struct {
	name    string
	path    string
	content string
	reps    []Replacement
	style   Style
	golden  string // under testdata/golden/rewrite/config/
	wantErr bool
	// toolEnv: the file's tool expands variables itself (.npmrc,
	// settings.xml), so every reference is mapped in vault.env.
	toolEnv bool
	// want maps a key path to the value the format's own parser must read
	// from the result (checked with get).
	want map[string]string
}

// valueGetter reads the value at a dotted key path with a format's parser.
type valueGetter func(content []byte, path string) (string, error)

func runConfigCases(t *testing.T, get valueGetter, cases []configCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Apply(tc.path, []byte(tc.content), tc.reps, Options{Style: tc.style})
			if tc.wantErr {
				var ue *UnsafeError
				if !errors.As(err, &ue) {
					t.Fatalf("Apply = %v, want an *UnsafeError", err)
				}
				if res != nil {
					t.Errorf("Apply returned content with an error")
				}
				msg := ue.Error() + "\nmanual: " + ue.Manual + "\n"
				assertNoSecret(t, "the error", msg, tc.reps)
				golden.Assert(t, "rewrite/config/"+tc.golden, msg)
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			out := string(res.Content)
			assertNoSecret(t, "the rewritten file", out, tc.reps)
			golden.Assert(t, "rewrite/config/"+tc.golden, out)

			var wantEnv map[string]string
			if tc.style == StyleEnv || tc.toolEnv {
				wantEnv = map[string]string{}
				for _, r := range tc.reps {
					wantEnv[r.EnvName] = r.Ref.Vault()
				}
			}
			if diff := cmp.Diff(wantEnv, res.Env); diff != "" {
				t.Errorf("Env (-want +got):\n%s", diff)
			}
			for path, want := range tc.want {
				got, err := get(res.Content, path)
				if err != nil {
					t.Errorf("reading %s back: %v", path, err)
					continue
				}
				if got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
		})
	}
}

// assertNoSecret fails if s holds a literal, or any line of a multi-line
// literal other than PEM armor.
func assertNoSecret(t *testing.T, what, s string, reps []Replacement) {
	t.Helper()
	for _, r := range reps {
		for _, v := range literalVariants(r.Literal) {
			if v != "" && strings.Contains(s, v) {
				t.Errorf("%s holds a secret", what)
			}
			for _, l := range strings.Split(v, "\n") {
				if len(l) >= 16 && !strings.HasPrefix(l, "-----") && strings.Contains(s, l) {
					t.Errorf("%s holds a line of a secret", what)
				}
			}
		}
	}
}

// identCase is one identifier lookup.
type identCase struct {
	name    string
	path    string
	content string
	line    int
	literal string
	want    string // raw, as the file spells it
}

func runIdentCases(t *testing.T, cases []identCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := configFormat(tc.path)
			if f == nil {
				t.Fatalf("no config format for %s", tc.path)
			}
			if got := f.identifier([]byte(tc.content), tc.line, tc.literal); got != tc.want {
				t.Errorf("identifier = %q, want %q", got, tc.want)
			}
			if got, want := Identifier(tc.path, []byte(tc.content), tc.line, tc.literal), Normalize(tc.want); got != want {
				t.Errorf("Identifier = %q, want %q", got, want)
			}
		})
	}
}

func TestConfigFormatChoosesByFileName(t *testing.T) {
	cases := []struct {
		path string
		want string // format name, "" for none
	}{
		{".env", "dotenv"},
		{"deploy/.env.production", "dotenv"},
		{"config/app.env", "dotenv"},
		{"vault.env", "dotenv"},
		{"Dockerfile", "Dockerfile"},
		{"build/Dockerfile.prod", "Dockerfile"},
		{"api.dockerfile", "Dockerfile"},
		{"docker-compose.yml", "YAML"},
		{"docker-compose.override.yaml", "YAML"},
		{"compose.yaml", "YAML"},
		{"k8s/secret.yaml", "YAML"},
		{".github/workflows/ci.yml", "YAML"},
		{"package.json", "JSON"},
		{"infra/main.tf.json", "JSON"},
		{"pyproject.toml", "TOML"},
		{"setup.cfg", "INI"},
		{"php.ini", "INI"},
		{"etc/app.conf", "INI"},
		{"src/main/resources/application.properties", "Java properties"},
		{"pom.xml", "XML"},
		{"Web.config", "XML"},
		{"infra/main.tf", "HCL"},
		{"prod.tfvars", "HCL"},
		{"vault/policy.hcl", "HCL"},
		{"main.go", ""},
		{"README.md", ""},
		{"environment.py", ""},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			f := configFormat(tc.path)
			got := ""
			if f != nil {
				got = f.name()
			}
			if got != tc.want {
				t.Errorf("configFormat(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
	if f, ok := configFormat("docker-compose.yml").(*configFile); !ok || !f.syntax.(yamlSyntax).compose {
		t.Errorf("docker-compose.yml is not read as a compose file")
	}
}

// TestConfigRefusals covers the checks every format shares, on YAML.
func TestConfigRefusals(t *testing.T) {
	tok := fakeToken("refusals")
	other := fakeToken("refusals-other")
	cases := []configCase{
		{
			name:    "secret also in a comment",
			path:    "config/app.yaml",
			content: "# old key: " + tok + "\nstripe:\n  api_key: " + tok + "\n",
			reps:    []Replacement{stripeRep(3, tok)},
			golden:  "refuse_secret_in_comment.txt",
			wantErr: true,
		},
		{
			name:    "secret only in a key",
			path:    "config/app.yaml",
			content: "keys:\n  " + tok + ": stripe\n",
			reps:    []Replacement{stripeRep(2, tok)},
			golden:  "refuse_secret_in_key.txt",
			wantErr: true,
		},
		{
			name:    "secret far from the reported line",
			path:    "config/app.yaml",
			content: "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\nstripe: " + tok + "\n",
			reps:    []Replacement{stripeRep(1, tok)},
			golden:  "refuse_far_from_line.txt",
			wantErr: true,
		},
		{
			name:    "env style without a usable variable name",
			path:    "config/app.yaml",
			content: "stripe: " + tok + "\n",
			reps:    []Replacement{{Line: 1, Literal: tok, EnvName: "stripe key", Ref: stripeRef}},
			style:   StyleEnv,
			golden:  "refuse_bad_env_name.txt",
			wantErr: true,
		},
		{
			name:    "empty literal",
			path:    "config/app.yaml",
			content: "stripe: " + tok + "\n",
			reps:    []Replacement{stripeRep(1, "")},
			golden:  "refuse_empty_literal.txt",
			wantErr: true,
		},
		{
			name:    "one of two secrets not found",
			path:    "config/app.yaml",
			content: "stripe: " + tok + "\n",
			reps:    []Replacement{stripeRep(1, tok), githubRep(1, other)},
			golden:  "refuse_second_not_found.txt",
			wantErr: true,
		},
	}
	runConfigCases(t, nil, cases)
}

// TestConfigRefusalsNeverQuoteTheSecret runs refusals whose natural
// message would name the secret (it is also the key of its value).
func TestConfigRefusalsNeverQuoteTheSecret(t *testing.T) {
	tok := fakeToken("quoted")
	content := "a:\n  b: [x\n" + tok + ": " + tok + "\n"
	_, err := Apply("bad.yaml", []byte(content), []Replacement{stripeRep(3, tok)}, Options{})
	var ue *UnsafeError
	if !errors.As(err, &ue) {
		t.Fatalf("Apply = %v, want an *UnsafeError", err)
	}
	assertNoSecret(t, "the error", ue.Error()+ue.Manual, []Replacement{stripeRep(3, tok)})
}

func TestConfigNoReplacements(t *testing.T) {
	content := []byte("a: 1\n")
	res, err := Apply("x.yaml", content, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Content) != string(content) || res.Env != nil {
		t.Errorf("Apply with no replacements changed the file: %q %v", res.Content, res.Env)
	}
}

func TestConfigLiteralVariants(t *testing.T) {
	got := literalVariants(`a\nb`)
	want := []string{`a\nb`, "a\nb"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("literalVariants (-want +got):\n%s", diff)
	}
	if got := literalVariants("plain"); len(got) != 1 || got[0] != "plain" {
		t.Errorf("literalVariants(plain) = %q", got)
	}
}

func TestConfigMatchValue(t *testing.T) {
	pem := "-----BEGIN X-----\nabc\n-----END X-----"
	cases := []struct {
		name         string
		value        string
		literal      string
		ok, whole, x bool
	}{
		{"whole", "secret123", "secret123", true, true, true},
		{"whole with blanks around", "  secret123\n", "secret123", true, true, true},
		{"part", "postgres://u:secret123@h", "secret123", true, false, true},
		{"indented lines", "-----BEGIN X-----\n    abc\n    -----END X-----", pem, true, true, false},
		{"absent", "other", "secret123", false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := configMatchValue(tc.value, literalVariants(tc.literal))
			if ok != tc.ok || m.whole != tc.whole || m.exact != tc.x {
				t.Errorf("configMatchValue = %+v, %v; want ok %v whole %v exact %v", m, ok, tc.ok, tc.whole, tc.x)
			}
		})
	}
}
