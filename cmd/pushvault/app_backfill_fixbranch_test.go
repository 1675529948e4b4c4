package main_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppBackfillAfterPushFix: a SendGrid key is on main before serve
// runs (no webhook); then a push adds a Stripe key and a GitHub token, and
// serve vaults and rotates those two and opens the fix pull request from
// pushvault/fix-<head7>, which leaves the older key in place (the push
// scans what it adds). Then `pushvault backfill --repo` backfills the
// repository, whose head is the same commit, and finds all three at the
// head: its fix commit differs from the push's on the same branch. The
// backfill finishes (before the fix its push of the branch was rejected
// as non-fast-forward and retried until its attempts ran out), updates
// the push's pull request to a fix of all three instead of opening a
// second, vaults the older key once and nothing else again, and no
// planted value shows anywhere.
func TestAppBackfillAfterPushFix(t *testing.T) {
	e := newStandIn(t)
	older := secrettest.Fresh(t).SendGrid()
	e.pushFiles(t, map[string]string{".env": "SENDGRID_API_KEY=" + older + "\n"})
	queueCfg := "  max_attempts: 3\n  backoff: [200ms]\n"
	e.start(t, queueCfg)
	head, planted := e.pushLeaks(t)
	planted = append(planted, older)
	e.fixPR(t, head, "main")
	e.completedRun(t, head)
	e.serve.stop(t)
	first := e.serve.logs.String()

	out := pushvault(t, "", "backfill", "--repo", "acme/shop", "--data-dir", e.data)
	if out.code != 0 {
		t.Fatalf("backfill --repo: exit %d\n%s", out.code, out.stderr)
	}
	e.start(t, queueCfg)
	e.waitFor(t, "the backfill of acme/shop done or failed", func() bool {
		return e.backfills(t, "done")+e.backfills(t, "failed") == 1
	})
	done := e.backfills(t, "done")
	e.serve.stop(t)
	logs := e.serve.logs.String()
	if done != 1 {
		t.Fatalf("backfill of acme/shop not done (%d done):\n%s", done, logs)
	}
	if strings.Contains(logs, "non-fast-forward") || strings.Contains(logs, "rejected") {
		t.Errorf("the backfill's fix push was rejected:\n%s", logs)
	}
	// One fix PR, each secret vaulted once, the token revoked once (its
	// path holds the exposed version and the rotation's).
	e.remediatedOnceWith(t, head, map[string]int{"stripe_api_key": 1, "github_token": 2, "sendgrid_api_key": 1})
	prs := e.srv.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests, want the push's one", len(prs))
	}
	if prs[0].State != "open" || !strings.Contains(strings.ToLower(prs[0].Body), "sendgrid") {
		t.Errorf("the fix PR (%s) does not list the older SendGrid key:\n%s", prs[0].State, prs[0].Body)
	}
	// The branch the PR proposes holds none of the three at the head.
	work := e.clone(t)
	work.Git("fetch", "-q", "origin", prs[0].Head)
	for _, f := range []string{".env", "config/payments.yml", "deploy.py"} {
		text := work.Git("show", "FETCH_HEAD:"+f)
		for _, v := range planted {
			if strings.Contains(text, v) {
				t.Errorf("%s on %s still holds a planted value", f, prs[0].Head)
			}
		}
	}
	if n := len(e.srv.RevokedCredentials()); n != 1 {
		t.Errorf("%d revocations, want 1", n)
	}
	noPlantedValue(t, planted, exportLedger(t, e.vault, "--data-dir", e.data), append(e.githubTexts(), first, logs, out.stdout, out.stderr))
}

// backfills is how many repositories serve's /metrics say are in state
// (-1 before serve answers).
func (e *appEnv) backfills(t *testing.T, state string) int {
	t.Helper()
	code, body := e.serve.get(t, "/metrics")
	if code != 200 {
		return -1
	}
	prefix := fmt.Sprintf("pushvault_backfill_repositories{state=%q} ", state)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			var n int
			if _, err := fmt.Sscan(v, &n); err == nil {
				return n
			}
		}
	}
	return -1
}

