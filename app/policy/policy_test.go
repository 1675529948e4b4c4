package policy_test

import (
	"strings"
	"testing"

	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/remediator/rewrite"
)

func TestParseSectionsOnce(t *testing.T) {
	s, err := policy.Parse("acme/shop@1a2b3c4:"+policy.Path, []byte(`
allowlist:
  paths: ["testdata/**"]
fix:
  style: env
scan:
  max_file_size: 1MiB
rotation:
  approval: required
  databases:
    - match: {host: "db.*", port: 5432}
      vault_connection: shop
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s.Style != rewrite.StyleEnv || s.Scan.MaxFileBytes != 1<<20 || s.Rotation.Approval != "required" ||
		len(s.Rotation.Databases) != 1 || s.Rotation.Databases[0].Match.Port != "5432" || len(s.Scan.Allowlist.Paths) != 1 {
		t.Errorf("sections = %+v / %+v / %+v", s.Scan, s.Style, s.Rotation)
	}
}

func TestParseReportsEveryProblemWithFileAndLine(t *testing.T) {
	_, err := policy.Parse("HEAD:"+policy.Path, []byte(`
fix:
  style: 7
rotation:
  approval: sometimes
`))
	if err == nil {
		t.Fatal("Parse accepted a bare number as fix.style and an unknown approval")
	}
	for _, want := range []string{"HEAD:.github/pushvault.yml:3: fix.style: must be a string", "HEAD:.github/pushvault.yml:5: rotation.approval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	d := policy.Defaults()
	if d.Scan == nil || d.Scan.MaxFileBytes <= 0 || d.Style != rewrite.StyleVault || d.Source != "" {
		t.Errorf("defaults = %+v", d)
	}
}

func TestProtectedRef(t *testing.T) {
	const zero = "0000000000000000000000000000000000000000"
	cases := []struct {
		name, defaultBranch, branch, before, want string
	}{
		{"update of the default branch: its settings before the push", "main", "main", "b4", "b4"},
		{"first push to the default branch: no repository settings yet", "main", "main", zero, ""},
		{"another branch: the default branch's head", "main", "feature/x", "b4", "main"},
		{"a new branch: the default branch's head", "main", "feature/x", zero, "main"},
		{"default branch unknown: none", "", "feature/x", "b4", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := policy.Protected(tc.defaultBranch, tc.branch, tc.before); got != tc.want {
				t.Errorf("Protected(%q, %q, %q) = %q, want %q", tc.defaultBranch, tc.branch, tc.before, got, tc.want)
			}
		})
	}
}
