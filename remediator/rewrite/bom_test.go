package rewrite

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
)

// Visual Studio writes appsettings.json (and other editors other files)
// with a UTF-8 byte order mark. Every format edits the file after the mark
// as it would without it, and the mark stays.
func TestApplyKeepsUTF8BOM(t *testing.T) {
	tok := "sk_live_" + secrettest.Fresh(t).Alnum(24)
	files := map[string]string{
		"appsettings.json":           "{\n  \"Stripe\": {\n    \"SecretKey\": \"" + tok + "\"\n  }\n}\n",
		"config.yaml":                "stripe:\n  secret_key: " + tok + "\n",
		"config.toml":                "[stripe]\nsecret_key = \"" + tok + "\"\n",
		"web.config":                 "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <appSettings>\n    <add key=\"StripeKey\" value=\"" + tok + "\" />\n  </appSettings>\n</configuration>\n",
		"settings.ini":               "[stripe]\nsecret_key = " + tok + "\n",
		"application.properties":     "stripe.secret-key=" + tok + "\n",
		".env":                       "STRIPE_SECRET_KEY=" + tok + "\n",
		"main.tf":                    "variable \"stripe_key\" {\n  default = \"" + tok + "\"\n}\n",
		"billing.py":                 "import stripe\n\nstripe.api_key = \"" + tok + "\"\n",
		"src/Billing/StripeSetup.cs": "namespace Billing;\n\npublic static class StripeSetup\n{\n    public const string Key = \"" + tok + "\";\n}\n",
	}
	for path, content := range files {
		t.Run(path, func(t *testing.T) {
			line := 1 + strings.Count(content[:strings.Index(content, tok)], "\n")
			reps := []Replacement{stripeRep(line, tok)}
			plain, err := Apply(path, []byte(content), reps, Options{})
			if err != nil {
				t.Fatalf("without a mark: %v", err)
			}
			got, err := Apply(path, append([]byte("\xef\xbb\xbf"), content...), reps, Options{})
			if err != nil {
				t.Fatalf("with a mark: %v", err)
			}
			if want := append([]byte("\xef\xbb\xbf"), plain.Content...); !bytes.Equal(got.Content, want) {
				t.Errorf("with a mark:\n%q\nwant the edit made without it, after the mark:\n%q", got.Content, want)
			}
			if id := Identifier(path, append([]byte("\xef\xbb\xbf"), content...), line, tok); id != Identifier(path, []byte(content), line, tok) {
				t.Errorf("identifier %q with a mark, %q without", id, Identifier(path, []byte(content), line, tok))
			}
		})
	}
}
