package rewrite

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/ini.v1"
)

// iniGet reads "section/key" (or "key" in the default section) with
// gopkg.in/ini.v1, comments after " #" or " ;".
func iniGet(content []byte, path string) (string, error) {
	f, err := ini.LoadSources(ini.LoadOptions{SpaceBeforeInlineComment: true}, content)
	if err != nil {
		return "", err
	}
	sec, key := ini.DefaultSection, path
	if i := strings.IndexByte(path, '/'); i >= 0 {
		sec, key = path[:i], path[i+1:]
	}
	k, err := f.Section(sec).GetKey(key)
	if err != nil {
		return "", errors.New("no " + path)
	}
	return k.Value(), nil
}

func TestConfigINI(t *testing.T) {
	tok := fakeToken("ini")
	tok2 := fakeToken("ini-github")
	pw := fakePassword("ini")
	app := "; shop settings\nname = shop\n\n[stripe]\napi_key = " + tok + " ; live key\ncurrency: eur\n"
	cases := []configCase{
		{
			name: "whole value, vault style", path: "config/app.ini", content: app,
			reps: []Replacement{stripeRep(5, tok)}, golden: "ini_vault.ini",
			want: map[string]string{"stripe/api_key": stripeRef.Vault()},
		},
		{
			name: "whole value, vals style", path: "setup.cfg", content: app,
			reps: []Replacement{stripeRep(5, tok)}, style: StyleVals, golden: "ini_vals.cfg",
			want: map[string]string{"stripe/api_key": stripeRef.Vals()},
		},
		{
			name: "whole value, env style", path: "app.conf", content: app,
			reps: []Replacement{stripeRep(5, tok)}, style: StyleEnv, golden: "ini_env.conf",
			want: map[string]string{"stripe/api_key": "${STRIPE_API_KEY}"},
		},
		{
			name: "quoted value keeps its quotes", path: "app.ini",
			content: "[stripe]\nkey = \"" + tok + "\"\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "ini_quoted.ini",
			want: map[string]string{"stripe/key": stripeRef.Vault()},
		},
		{
			name: "password inside a database URL", path: "alembic.ini",
			content: "[alembic]\nscript_location = migrations\nsqlalchemy.url = postgresql://shop:" + pw + "@db.internal/shop\n",
			reps:    []Replacement{dbRep(3, pw)}, golden: "ini_url_password.ini",
			want: map[string]string{"alembic/sqlalchemy.url": "postgresql://shop:" + dbRef.Inline() + "@db.internal/shop"},
		},
		{
			name: "two secrets in one file", path: "app.ini",
			content: "[stripe]\nkey = " + tok + "\n[github]\ntoken = " + tok2 + "\n",
			reps:    []Replacement{stripeRep(2, tok), githubRep(4, tok2)}, golden: "ini_two_secrets.ini",
			want: map[string]string{"stripe/key": stripeRef.Vault(), "github/token": githubRef.Vault()},
		},
		{
			name: "same secret twice, reported once", path: "app.ini",
			content: "[prod]\nkey = " + tok + "\n[staging]\nkey = " + tok + "\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "ini_same_secret_twice.ini",
			want: map[string]string{"prod/key": stripeRef.Vault(), "staging/key": stripeRef.Vault()},
		},
		{
			name: "value continued over lines is not edited", path: "app.ini",
			content: "[stripe]\nkey = " + tok + " \\\n  more\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "ini_continued.txt", wantErr: true,
		},
		{
			name: "does not parse before the edit", path: "nginx.conf",
			content: "server {\n  listen 80;\n  set $key " + tok + ";\n}\n",
			reps:    []Replacement{stripeRep(3, tok)}, golden: "ini_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: "config/app.ini", content: app,
			reps: []Replacement{githubRep(5, tok2)}, golden: "ini_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, iniGet, cases)
}

func TestConfigINIIdentifier(t *testing.T) {
	tok := fakeToken("ini-ident")
	runIdentCases(t, []identCase{
		{"key in a section", "a.ini", "[stripe]\napiKey = " + tok + "\n", 2, tok, "apiKey"},
		{"colon delimiter", "a.cfg", "[s]\nsecret_key: " + tok + "\n", 2, tok, "secret_key"},
		{"default section", "a.conf", "token=" + tok + "\n", 1, tok, "token"},
		{"comment line", "a.ini", "; token\n[s]\nk = v\n", 1, "", ""},
	})
}
