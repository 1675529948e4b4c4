package main_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppPushOverTheScanLimits: a new branch of 60 commits pushed to a
// server whose scan_limits.max_commits is 50. The newest 50 are scanned and
// the secret among them is vaulted and fixed; the check run on the head
// ends neutral, saying how many commits were not scanned, which limit
// stopped it and the local command that scans them; the secret in the
// oldest, unscanned commit is not vaulted, and no value is printed.
func TestAppPushOverTheScanLimits(t *testing.T) {
	e := newAppEnvConfig(t, "scan_limits:\n  max_commits: 50\n")
	g := secrettest.Fresh(t)
	scanned, unscanned := g.Stripe(), g.Stripe()
	work := e.clone(t)
	work.Git("checkout", "-q", "-b", "import")
	work.Commit("dev <dev@acme.test>", "legacy", map[string]string{"legacy/old.env": "OLD_STRIPE_KEY=" + unscanned + "\n"})
	for i := range 58 {
		work.Commit("dev <dev@acme.test>", fmt.Sprintf("import %d", i), map[string]string{fmt.Sprintf("data/%02d.txt", i): fmt.Sprintf("row %d\n", i)})
	}
	head := work.Commit("dev <dev@acme.test>", "config", map[string]string{"config/payments.yml": "stripe_api_key: " + scanned + "\n"})
	work.Git("push", "-q", "origin", "import")

	r := e.completedRun(t, head)
	if r.Conclusion != "neutral" {
		t.Errorf("conclusion %s, want neutral\n%s", r.Conclusion, r.Summary)
	}
	for _, want := range []string{
		"pushvault scanned 50 commits pushed to `import`",
		"it adds 60 commits, more than this server's `scan_limits.max_commits` (50)",
		"the 10 commits older than",
		fmt.Sprintf("run `pushvault scan --range origin/main..%s`", head[:7]),
	} {
		if !strings.Contains(r.Summary, want) {
			t.Errorf("the summary does not say %q:\n%s", want, r.Summary)
		}
	}
	if want := "1 secret moved to Vault; 10 commits not scanned (over the scan limits)"; r.Title != want {
		t.Errorf("title %q, want %q", r.Title, want)
	}
	kv := e.vault.Client(t).KVv2("secret")
	if s, err := kv.GetVersion(context.Background(), "pushvault/acme/shop/stripe_api_key", 1); err != nil || s.Data["value"] != scanned {
		t.Errorf("the secret in the scanned commits is not vaulted (%v)", err)
	}
	if _, err := kv.Get(context.Background(), "pushvault/acme/shop/old_stripe_key"); err == nil {
		t.Error("a secret of an unscanned commit is in Vault")
	}
	e.fixPR(t, head, "import")
	noPlantedValue(t, []string{scanned, unscanned}, nil, append(e.githubTexts(), e.serve.logs.String()))
}
