package scanner_test

import (
	"strings"
	"testing"

	"github.com/pushvault/pushvault/scanner"
)

func TestParseSettingsErrors(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // every piece must appear in the one error
	}{
		{"unknown top-level key", "alowlist:\n  paths: [a]\n",
			[]string{"pushvault.yml:1: alowlist: unknown key (known keys here: allowlist, detectors, fix, rotation, scan, version)"}},
		{"unknown nested key", "allowlist:\n  path: [a]\n",
			[]string{"pushvault.yml:2: allowlist.path: unknown key"}},
		{"bad regex", "detectors:\n  - name: Acme\n    regex: 'acme_[a-z'\n",
			[]string{"pushvault.yml:3: detectors[0].regex: invalid regular expression: missing closing ]"}},
		{"regex matching empty", "detectors:\n  - name: Acme\n    regex: 'x*'\n",
			[]string{"detectors[0].regex: matches the empty string"}},
		{"bad glob", "allowlist:\n  paths: ['src/[a-']\n",
			[]string{"pushvault.yml:2: allowlist.paths[0]: invalid glob \"src/[a-\""}},
		{"bad finding id", "allowlist:\n  findings: [abc]\n",
			[]string{"allowlist.findings[0]: \"abc\" is not a finding id"}},
		{"unknown detector", "allowlist:\n  detectors: [Strpe]\n",
			[]string{"allowlist.detectors[0]: unknown detector \"Strpe\""}},
		{"wrong type", "allowlist:\n  paths: testdata\n",
			[]string{"allowlist.paths: must be a list of strings"}},
		{"bad size", "scan:\n  max_file_size: lots\n",
			[]string{"scan.max_file_size: must be a positive size"}},
		{"not yaml", "allowlist: [\n", []string{"pushvault.yml: "}},
		{"every problem at once", "allowlist:\n  paths: ['[']\n  findings: [x]\nextra: 1\n",
			[]string{"allowlist.paths[0]", "allowlist.findings[0]", "extra: unknown key"}},
		{"bad fix style", "fix:\n  style: inline\n", []string{"fix.style: \"inline\" is not one of vault, vals, env"}},
		{"bad generic mode", "scan:\n  generic: vault\n", []string{"pushvault.yml:2: scan.generic: \"vault\" is not one of report, fix, off"}},
		{"generic as a custom detector's name", "detectors:\n  - {name: generic, regex: 'g_[0-9]{9}'}\n", []string{"detectors[0].name: \"generic\" is the built-in generic detector's name"}},
		{"detector without regex", "detectors:\n  - name: Acme\n", []string{"detectors[0].regex: required"}},
		{"duplicate detector", "detectors:\n  - {name: A1, regex: 'a1_[0-9]{9}'}\n  - {name: a1, regex: 'b'}\n",
			[]string{"\"a1\" is declared twice"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanner.ParseSettings("pushvault.yml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.yaml)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseSettingsValid(t *testing.T) {
	s, err := scanner.ParseSettings("pushvault.yml", []byte(`
version: 1
allowlist:
  paths: ["testdata/**", "**/*_test.go"]
  detectors: [Stripe, Generic]
  findings: [pv_0123456789abcdef0123]
detectors:
  - name: AcmeToken
    regex: 'acme_[a-z0-9]{32}'
    keywords: [acme_]
    description: ACME internal API token
scan:
  max_file_size: 2MiB
  generic: fix
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxFileBytes != 2<<20 || len(s.Detectors) != 1 || len(s.Allowlist.Paths) != 2 || s.GenericMode() != scanner.GenericFix {
		t.Errorf("parsed %+v", s)
	}
	empty, err := scanner.ParseSettings("pushvault.yml", nil)
	if err != nil || empty.MaxFileBytes != scanner.DefaultMaxFileBytes || empty.GenericMode() != scanner.DefaultGenericMode {
		t.Errorf("empty file: %+v, %v", empty, err)
	}
}
