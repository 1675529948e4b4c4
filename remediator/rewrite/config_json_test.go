package rewrite

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// jsonGet reads a dotted path (numbers index arrays) with encoding/json.
func jsonGet(content []byte, path string) (string, error) {
	var v any
	if err := json.Unmarshal(content, &v); err != nil {
		return "", err
	}
	for _, p := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
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

func TestConfigJSON(t *testing.T) {
	tok := fakeToken("json")
	tok2 := fakeToken("json-github")
	pw := fakePassword("json")
	pem := fakePEM("json")
	app := "{\n  \"name\": \"shop\",\n  \"stripe\": {\n    \"apiKey\": \"" + tok + "\",\n    \"currency\": \"eur\"\n  }\n}\n"
	cases := []configCase{
		{
			name: "whole value, vault style", path: "config/app.json", content: app,
			reps: []Replacement{stripeRep(4, tok)}, golden: "json_vault.json",
			want: map[string]string{"stripe.apiKey": stripeRef.Vault()},
		},
		{
			name: "whole value, vals style", path: "config/app.json", content: app,
			reps: []Replacement{stripeRep(4, tok)}, style: StyleVals, golden: "json_vals.json",
			want: map[string]string{"stripe.apiKey": stripeRef.Vals()},
		},
		{
			name: "whole value, env style", path: "config/app.json", content: app,
			reps: []Replacement{stripeRep(4, tok)}, style: StyleEnv, golden: "json_env.json",
			want: map[string]string{"stripe.apiKey": "${STRIPE_API_KEY}"},
		},
		{
			name: "PEM key in a \\n-escaped string, reported decoded", path: "service-account.json",
			content: "{\"type\": \"service_account\", \"private_key\": \"" + jsonEscape(pem) + "\\n\", \"client_email\": \"x@y\"}\n",
			reps:    []Replacement{tlsRep(1, pem)}, golden: "json_pem.json",
			want: map[string]string{"private_key": tlsRef.Vault()},
		},
		{
			name: "PEM key in a \\n-escaped string, reported as escaped", path: "service-account.json",
			content: "{\n  \"private_key\": \"" + jsonEscape(pem) + "\"\n}\n",
			reps:    []Replacement{tlsRep(2, jsonEscape(pem))}, golden: "json_pem_escaped.json",
			want: map[string]string{"private_key": tlsRef.Vault()},
		},
		{
			name: "password inside a database URL", path: "config/db.json",
			content: "{\"db\": {\"url\": \"postgres://shop:" + pw + "@db.internal/shop\", \"pool\": 5}}\n",
			reps:    []Replacement{dbRep(1, pw)}, golden: "json_url_password.json",
			want: map[string]string{"db.url": "postgres://shop:" + dbRef.Inline() + "@db.internal/shop"},
		},
		{
			name: "two secrets in one file", path: "config/app.json",
			content: "{\n  \"stripe\": \"" + tok + "\",\n  \"github\": [\"" + tok2 + "\"]\n}\n",
			reps:    []Replacement{stripeRep(2, tok), githubRep(3, tok2)}, golden: "json_two_secrets.json",
			want: map[string]string{"stripe": stripeRef.Vault(), "github.0": githubRef.Vault()},
		},
		{
			name: "same secret twice, reported once", path: "config/app.json",
			content: "{\n  \"prod\": {\"key\": \"" + tok + "\"},\n  \"staging\": {\"key\": \"" + tok + "\"}\n}\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "json_same_secret_twice.json",
			want: map[string]string{"prod.key": stripeRef.Vault(), "staging.key": stripeRef.Vault()},
		},
		{
			name: "same secret twice, reported twice", path: "config/app.json",
			content: "{\n  \"prod\": {\"key\": \"" + tok + "\"},\n  \"staging\": {\"key\": \"" + tok + "\"}\n}\n",
			reps:    []Replacement{stripeRep(2, tok), stripeRep(3, tok)}, golden: "json_same_secret_twice.json",
		},
		{
			name: "does not parse before the edit", path: "config/app.json",
			content: "{\n  // comments are not JSON\n  \"stripe\": \"" + tok + "\"\n}\n",
			reps:    []Replacement{stripeRep(3, tok)}, golden: "json_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: "config/app.json", content: app,
			reps: []Replacement{githubRep(4, tok2)}, golden: "json_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, jsonGet, cases)
}

func TestConfigJSONIdentifier(t *testing.T) {
	tok := fakeToken("json-ident")
	runIdentCases(t, []identCase{
		{"object key", "a.json", "{\n  \"stripeApiKey\": \"" + tok + "\"\n}\n", 2, tok, "stripeApiKey"},
		{"innermost key", "a.json", "{\"a\": {\"b\": {\"api_key\": \"" + tok + "\"}}}", 1, tok, "api_key"},
		{"array element takes the array's key", "a.json", "{\"tokens\": [\"x\", \"" + tok + "\"]}", 1, tok, "tokens"},
		{"name/value object", "a.json", "[{\"value\": \"" + tok + "\", \"name\": \"STRIPE_KEY\"}]", 1, tok, "STRIPE_KEY"},
		{"several values on one line", "a.json", "{\"a\": \"x\", \"b\": \"" + tok + "\"}", 1, tok, "b"},
		{"top-level string", "a.json", "\"" + tok + "\"", 1, tok, ""},
	})
}
