package policy_test

import (
	"strings"
	"testing"

	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/scanner"
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

// A repository's file sets only what the server lets it: under the default
// grant, allowlists by path and finding id and custom detectors apply;
// every rotation key, whole-detector allowlists and the size limit keep
// the server's values and are listed as ignored.
func TestServerOwnsKeys(t *testing.T) {
	file, err := policy.Parse("acme/shop@1a2b3c4:"+policy.Path, []byte(`
allowlist:
  paths: ["testdata/**"]
  detectors: [Stripe]
fix:
  style: env
scan:
  max_file_size: 1B
rotation:
  enabled: []
  destroy_exposed: false
  approval: required
  databases:
    - match: {host: "*"}
      vault_connection: other-team
  owned:
    - path: "**"
  aws:
    - {account: "999999999999", vault_credentials_role: theirs}
`))
	if err != nil {
		t.Fatal(err)
	}
	server := rotate.Settings{Databases: []rotate.Database{{Connection: "shop"}}}
	got := policy.Server{Rotation: server}.Apply(file)
	if len(got.Scan.Allowlist.Paths) != 1 || got.Style != rewrite.StyleEnv {
		t.Errorf("granted keys not taken: paths %v, style %q", got.Scan.Allowlist.Paths, got.Style)
	}
	if got.Scan.Allowlist.Detectors != nil || got.Scan.MaxFileBytes != policy.Defaults().Scan.MaxFileBytes ||
		got.Rotation.Enabled != nil || !got.Rotation.Destroy() || got.Rotation.Approval != "" || got.Rotation.Owned != nil || got.Rotation.AWS != nil ||
		len(got.Rotation.Databases) != 1 || got.Rotation.Databases[0].Connection != "shop" {
		t.Errorf("server-owned keys taken from the repository: scan %+v, rotation %+v", got.Scan, got.Rotation)
	}
	want := "acme/shop@1a2b3c4:.github/pushvault.yml; ignored, the server's to set: allowlist.detectors, scan.max_file_size, " +
		"rotation.enabled, rotation.destroy_exposed, rotation.approval, rotation.databases, rotation.owned, rotation.aws"
	if d := got.Describe(); d != want {
		t.Errorf("Describe() = %q\nwant       %q", d, want)
	}

	granted := policy.Server{MaySet: []string{"rotation.approval", "allowlist.detectors"}, Rotation: server}.Apply(file)
	if granted.Rotation.Approval != "required" || len(granted.Scan.Allowlist.Detectors) != 1 || granted.Scan.Allowlist.Paths != nil {
		t.Errorf("explicit grant: approval %q, detectors %v, paths %v", granted.Rotation.Approval, granted.Scan.Allowlist.Detectors, granted.Scan.Allowlist.Paths)
	}
	if none := (policy.Server{MaySet: []string{}}).Apply(file); none.Style != rewrite.StyleVault || len(none.Ignored) != 10 {
		t.Errorf("empty grant: style %q, ignored %v", none.Style, none.Ignored)
	}
}

func TestValidateMaySet(t *testing.T) {
	if err := policy.ValidateMaySet("repository_may_set", policy.Keys()); err != nil {
		t.Errorf("every key: %v", err)
	}
	err := policy.ValidateMaySet("repository_may_set", []string{"allowlist.paths", "rotation.database"})
	if err == nil || !strings.Contains(err.Error(), `repository_may_set: "rotation.database" not a settings key`) {
		t.Errorf("misspelt key: %v", err)
	}
}

// scan.generic is the server's: a pusher's settings file cannot switch the
// generic detector off (or to fix) unless the server grants the key; the
// server's own mode applies to every repository, with a file or without.
func TestGenericModeIsTheServers(t *testing.T) {
	file, err := policy.Parse("acme/shop@1a2b3c4:"+policy.Path, []byte("scan:\n  generic: off\n"))
	if err != nil {
		t.Fatal(err)
	}
	if file.Scan.GenericMode() != scanner.GenericOff {
		t.Fatalf("parsed mode %q, want off", file.Scan.GenericMode())
	}
	cases := []struct {
		name   string
		server policy.Server
		want   scanner.GenericMode
	}{
		{"default grant: the default mode", policy.Server{}, scanner.DefaultGenericMode},
		{"server says fix: fix", policy.Server{Generic: scanner.GenericFix}, scanner.GenericFix},
		{"server grants the key: the repository's", policy.Server{MaySet: []string{"scan.generic"}, Generic: scanner.GenericFix}, scanner.GenericOff},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.server.Apply(file).Scan.GenericMode(); got != tc.want {
				t.Errorf("mode %q, want %q", got, tc.want)
			}
			if got := tc.server.Defaults().Scan.GenericMode(); got != tc.server.Generic && tc.server.Generic != "" {
				t.Errorf("without a file: mode %q, want the server's %q", got, tc.server.Generic)
			}
		})
	}
	if d := (policy.Server{}).Apply(file).Describe(); !strings.Contains(d, "ignored, the server's to set: scan.generic") {
		t.Errorf("Describe() = %q, want scan.generic listed as ignored", d)
	}
}
