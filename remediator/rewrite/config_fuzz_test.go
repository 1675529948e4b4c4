package rewrite

import (
	"errors"
	"strings"
	"testing"
)

// configFuzzPaths are the file names FuzzConfigApply picks a format by.
var configFuzzPaths = []string{".env", "Dockerfile", "docker-compose.yml", "a.yaml", "a.json", "a.toml", "a.ini", "a.properties", "a.xml", "a.tf"}

// FuzzConfigApply checks the contract on any input: Apply never panics; it
// either refuses with an *UnsafeError that does not quote the secret, or
// returns a file that parses and no longer holds the secret.
func FuzzConfigApply(f *testing.F) {
	tok := fakeToken("fuzz")
	seeds := []string{
		"KEY=" + tok + "\n",
		"FROM a\nENV K=\"" + tok + "\" \\\n  B=1\n",
		"services:\n  a:\n    environment:\n      - K=" + tok + "\n",
		"a:\n  b: |\n    x" + tok + "\n",
		"{\"a\": [\"" + tok + "\", {\"b\": \"x" + tok + "y\"}]}",
		"[t]\nk = \"\"\"\n" + tok + "\"\"\"\n",
		"[s]\nk = \"" + tok + "\"\n",
		"k=a\\\n  " + tok + "\n",
		"<a b='" + tok + "'><![CDATA[" + tok + "]]></a>",
		"k = <<-EOT\n  " + tok + "\n  EOT\n",
	}
	for i, s := range seeds {
		for st := 0; st < 3; st++ {
			f.Add(uint8(i+st*len(configFuzzPaths)), s, tok, 2)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, content, literal string, line int) {
		path := configFuzzPaths[int(which)%len(configFuzzPaths)]
		style := []Style{StyleVault, StyleVals, StyleEnv}[int(which)/len(configFuzzPaths)%3]
		reps := []Replacement{stripeRep(line, literal)}
		res, err := Apply(path, []byte(content), reps, Options{Style: style})
		if strings.TrimSpace(literal) == "" {
			return
		}
		if err != nil {
			var ue *UnsafeError
			if !errors.As(err, &ue) {
				t.Fatalf("Apply = %v, want an *UnsafeError", err)
			}
			if len(strings.TrimSpace(literal)) >= 8 && configLeaks(ue.Error()+ue.Manual, literal) {
				t.Fatalf("the error quotes the secret")
			}
			return
		}
		f := configFormat(path).(*configFile)
		if err := f.syntax.parse(res.Content); err != nil {
			t.Fatalf("the result does not parse: %v", err)
		}
		if strings.Contains(string(res.Content), literal) {
			t.Fatalf("the result still holds the secret")
		}
	})
}
