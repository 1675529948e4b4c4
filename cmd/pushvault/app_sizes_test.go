package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trufflesecurity/trufflehog/v3/pkg/detectors"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppManySecretsFitGitHubsLimits: one push plants 200 distinct secrets
// (fresh values), more than one fix pull request description holds. The
// stand-in refuses, as GitHub does, any body, title or check-run output
// over GitHub's limits. The push must still get its fix pull request and a
// completed check run; every secret (its vault path and where it was
// committed) must be listed in the pull request's description or the
// comments continuing it, and in the check run (summary, details or
// annotations); no planted value may reach GitHub, the logs or the ledger.
func TestAppManySecretsFitGitHubsLimits(t *testing.T) {
	const files, perFile = 20, 10
	e := newAppEnv(t)
	g := secrettest.Fresh(t)
	var planted []string
	type secret struct{ vaultPath, where string }
	var want []secret
	tree := map[string]string{}
	for f := range files {
		path := fmt.Sprintf("services/payments/config/merchants/stripe-live-accounts-%02d.yml", f)
		var b strings.Builder
		for k := range perFile {
			v := stripeKey(g)
			planted = append(planted, v)
			// No "live" in the name: with it, a key whose random part starts
			// "se" shares "_live_se" with the name, and pushvault's guard
			// against names holding a piece of the secret renames it.
			name := fmt.Sprintf("stripe_secret_key_for_merchant_account_%03d", f*perFile+k)
			fmt.Fprintf(&b, "%s: %s\n", name, v)
			want = append(want, secret{"secret/data/pushvault/acme/shop/" + name, fmt.Sprintf("%s:%d", path, k+1)})
		}
		tree[path] = b.String()
	}
	work := e.clone(t)
	head := work.Commit("dev <dev@acme.test>", "payment accounts", tree)
	work.Git("push", "origin", "HEAD:main")

	var run *githubtest.CheckRun
	waitFor(t, "the check run completes", func() bool {
		run = e.checkRun(head)
		return run != nil && run.Status == "completed"
	})
	if run.Conclusion != githubapp.ConclusionActionRequired {
		t.Fatalf("check run concluded %q, want action_required:\n%s\n%s", run.Conclusion, run.Summary, e.serve.logs)
	}
	var pr *githubtest.PullRequest
	for _, p := range e.srv.PullRequests() {
		if p.Head == "pushvault/fix-"+head[:7] {
			pr = &p
		}
	}
	if pr == nil {
		t.Fatalf("no fix pull request; serve's logs:\n%s", e.serve.logs)
	}
	prTexts := []string{pr.Body}
	for _, c := range e.srv.Comments() {
		if c.Kind == "issue" && c.Issue == pr.Number {
			prTexts = append(prTexts, c.Body)
		}
	}
	if len(prTexts) < 2 {
		t.Errorf("the description fits in one body (%d characters): the test no longer shows GitHub's limit", utf8.RuneCountInString(pr.Body))
	}
	checkTexts := []string{run.Summary, run.Text}
	for _, a := range run.Annotations {
		checkTexts = append(checkTexts, a.Path+":"+fmt.Sprint(a.StartLine)+" "+a.Message)
	}
	pull, check := strings.Join(prTexts, "\n"), strings.Join(checkTexts, "\n")
	for _, s := range want {
		if !strings.Contains(pull, "`"+s.vaultPath+"`") || !strings.Contains(pull, "`"+s.where+"`") {
			t.Errorf("%s (%s) is not listed in the fix pull request or its comments", s.vaultPath, s.where)
		}
		if !strings.Contains(check, s.vaultPath) || !strings.Contains(check, s.where) {
			t.Errorf("%s (%s) is not listed in the check run", s.vaultPath, s.where)
		}
	}
	waitFor(t, "the commit is commented on", func() bool {
		for _, c := range e.srv.Comments() {
			if c.CommitSHA == head {
				return true
			}
		}
		return false
	})
	e.serve.stop(t)
	noPlantedValue(t, planted, exportLedger(t, e.vault, "--data-dir", e.data), append(e.githubTexts(), e.serve.logs.String()))
}

// stripeKey is a fresh Stripe key TruffleHog reports: not one its
// known-false-positive filter drops for holding a common word (as
// "…Kind…" would be), which no fix or listing could then be asked of.
func stripeKey(g *secrettest.Gen) string {
	for {
		v := g.Stripe()
		if fp, _ := detectors.IsKnownFalsePositive(v, detectors.DefaultFalsePositives, true); !fp {
			return v
		}
	}
}

// TestAppTakesAPushOfSeveralMiB: a real push whose webhook payload is
// several MiB (a commit with a 3 MiB message, carried twice: in commits
// and head_commit), over NATS's 1 MiB message limit and under GitHub's
// 25 MB. serve answers 202, and the push is scanned and fixed like any
// other: before, the queue refused it, serve answered 503, and GitHub
// does not redeliver on its own, so the leak went unseen.
func TestAppTakesAPushOfSeveralMiB(t *testing.T) {
	e := newAppEnv(t)
	key := secrettest.Fresh(t).Stripe()
	work := e.clone(t)
	work.Write(map[string]string{"config/payments.yml": "stripe_api_key: " + key + "\n"})
	msgFile := filepath.Join(t.TempDir(), "message")
	msg := "vendor: regenerate the API clients\n\n" + strings.Repeat("- regenerated client for one endpoint of the billing API\n", 55000)
	if err := os.WriteFile(msgFile, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	work.Git("add", "-A")
	work.Git("commit", "-q", "-F", msgFile)
	head := work.Head()
	work.Git("push", "origin", "HEAD:main")
	r := e.completedRun(t, head)
	if r.Conclusion != "action_required" || len(r.Annotations) != 1 {
		t.Errorf("check run %s with %d annotations, want action_required with 1\n%s", r.Conclusion, len(r.Annotations), r.Summary)
	}
	e.fixPR(t, head, "main")
	pushes := 0
	for _, d := range e.srv.Deliveries() {
		if d.Event != "push" || !strings.Contains(string(d.Payload), `"after":"`+head+`"`) {
			continue
		}
		pushes++
		if len(d.Payload) < 4<<20 || d.StatusCode != 202 {
			t.Errorf("the push's delivery of %d bytes answered %d, want several MiB answered 202", len(d.Payload), d.StatusCode)
		}
	}
	if pushes != 1 {
		t.Errorf("%d deliveries of the push, want 1", pushes)
	}
	noPlantedValue(t, []string{key}, nil, append(e.githubTexts(), e.serve.logs.String()))
}
