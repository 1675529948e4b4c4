package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/scanner/report"
)

// `pushvault scan` finds credentials no pattern detector knows, by the
// name they are assigned to, and by default only reports them: `--fix`
// vaults and rewrites them only under scan.generic: fix. Look-alikes
// (lengths, URLs, names, references, fixtures) are not reported.
func TestScanGenericSecrets(t *testing.T) {
	g := secrettest.Fresh(t)
	dbPass, apiSecret, fixturePass := g.PostgresPassword(), g.PostgresPassword(), g.PostgresPassword()
	planted := []string{dbPass, apiSecret, fixturePass}
	r := gittest.New(t)
	r.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	r.Commit("", "config", map[string]string{
		"config/database.yml":     "production:\n  adapter: postgresql\n  username: shop\n  password: " + dbPass + "\n  pool: 5\n",
		"appsettings.json":        "{\n  \"Payments\": {\n    \"ApiSecret\": \"" + apiSecret + "\",\n    \"TokenUrl\": \"https://pay.acme.test/oauth/token\"\n  }\n}\n",
		"config/auth.yml":         "password_length: 12\ntoken_url: https://login.acme.test/token\nsecret_name: shop-db\npassword: ${DB_PASSWORD}\n",
		"test/fixtures/users.yml": "alice:\n  password: " + fixturePass + "\n",
	})
	head := r.Head()
	noPlanted := func(what string, outs ...string) {
		t.Helper()
		for _, o := range outs {
			if containsAny(o, planted) {
				t.Errorf("%s: output holds a planted value", what)
			}
		}
	}

	// The default: found and shown, marked report only.
	js := pushvault(t, r.Dir, "scan", "--format", "json")
	if js.code != 1 {
		t.Fatalf("scan: exit %d, want 1; stderr: %s", js.code, js.stderr)
	}
	var doc report.JSONReport
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
		t.Fatalf("scan --format json: %v\n%s", err, js.stdout)
	}
	var got []string
	for _, f := range doc.Findings {
		got = append(got, fmt.Sprintf("%s %s:%d report_only=%v", f.Detector, f.Path, f.Line, f.ReportOnly))
	}
	sort.Strings(got)
	want := []string{"Generic appsettings.json:3 report_only=true", "Generic config/database.yml:4 report_only=true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	text := pushvault(t, r.Dir, "scan")
	if text.code != 1 || strings.Count(text.stdout, "(report only: not vaulted or fixed)") != 2 {
		t.Errorf("scan: exit %d, want 1 and two report-only lines:\n%s", text.code, text.stdout)
	}
	noPlanted("scan", js.stdout, js.stderr, text.stdout, text.stderr)

	// --fix under the default vaults nothing and writes no fix.
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	data := t.TempDir()
	run := vaultRun(t, srv, data, r.Dir, "scan", "--fix")
	if run.code != 1 {
		t.Fatalf("scan --fix (report): exit %d, want 1\n%s%s", run.code, run.stdout, run.stderr)
	}
	if keys, err := c.Logical().List("secret/metadata/pushvault/acme/shop"); err != nil || keys != nil {
		t.Errorf("scan --fix (report) vaulted something: %v (%v)", keys, err)
	}
	branch := "pushvault/fix-" + head[:7]
	if b := r.Git("branch", "--list", branch); b != "" {
		t.Errorf("scan --fix (report) wrote a fix branch %s", b)
	}
	noPlanted("scan --fix (report)", run.stdout, run.stderr)

	// scan.generic: fix vaults both and rewrites both files.
	settings := filepath.Join(t.TempDir(), "pushvault.yml")
	if err := os.WriteFile(settings, []byte("scan:\n  generic: fix\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run = vaultRun(t, srv, data, r.Dir, "scan", "--fix", "--config", settings)
	if run.code != 1 {
		t.Fatalf("scan --fix (fix): exit %d, want 1\n%s%s", run.code, run.stdout, run.stderr)
	}
	noPlanted("scan --fix (fix)", run.stdout, run.stderr)
	list, err := c.Logical().List("secret/metadata/pushvault/acme/shop")
	if err != nil || list == nil || len(list.Data["keys"].([]any)) != 2 {
		t.Fatalf("scan --fix (fix): vaulted %v (%v), want the two generic secrets", list, err)
	}
	for _, p := range []string{"config/database.yml", "appsettings.json"} {
		if content := r.Git("show", branch+":"+p); containsAny(content, planted) || !strings.Contains(content, "vault:secret/data/pushvault/acme/shop/") {
			t.Errorf("fix branch %s:\n%s\nwant the value replaced by a vault reference", p, redactForTest(content))
		}
	}

	// scan.generic: off: nothing to report.
	if err := os.WriteFile(settings, []byte("scan:\n  generic: off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if off := pushvault(t, r.Dir, "scan", "--config", settings); off.code != 0 {
		t.Errorf("scan.generic: off: exit %d, want 0\n%s", off.code, off.stdout)
	}
}
