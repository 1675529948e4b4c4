package rewrite

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// yamlGet reads a dotted path (numbers index sequences; "/" separates
// instead when keys hold dots) from the first document.
func yamlGet(content []byte, path string) (string, error) {
	var v any
	if err := yaml.Unmarshal(content, &v); err != nil {
		return "", err
	}
	sep := "."
	if strings.Contains(path, "/") {
		sep = "/"
	}
	for _, p := range strings.Split(path, sep) {
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

func TestConfigYAML(t *testing.T) {
	tok := fakeToken("yaml")
	tok2 := fakeToken("yaml-github")
	pw := fakePassword("yaml")
	pem := fakePEM("yaml")
	app := "# shop settings\nstripe:\n  api_key: " + tok + "   # live key\n  currency: eur\n"
	cases := []configCase{
		{
			name: "whole value, vault style", path: "config/app.yaml", content: app,
			reps: []Replacement{stripeRep(3, tok)}, golden: "yaml_vault.yaml",
			want: map[string]string{"stripe.api_key": stripeRef.Vault()},
		},
		{
			name: "whole value, vals style", path: "config/app.yaml", content: app,
			reps: []Replacement{stripeRep(3, tok)}, style: StyleVals, golden: "yaml_vals.yaml",
			want: map[string]string{"stripe.api_key": stripeRef.Vals()},
		},
		{
			name: "whole value, env style", path: "config/app.yaml", content: app,
			reps: []Replacement{stripeRep(3, tok)}, style: StyleEnv, golden: "yaml_env.yaml",
			want: map[string]string{"stripe.api_key": "${STRIPE_API_KEY}"},
		},
		{
			name: "quoted values keep their quotes", path: "app.yml",
			content: "a: \"" + tok + "\"\nb: '" + tok2 + "'\n",
			reps:    []Replacement{stripeRep(1, tok), githubRep(2, tok2)}, golden: "yaml_quoted.yaml",
			want: map[string]string{"a": stripeRef.Vault(), "b": githubRef.Vault()},
		},
		{
			name: "PEM key in a block scalar", path: "k8s/tls.yaml",
			content: "apiVersion: v1\nkind: Secret\nstringData:\n  tls.key: |\n    " + indentLines(pem, "    ") + "\n  tls.crt: none\n",
			reps:    []Replacement{tlsRep(5, pem)}, golden: "yaml_pem_block.yaml",
			want: map[string]string{"stringData/tls.key": tlsRef.Vault()},
		},
		{
			name: "PEM key in a block scalar with a header comment", path: "k8s/tls.yaml",
			content: "key: |-  # do not commit\n  " + indentLines(pem, "  ") + "\nnext: 1\n",
			reps:    []Replacement{tlsRep(2, pem)}, golden: "yaml_pem_block_comment.yaml",
		},
		{
			name: "PEM key in a double-quoted string", path: "tls.yaml",
			content: "key: \"" + jsonEscape(pem) + "\"\n",
			reps:    []Replacement{tlsRep(1, pem)}, golden: "yaml_pem_double.yaml",
			want: map[string]string{"key": tlsRef.Vault()},
		},
		{
			name: "password inside a database URL", path: "config/db.yaml",
			content: "database:\n  url: postgres://shop:" + pw + "@db.internal:5432/shop?sslmode=require\n",
			reps:    []Replacement{dbRep(2, pw)}, golden: "yaml_url_password.yaml",
			want: map[string]string{"database.url": "postgres://shop:" + dbRef.Inline() + "@db.internal:5432/shop?sslmode=require"},
		},
		{
			name: "password inside a database URL, env style", path: "config/db.yaml",
			content: "database:\n  url: \"postgres://shop:" + pw + "@db.internal/shop\"\n",
			reps:    []Replacement{dbRep(2, pw)}, style: StyleEnv, golden: "yaml_url_password_env.yaml",
			want: map[string]string{"database.url": "postgres://shop:${DATABASE_PASSWORD}@db.internal/shop"},
		},
		{
			name: "password inside a flow mapping gets quoted", path: "db.yaml",
			content: "db: {url: postgres://shop:" + pw + "@h/shop, pool: 5}\n",
			reps:    []Replacement{dbRep(1, pw)}, golden: "yaml_flow_url_password.yaml",
			want: map[string]string{"db.url": "postgres://shop:" + dbRef.Inline() + "@h/shop"},
		},
		{
			name: "password inside a block of embedded config", path: "k8s/configmap.yaml",
			content: "data:\n  application.properties: |\n    spring.datasource.url=jdbc:postgresql://db/shop\n    spring.datasource.password=" + pw + "\n    server.port=8080\n",
			reps:    []Replacement{dbRep(4, pw)}, golden: "yaml_block_part.yaml",
		},
		{
			name: "two secrets in one file", path: "config/app.yaml",
			content: "stripe:\n  api_key: " + tok + "\ngithub:\n  token: " + tok2 + "\n",
			reps:    []Replacement{stripeRep(2, tok), githubRep(4, tok2)}, golden: "yaml_two_secrets.yaml",
			want: map[string]string{"stripe.api_key": stripeRef.Vault(), "github.token": githubRef.Vault()},
		},
		{
			name: "same secret twice, reported once", path: "config/app.yaml",
			content: "prod:\n  api_key: " + tok + "\nstaging:\n  api_key: " + tok + "\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "yaml_same_secret_twice.yaml",
			want: map[string]string{"prod.api_key": stripeRef.Vault(), "staging.api_key": stripeRef.Vault()},
		},
		{
			name: "anchor and several documents", path: "multi.yaml",
			content: "a: 1\n---\nbase: &base " + tok + "\nuse: *base\n",
			reps:    []Replacement{stripeRep(3, tok)}, golden: "yaml_anchor_documents.yaml",
		},
		{
			name: "kubernetes env list", path: "k8s/deploy.yaml",
			content: "env:\n  - name: STRIPE_API_KEY\n    value: " + tok + "\n",
			reps:    []Replacement{stripeRep(3, tok)}, golden: "yaml_k8s_env.yaml",
			want: map[string]string{"env.0.value": stripeRef.Vault()},
		},
		{
			name: "CRLF line ends are kept", path: "win.yaml",
			content: "a: 1\r\nkey: |\r\n  " + strings.ReplaceAll(pem, "\n", "\r\n  ") + "\r\nb: two\r\n",
			reps:    []Replacement{tlsRep(3, pem)}, golden: "yaml_crlf.yaml",
			want: map[string]string{"key": tlsRef.Vault(), "b": "two"},
		},
		{
			name: "does not parse before the edit", path: "config/app.yaml",
			content: "stripe:\n  api_key: " + tok + "\n bad: [\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "yaml_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: "config/app.yaml", content: app,
			reps: []Replacement{githubRep(3, tok2)}, golden: "yaml_not_found.txt", wantErr: true,
		},
		{
			name: "PEM key inside a longer block, reported with CRLF line ends", path: "x.yaml",
			content: "key: |\n  note\n  " + indentLines(pem, "  ") + "\n",
			reps:    []Replacement{tlsRep(3, strings.ReplaceAll(pem, "\n", "\r\n"))}, golden: "yaml_pem_part.yaml",
		},
	}
	runConfigCases(t, yamlGet, cases)
}

func TestConfigCompose(t *testing.T) {
	tok := fakeToken("compose")
	pw := fakePassword("compose")
	list := "services:\n  api:\n    image: shop/api\n    environment:\n      - STRIPE_API_KEY=" + tok + "\n      - DATABASE_URL=postgres://shop:" + pw + "@db/shop\n      - LOG_LEVEL\n"
	cases := []configCase{
		{
			name: "environment list, vault style", path: "docker-compose.yml", content: list,
			reps: []Replacement{stripeRep(5, tok), dbRep(6, pw)}, golden: "compose_list_vault.yml",
			want: map[string]string{
				"services.api.environment.0": "STRIPE_API_KEY=" + stripeRef.Vault(),
				"services.api.environment.1": "DATABASE_URL=postgres://shop:$" + dbRef.Inline() + "@db/shop",
			},
		},
		{
			name: "environment list, env style", path: "compose.yaml", content: list,
			reps: []Replacement{stripeRep(5, tok), dbRep(6, pw)}, style: StyleEnv, golden: "compose_list_env.yml",
			want: map[string]string{
				"services.api.environment.0": "STRIPE_API_KEY=${STRIPE_API_KEY}",
				"services.api.environment.1": "DATABASE_URL=postgres://shop:${DATABASE_PASSWORD}@db/shop",
			},
		},
		{
			name: "environment map, vals style", path: "docker-compose.prod.yaml",
			content: "services:\n  api:\n    environment:\n      STRIPE_API_KEY: \"" + tok + "\"\n    build:\n      args:\n        - NPM_TOKEN=" + tok + "\n",
			reps:    []Replacement{stripeRep(4, tok)}, style: StyleVals, golden: "compose_map_vals.yml",
			want: map[string]string{"services.api.environment.STRIPE_API_KEY": stripeRef.Vals()},
		},
		{
			name: "does not parse before the edit", path: "docker-compose.yml",
			content: "services:\n\tapi:\n    environment:\n      - STRIPE_API_KEY=" + tok + "\n",
			reps:    []Replacement{stripeRep(4, tok)}, golden: "compose_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: "docker-compose.yml", content: list,
			reps: []Replacement{stripeRep(5, fakeToken("elsewhere"))}, golden: "compose_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, yamlGet, cases)
}

func TestConfigYAMLIdentifier(t *testing.T) {
	tok := fakeToken("yaml-ident")
	pem := fakePEM("yaml-ident")
	runIdentCases(t, []identCase{
		{"mapping key", "a.yaml", "stripe:\n  apiKey: " + tok + "\n", 2, tok, "apiKey"},
		{"innermost key of a nested value", "a.yaml", "a:\n  b:\n    c: " + tok + "\n", 3, tok, "c"},
		{"sequence item takes the sequence's key", "a.yaml", "tokens:\n  - " + tok + "\n", 2, tok, "tokens"},
		{"block scalar reported on a content line", "a.yaml", "tls_key: |\n  " + indentLines(pem, "  ") + "\n", 3, pem, "tls_key"},
		{"kubernetes name/value pair", "a.yaml", "env:\n  - name: STRIPE_API_KEY\n    value: " + tok + "\n", 3, tok, "STRIPE_API_KEY"},
		{"compose list item", "docker-compose.yml", "services:\n  a:\n    environment:\n      - STRIPE_KEY=" + tok + "\n", 4, tok, "STRIPE_KEY"},
		{"compose map item", "compose.yml", "services:\n  a:\n    environment:\n      STRIPE_KEY: " + tok + "\n", 4, tok, "STRIPE_KEY"},
		{"line without a value", "a.yaml", "stripe:\n  apiKey: " + tok + "\n", 1, "", ""},
		{"unparsable file", "a.yaml", "a: [\n", 1, tok, ""},
	})
}

// TestConfigYAMLRender writes values in each scalar style and reads them
// back with yaml.v3.
func TestConfigYAMLRender(t *testing.T) {
	cases := []struct {
		name  string
		sc    scalar
		value string
		want  string // token
	}{
		{"plain stays plain", scalar{style: yamlPlain}, stripeRef.Vault(), stripeRef.Vault()},
		{"plain that would be a comment gets quotes", scalar{style: yamlPlain}, "a #b", `"a #b"`},
		{"plain in a flow mapping gets quotes", scalar{style: yamlPlain, flow: true}, "${X}", `"${X}"`},
		{"plain that would read as a number gets quotes", scalar{style: yamlPlain}, "12", `"12"`},
		{"single quotes double a quote", scalar{style: yamlSingle}, "it's", `'it''s'`},
		{"double quotes escape", scalar{style: yamlDouble}, "a\"b\\c\n", `"a\"b\\c\n"`},
		{"literal block with lines stays a block", scalar{style: yamlLiteral, indent: 2}, "one\ntwo\n", "|\n  one\n  two"},
		{"literal block without final newline", scalar{style: yamlLiteral, indent: 2}, "one\ntwo", "|-\n  one\n  two"},
		{"literal block holding one line becomes quoted", scalar{style: yamlLiteral, indent: 2}, "one", `"one"`},
		{"folded block becomes quoted", scalar{style: yamlFolded, indent: 2}, "one\ntwo", `"one\ntwo"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := yamlSyntax{}.render(tc.sc, tc.value, dollarsLiteral)
			if !ok || got != tc.want {
				t.Fatalf("render = %q, %v; want %q", got, ok, tc.want)
			}
			doc := "k: " + got + "\n"
			if tc.sc.flow {
				doc = "{k: " + got + "}\n"
			}
			back, err := yamlGet([]byte(doc), "k")
			if err != nil || back != tc.value {
				t.Errorf("read back %q, %v; want %q", back, err, tc.value)
			}
		})
	}
}
