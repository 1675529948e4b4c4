package rewrite

import (
	"errors"
	"strings"
	"testing"

	"github.com/magiconair/properties"
)

// propertiesGet reads a key with magiconair/properties, without expansion.
func propertiesGet(content []byte, key string) (string, error) {
	l := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadBytes(content)
	if err != nil {
		return "", err
	}
	v, ok := p.Get(key)
	if !ok {
		return "", errors.New("no " + key)
	}
	return v, nil
}

func TestConfigProperties(t *testing.T) {
	tok := fakeToken("properties")
	tok2 := fakeToken("properties-github")
	pw := fakePassword("properties")
	pem := fakePEM("properties")
	app := "# shop settings\nspring.application.name=shop\nstripe.api-key = " + tok + "\nstripe.currency: eur\n"
	path := "src/main/resources/application.properties"
	cases := []configCase{
		{
			name: "whole value, vault style", path: path, content: app,
			reps: []Replacement{stripeRep(3, tok)}, golden: "properties_vault.properties",
			want: map[string]string{"stripe.api-key": stripeRef.Vault()},
		},
		{
			name: "whole value, vals style", path: path, content: app,
			reps: []Replacement{stripeRep(3, tok)}, style: StyleVals, golden: "properties_vals.properties",
			want: map[string]string{"stripe.api-key": stripeRef.Vals()},
		},
		{
			name: "whole value, env style", path: path, content: app,
			reps: []Replacement{stripeRep(3, tok)}, style: StyleEnv, golden: "properties_env.properties",
			want: map[string]string{"stripe.api-key": "${STRIPE_API_KEY}"},
		},
		{
			name: "PEM key in a \\n-escaped value", path: "tls.properties",
			content: "tls.key=" + jsonEscape(pem) + "\ntls.port=8443\n",
			reps:    []Replacement{tlsRep(1, pem)}, golden: "properties_pem_escaped.properties",
			want: map[string]string{"tls.key": tlsRef.Vault()},
		},
		{
			name: "PEM key over continuation lines", path: "tls.properties",
			content: "tls.key=" + strings.ReplaceAll(pem, "\n", "\\n\\\n    ") + "\ntls.port=8443\n",
			reps:    []Replacement{tlsRep(1, pem)}, golden: "properties_pem_continued.properties",
			want: map[string]string{"tls.key": tlsRef.Vault()},
		},
		{
			name: "password inside a JDBC URL", path: path,
			content: "spring.datasource.url=jdbc:postgresql://db.internal/shop?user=shop&password=" + pw + "&ssl=true\n",
			reps:    []Replacement{dbRep(1, pw)}, golden: "properties_url_password.properties",
			want: map[string]string{"spring.datasource.url": "jdbc:postgresql://db.internal/shop?user=shop&password=" + dbRef.Inline() + "&ssl=true"},
		},
		{
			name: "two secrets in one file", path: path,
			content: "stripe.key=" + tok + "\n! github\ngithub.token " + tok2 + "\n",
			reps:    []Replacement{stripeRep(1, tok), githubRep(3, tok2)}, golden: "properties_two_secrets.properties",
			want: map[string]string{"stripe.key": stripeRef.Vault(), "github.token": githubRef.Vault()},
		},
		{
			name: "same secret twice, reported once", path: path,
			content: "prod.key=" + tok + "\nstaging.key=" + tok + "\n",
			reps:    []Replacement{stripeRep(1, tok)}, golden: "properties_same_secret_twice.properties",
			want: map[string]string{"prod.key": stripeRef.Vault(), "staging.key": stripeRef.Vault()},
		},
		{
			name: "does not parse before the edit", path: path,
			content: "stripe.key=" + tok + "\nbad=\\u12\n",
			reps:    []Replacement{stripeRep(1, tok)}, golden: "properties_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: path, content: app,
			reps: []Replacement{githubRep(3, tok2)}, golden: "properties_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, propertiesGet, cases)
}

func TestConfigPropertiesIdentifier(t *testing.T) {
	tok := fakeToken("properties-ident")
	runIdentCases(t, []identCase{
		{"equals", "a.properties", "stripe.apiKey=" + tok + "\n", 1, tok, "stripe.apiKey"},
		{"colon and blanks", "a.properties", "db.password : " + tok + "\n", 1, tok, "db.password"},
		{"blank separator", "a.properties", "token " + tok + "\n", 1, tok, "token"},
		{"escaped key", "a.properties", "my\\ key=" + tok + "\n", 1, tok, "my key"},
		{"comment line", "a.properties", "# token\nk=v\n", 1, "", ""},
	})
}
