package rewrite

import (
	"errors"
	"testing"

	"github.com/joho/godotenv"
)

// dotenvGet reads a variable with godotenv (which expands ${VAR}).
func dotenvGet(content []byte, key string) (string, error) {
	m, err := godotenv.UnmarshalBytes(content)
	if err != nil {
		return "", err
	}
	v, ok := m[key]
	if !ok {
		return "", errors.New("no " + key)
	}
	return v, nil
}

func TestConfigDotenv(t *testing.T) {
	tok := fakeToken("dotenv")
	tok2 := fakeToken("dotenv-github")
	pw := fakePassword("dotenv")
	pem := fakePEM("dotenv")
	env := "# local settings\nAPP_NAME=shop\nexport STRIPE_API_KEY=" + tok + "  # live key\nDEBUG=false\n"
	cases := []configCase{
		{
			name: "whole value, vault style", path: ".env", content: env,
			reps: []Replacement{stripeRep(3, tok)}, golden: "dotenv_vault.env",
			want: map[string]string{"STRIPE_API_KEY": stripeRef.Vault()},
		},
		{
			name: "whole value, vals style", path: "deploy/.env.production", content: env,
			reps: []Replacement{stripeRep(3, tok)}, style: StyleVals, golden: "dotenv_vals.env",
			want: map[string]string{"STRIPE_API_KEY": stripeRef.Vals()},
		},
		{
			name: "whole value, env style", path: "config/app.env", content: env,
			reps: []Replacement{stripeRep(3, tok)}, style: StyleEnv, golden: "dotenv_env.env",
		},
		{
			name: "quoted values keep their quotes", path: ".env",
			content: "A=\"" + tok + "\"\nB='" + tok2 + "'\n",
			reps:    []Replacement{stripeRep(1, tok), githubRep(2, tok2)}, golden: "dotenv_quoted.env",
			want: map[string]string{"A": stripeRef.Vault(), "B": githubRef.Vault()},
		},
		{
			name: "PEM key in a \\n-escaped double-quoted value", path: ".env",
			content: "TLS_KEY=\"" + jsonEscape(pem) + "\"\nPORT=8443\n",
			reps:    []Replacement{tlsRep(1, pem)}, golden: "dotenv_pem_escaped.env",
			want: map[string]string{"TLS_KEY": tlsRef.Vault()},
		},
		{
			name: "PEM key over several lines in double quotes", path: ".env",
			content: "TLS_KEY=\"" + pem + "\"\nPORT=8443\n",
			reps:    []Replacement{tlsRep(1, pem)}, golden: "dotenv_pem_multiline.env",
			want: map[string]string{"TLS_KEY": tlsRef.Vault()},
		},
		{
			name: "password inside a database URL", path: ".env",
			content: "DATABASE_URL=postgres://shop:" + pw + "@db.internal:5432/shop\n",
			reps:    []Replacement{dbRep(1, pw)}, golden: "dotenv_url_password.env",
			want: map[string]string{"DATABASE_URL": "postgres://shop:" + dbRef.Inline() + "@db.internal:5432/shop"},
		},
		{
			name: "two secrets in one file", path: ".env",
			content: "STRIPE_API_KEY=" + tok + "\nGITHUB_TOKEN=" + tok2 + "\n",
			reps:    []Replacement{stripeRep(1, tok), githubRep(2, tok2)}, golden: "dotenv_two_secrets.env",
			want: map[string]string{"STRIPE_API_KEY": stripeRef.Vault(), "GITHUB_TOKEN": githubRef.Vault()},
		},
		{
			name: "same secret twice, reported once", path: ".env",
			content: "STRIPE_API_KEY=" + tok + "\nSTRIPE_SECRET=" + tok + "\n",
			reps:    []Replacement{stripeRep(1, tok)}, golden: "dotenv_same_secret_twice.env",
			want: map[string]string{"STRIPE_API_KEY": stripeRef.Vault(), "STRIPE_SECRET": stripeRef.Vault()},
		},
		{
			name: "does not parse before the edit", path: ".env",
			content: "STRIPE_API_KEY=\"" + tok + "\nDEBUG=1\n",
			reps:    []Replacement{stripeRep(1, tok)}, golden: "dotenv_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: ".env", content: env,
			reps: []Replacement{githubRep(3, tok2)}, golden: "dotenv_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, dotenvGet, cases)
}

func TestConfigDotenvIdentifier(t *testing.T) {
	tok := fakeToken("dotenv-ident")
	runIdentCases(t, []identCase{
		{"key", ".env", "STRIPE_API_KEY=" + tok + "\n", 1, tok, "STRIPE_API_KEY"},
		{"export", ".env", "export GITHUB_TOKEN=" + tok + "\n", 1, tok, "GITHUB_TOKEN"},
		{"blanks around the equals sign", "x.env", "API_KEY = '" + tok + "'\n", 1, tok, "API_KEY"},
		{"comment line", ".env", "# API_KEY\nA=1\n", 1, "", ""},
	})
}
