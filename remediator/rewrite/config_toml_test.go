package rewrite

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// tomlGet reads a dotted path (numbers index arrays) with BurntSushi/toml.
func tomlGet(content []byte, path string) (string, error) {
	m := map[string]any{}
	if _, err := toml.Decode(string(content), &m); err != nil {
		return "", err
	}
	var v any = m
	for _, p := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
		case []map[string]any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(t) {
				return "", fmt.Errorf("no %s", p)
			}
			v = t[i]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(t) {
				return "", fmt.Errorf("no %s", p)
			}
			v = t[i]
		default:
			return "", fmt.Errorf("no %s", p)
		}
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v is not a string", v)
	}
	return s, nil
}

func TestConfigTOML(t *testing.T) {
	tok := fakeToken("toml")
	tok2 := fakeToken("toml-github")
	pw := fakePassword("toml")
	pem := fakePEM("toml")
	app := "# shop settings\ntitle = \"shop\"\n\n[stripe]\napi_key = \"" + tok + "\" # live key\nretries = 3\nstarted = 1979-05-27 07:32:00Z\n"
	cases := []configCase{
		{
			name: "whole value, vault style", path: "config/app.toml", content: app,
			reps: []Replacement{stripeRep(5, tok)}, golden: "toml_vault.toml",
			want: map[string]string{"stripe.api_key": stripeRef.Vault()},
		},
		{
			name: "whole value, vals style", path: "config/app.toml", content: app,
			reps: []Replacement{stripeRep(5, tok)}, style: StyleVals, golden: "toml_vals.toml",
			want: map[string]string{"stripe.api_key": stripeRef.Vals()},
		},
		{
			name: "whole value, env style", path: "config/app.toml", content: app,
			reps: []Replacement{stripeRep(5, tok)}, style: StyleEnv, golden: "toml_env.toml",
			want: map[string]string{"stripe.api_key": "${STRIPE_API_KEY}"},
		},
		{
			name: "literal string stays literal", path: "app.toml",
			content: "key = '" + tok + "'\n",
			reps:    []Replacement{stripeRep(1, tok)}, golden: "toml_literal.toml",
			want: map[string]string{"key": stripeRef.Vault()},
		},
		{
			name: "PEM key in a multi-line string", path: "tls.toml",
			content: "[tls]\nkey = \"\"\"\n" + pem + "\n\"\"\"\ncert = \"none\"\n",
			reps:    []Replacement{tlsRep(3, pem)}, golden: "toml_pem_multiline.toml",
			want: map[string]string{"tls.key": tlsRef.Vault()},
		},
		{
			name: "PEM key in a \\n-escaped string", path: "tls.toml",
			content: "[tls]\nkey = \"" + jsonEscape(pem) + "\"\n",
			reps:    []Replacement{tlsRep(2, pem)}, golden: "toml_pem_escaped.toml",
			want: map[string]string{"tls.key": tlsRef.Vault()},
		},
		{
			name: "password inside a database URL", path: "config/db.toml",
			content: "[database]\nurl = \"postgres://shop:" + pw + "@db.internal/shop\"\n",
			reps:    []Replacement{dbRep(2, pw)}, golden: "toml_url_password.toml",
			want: map[string]string{"database.url": "postgres://shop:" + dbRef.Inline() + "@db.internal/shop"},
		},
		{
			name: "two secrets, in an inline table and an array of tables", path: "config/app.toml",
			content: "stripe = { key = \"" + tok + "\", live = true }\n\n[[hooks]]\nname = \"a\"\n\n[[hooks]]\nname = \"b\"\ntokens = [\"x\", \"" + tok2 + "\"]\n",
			reps:    []Replacement{stripeRep(1, tok), githubRep(8, tok2)}, golden: "toml_two_secrets.toml",
			want: map[string]string{"stripe.key": stripeRef.Vault(), "hooks.1.tokens.1": githubRef.Vault()},
		},
		{
			name: "same secret twice, reported once", path: "config/app.toml",
			content: "[prod]\nkey = \"" + tok + "\"\n[staging]\nkey = \"" + tok + "\"\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "toml_same_secret_twice.toml",
			want: map[string]string{"prod.key": stripeRef.Vault(), "staging.key": stripeRef.Vault()},
		},
		{
			name: "does not parse before the edit", path: "config/app.toml",
			content: "[stripe]\napi_key = \"" + tok + "\nx = 1\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "toml_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: "config/app.toml", content: app,
			reps: []Replacement{githubRep(5, tok2)}, golden: "toml_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, tomlGet, cases)
}

func TestConfigTOMLIdentifier(t *testing.T) {
	tok := fakeToken("toml-ident")
	runIdentCases(t, []identCase{
		{"key in a table", "a.toml", "[stripe]\napiKey = \"" + tok + "\"\n", 2, tok, "apiKey"},
		{"dotted key", "a.toml", "stripe.api_key = \"" + tok + "\"\n", 1, tok, "api_key"},
		{"quoted key", "a.toml", "\"api key\" = '" + tok + "'\n", 1, tok, "api key"},
		{"inline table", "a.toml", "s = { a = 1, token = \"" + tok + "\" }\n", 1, tok, "token"},
		{"array element", "a.toml", "tokens = [\n  \"" + tok + "\",\n]\n", 2, tok, "tokens"},
		{"unparsable file", "a.toml", "a = \n", 1, tok, ""},
	})
}
