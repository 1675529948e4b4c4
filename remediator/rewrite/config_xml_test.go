package rewrite

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// xmlGet reads, with encoding/xml, the trimmed text of the first element
// named path, or with "element@attr" an attribute of the first such
// element.
func xmlGet(content []byte, path string) (string, error) {
	elem, attr, _ := strings.Cut(path, "@")
	dec := xml.NewDecoder(bytes.NewReader(content))
	in := false
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return "", errors.New("no " + path)
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != elem {
				continue
			}
			if attr == "" {
				in = true
				continue
			}
			for _, a := range t.Attr {
				if a.Name.Local == attr {
					return a.Value, nil
				}
			}
		case xml.CharData:
			if in {
				text.Write(t)
			}
		case xml.EndElement:
			if in && t.Name.Local == elem {
				return strings.TrimSpace(text.String()), nil
			}
		}
	}
}

func TestConfigXML(t *testing.T) {
	tok := fakeToken("xml")
	tok2 := fakeToken("xml-github")
	pw := fakePassword("xml")
	pem := fakePEM("xml")
	settings := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Maven settings -->\n<settings>\n  <servers>\n    <server>\n      <id>stripe</id>\n      <password>" + tok + "</password>\n    </server>\n  </servers>\n</settings>\n"
	webConfig := "<?xml version=\"1.0\"?>\n<configuration>\n  <appSettings>\n    <add key=\"StripeApiKey\" value=\"" + tok + "\" />\n  </appSettings>\n  <connectionStrings>\n    <add name=\"Shop\" connectionString=\"Server=db;Database=shop;User Id=shop;Password=" + pw + ";\" />\n  </connectionStrings>\n</configuration>\n"
	cases := []configCase{
		{
			name: "element text, vault style", path: "conf/server.xml", content: settings,
			reps: []Replacement{stripeRep(7, tok)}, golden: "xml_vault.xml",
			want: map[string]string{"password": stripeRef.Vault()},
		},
		{
			name: "element text, vals style", path: "conf/server.xml", content: settings,
			reps: []Replacement{stripeRep(7, tok)}, style: StyleVals, golden: "xml_vals.xml",
			want: map[string]string{"password": stripeRef.Vals()},
		},
		{
			name: "element text, env style", path: "conf/server.xml", content: settings,
			reps: []Replacement{stripeRep(7, tok)}, style: StyleEnv, golden: "xml_env.xml",
			want: map[string]string{"password": "${STRIPE_API_KEY}"},
		},
		{
			// Maven expands ${env.NAME} in its settings, and reads no vault
			// reference: that is the reference, whatever the style.
			name: "Maven settings.xml, any style", path: ".mvn/settings.xml", content: settings,
			reps: []Replacement{stripeRep(7, tok)}, style: StyleVals, golden: "xml_maven_settings.xml", toolEnv: true,
			want: map[string]string{"password": "${env.STRIPE_API_KEY}"},
		},
		{
			name: "attribute value and a password in a connection string", path: "Web.config", content: webConfig,
			reps: []Replacement{stripeRep(4, tok), dbRep(7, pw)}, golden: "xml_web_config.config",
			want: map[string]string{"add@value": stripeRef.Vault()},
		},
		{
			name: "PEM key as indented element text", path: "keys.xml",
			content: "<keys>\n  <tls>\n    " + indentLines(pem, "    ") + "\n  </tls>\n</keys>\n",
			reps:    []Replacement{tlsRep(3, pem)}, golden: "xml_pem.xml",
			want: map[string]string{"tls": tlsRef.Vault()},
		},
		{
			name: "PEM key in CDATA", path: "keys.xml",
			content: "<keys><tls><![CDATA[" + pem + "]]></tls></keys>\n",
			reps:    []Replacement{tlsRep(1, pem)}, golden: "xml_pem_cdata.xml",
			want: map[string]string{"tls": tlsRef.Vault()},
		},
		{
			name: "password with escaped characters in a URL", path: "context.xml",
			content: "<Context>\n  <Resource url=\"jdbc:postgresql://db/shop?user=shop&amp;password=" + pw + "&amp;ssl=true\"/>\n</Context>\n",
			reps:    []Replacement{dbRep(2, pw)}, golden: "xml_url_password.xml",
			want: map[string]string{"Resource@url": "jdbc:postgresql://db/shop?user=shop&password=" + dbRef.Inline() + "&ssl=true"},
		},
		{
			name: "same secret twice, reported once", path: "app.xml",
			content: "<app>\n  <prod key=\"" + tok + "\"/>\n  <staging>" + tok + "</staging>\n</app>\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "xml_same_secret_twice.xml",
		},
		{
			name: "secret in a comment is refused", path: "app.xml",
			content: "<app>\n  <!-- old: " + tok + " -->\n  <key>" + tok + "</key>\n</app>\n",
			reps:    []Replacement{stripeRep(3, tok)}, golden: "xml_comment.txt", wantErr: true,
		},
		{
			name: "does not parse before the edit", path: "conf/server.xml",
			content: "<settings>\n  <password>" + tok + "</passwd>\n</settings>\n",
			reps:    []Replacement{stripeRep(2, tok)}, golden: "xml_unparsable.txt", wantErr: true,
		},
		{
			name: "literal not found", path: "conf/server.xml", content: settings,
			reps: []Replacement{githubRep(7, tok2)}, golden: "xml_not_found.txt", wantErr: true,
		},
	}
	runConfigCases(t, xmlGet, cases)
}

func TestConfigXMLIdentifier(t *testing.T) {
	tok := fakeToken("xml-ident")
	runIdentCases(t, []identCase{
		{"element", "a.xml", "<a>\n  <apiKey>" + tok + "</apiKey>\n</a>", 2, tok, "apiKey"},
		{"attribute", "a.xml", "<a token=\"" + tok + "\"/>", 1, tok, "token"},
		{"appSettings key", "app.config", "<c><add key=\"StripeKey\" value=\"" + tok + "\"/></c>", 1, tok, "StripeKey"},
		{"namespaced element", "a.xml", "<a xmlns:s=\"urn:x\"><s:secret>" + tok + "</s:secret></a>", 1, tok, "secret"},
		{"unparsable file", "a.xml", "<a>" + tok, 1, tok, ""},
	})
}