// TestAppBackfillHeadSecretNotRewritable: main's head holds a Slack token
// as `SLACK_BOT_TOKEN=...` in a .js file (as bench -history generates),
// which no rewrite can turn into a reference: the backfill has a secret at
// the head and no fix commit. It opens no pull request, reports none (no
// "PR #0" in its log line or status), and lists the secret with the manual
// step to remove it from the file in the repository's issue instead of
// dropping that step (before: log "pr":0, only the rotation issue).
func TestAppBackfillHeadSecretNotRewritable(t *testing.T) {
	e := newStandIn(t)
	slack := secrettest.Fresh(t).Slack()
	e.pushFiles(t, map[string]string{"product/audit.js": "// audit\nSLACK_BOT_TOKEN=" + slack + "\n"})
	e.start(t, "") // once, to make the queue's streams
	e.serve.stop(t)
	out := pushvault(t, "", "backfill", "--repo", "acme/shop", "--data-dir", e.data)
	if out.code != 0 {
		t.Fatalf("backfill --repo: exit %d\n%s", out.code, out.stderr)
	}
	e.start(t, "  max_attempts: 3\n  backoff: [200ms]\n")
	e.waitFor(t, "the backfill of acme/shop done or failed", func() bool {
		return e.backfills(t, "done")+e.backfills(t, "failed") == 1
	})
	done := e.backfills(t, "done")
	e.serve.stop(t)
	logs := e.serve.logs.String()
	if done != 1 {
		t.Fatalf("backfill of acme/shop not done:\n%s", logs)
	}
	if prs := e.srv.PullRequests(); len(prs) != 0 {
		t.Errorf("%d pull requests; nothing could be rewritten", len(prs))
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"repository backfilled"`) && strings.Contains(line, `"pr":0`) {
			t.Errorf("the backfill's log names pull request 0: %s", line)
		}
	}
	// The rotation issue (a Slack token is rotated by a person) and the
	// repository's issue with the step no pull request takes.
	var body string
	for _, is := range e.srv.Issues() {
		if slices.Contains(is.Labels, githubapp.HistoryLabel) {
			body = is.Body
		}
	}
	if body == "" {
		t.Fatalf("no %q issue listing the token left at the head; issues: %+v", githubapp.HistoryLabel, e.srv.Issues())
	}
	for _, want := range []string{"**Slack**", "`product/audit.js:2`", "to do: product/audit.js:2"} {
		if !strings.Contains(body, want) {
			t.Errorf("issue lacks %q:\n%s", want, body)
		}
	}
	noPlantedValue(t, []string{slack}, exportLedger(t, e.vault, "--data-dir", e.data), append(e.githubTexts(), logs, out.stdout, out.stderr))
}

// TestAppPushDuringBackfill: a backfill of acme/shop is held by the
// stand-in in the middle of its containment (its first issue), when it
// has scanned the history and still holds its mirror; a push to the same
// repository meanwhile is handled to its completed check run and fix pull
// request without waiting for the backfill (before the backfill had
// mirrors of its own, the push waited on the lock the backfill held until
// the backfill ended). Then the backfill is let go and finishes.
func TestAppPushDuringBackfill(t *testing.T) {
	e := newStandIn(t)
	gen := secrettest.Fresh(t)
	slack, token := gen.Slack(), gen.GitHub()
	e.pushFiles(t, map[string]string{"product/audit.js": "// audit\nSLACK_BOT_TOKEN=" + slack + "\n"})
	e.start(t, "") // once, to make the queue's streams
	e.serve.stop(t)
	out := pushvault(t, "", "backfill", "--repo", "acme/shop", "--data-dir", e.data)
	if out.code != 0 {
		t.Fatalf("backfill --repo: exit %d\n%s", out.code, out.stderr)
	}
	e.srv.Fault(githubtest.Fault{Operation: "issues/create", Kind: githubtest.Slow, Delay: 10 * time.Minute})
	e.start(t, "")
	e.waitFor(t, "the backfill held at its first issue", func() bool { return e.srv.FaultHits() == 1 })

	head := e.pushFiles(t, map[string]string{"deploy.py": "GITHUB_TOKEN = \"" + token + "\"\n"})
	e.completedRun(t, head)
	e.fixPR(t, head, "main")
	if n := e.backfills(t, "done"); n != 0 {
		t.Fatalf("%d backfills done while the stand-in still holds its issue", n)
	}
	// The held request ends with the process that sent it (the fault was
	// armed for one request); the backfill is redelivered and finishes.
	e.serve.kill()
	first := e.serve.logs.String()
	e.start(t, "")
	e.waitFor(t, "the backfill done after the hold", func() bool { return e.backfills(t, "done") == 1 })
	e.serve.stop(t)
	noPlantedValue(t, []string{slack, token}, exportLedger(t, e.vault, "--data-dir", e.data), append(e.githubTexts(), first, e.serve.logs.String(), out.stdout, out.stderr))
}

// TestAppBackfillStepsAsideForPushes: while serve handles a push (held by
// the stand-in at its fix pull request), a backfill's history scan waits
// for it before reading on — pushvault_backfill_yield_seconds_total counts
// at least the 2 s one wait may last — and, the push lasting, the backfill
// goes on all the same and finishes: a push slows a backfill down, never
// stops it.
func TestAppBackfillStepsAsideForPushes(t *testing.T) {
	e := newStandIn(t)
	gen := secrettest.Fresh(t)
	stripe, token := gen.Stripe(), gen.GitHub()
	if err := e.srv.CreateRepo("acme", "legacy", map[string]string{"config.env": "STRIPE_API_KEY=" + stripe + "\n"}); err != nil {
		t.Fatal(err)
	}
	e.start(t, "")
	e.srv.Fault(githubtest.Fault{Operation: "pulls/create", Kind: githubtest.Slow, Delay: 10 * time.Minute})
	e.pushFiles(t, map[string]string{"deploy.py": "GITHUB_TOKEN = \"" + token + "\"\n"})
	e.waitFor(t, "the push held at its fix pull request", func() bool { return e.srv.FaultHits() == 1 })
	if yielded := e.metric(t, "pushvault_backfill_yield_seconds_total"); yielded != 0 {
		t.Fatalf("%g s yielded before any backfill", yielded)
	}

	if _, err := e.srv.TriggerRepositoriesAdded(e.inst, "legacy"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "legacy backfilled while the push is held", func() bool { return e.backfills(t, "done") == 1 })
	if yielded := e.metric(t, "pushvault_backfill_yield_seconds_total"); yielded < 1.9 {
		t.Errorf("the backfill stood aside %g s for the held push, want at least 2 s", yielded)
	}
	if n := len(e.srv.PullRequests()); n != 1 {
		t.Errorf("%d pull requests, want legacy's fix only (the push's is held)", n)
	}
	e.serve.kill()
	noPlantedValue(t, []string{stripe, token}, exportLedger(t, e.vault, "--data-dir", e.data), append(e.githubTexts(), e.serve.logs.String()))
}

// metric is the value of one series on serve's /metrics (0 when absent).
func (e *appEnv) metric(t *testing.T, name string) float64 {
	t.Helper()
	code, body := e.serve.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	return series(body, name)
}
