package main_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppBackfillBudgetRerunAndIssueLifecycle is issue 16's re-run, rate
// budget and history-issue lifecycle through the stand-in. acme holds shop
// (clean) and legacy (a Stripe and a SendGrid key, each added and then
// removed on main).
//
//   - The installation's GitHub budget is low (100 of 5000 left, under the
//     default 20% reserve): both backfills wait, saying so in the log and
//     /metrics, while a push to shop is scanned and its check run
//     completed; once the stand-in's window resets, they finish.
//   - On legacy's "Exposed in history" issue a writer's
//     `/pushvault rescan-history` is refused with a reply (nothing
//     queued); a maintainer's `/pushvault false-positive ID REASON` ticks
//     the SendGrid item with the reason; `pushvault rotated` on serve's
//     ledger (serve stopped, then restarted) ticks the Stripe item and the
//     issue closes (the ledger watch picks up the record written while
//     serve was down); the maintainer's rescan-history scans legacy again
//     under a request of its own, and the issue stays closed.
//   - "Rescan history" on shop's check run, pressed by a maintainer,
//     backfills shop again under the press's own request.
//
// No planted value in any output.
func TestAppBackfillBudgetRerunAndIssueLifecycle(t *testing.T) {
	e := newStandIn(t)
	g := secrettest.Fresh(t)
	stripe, sendgrid := g.Stripe(), g.SendGrid()
	planted := []string{stripe, sendgrid}
	legacy := e.newRepo(t, "legacy")
	legacy.Commit("dev <dev@acme.test>", "payments", map[string]string{"config.env": "STRIPE_API_KEY=" + stripe + "\n"})
	legacy.Commit("dev <dev@acme.test>", "mail", map[string]string{"mail.env": "SENDGRID_API_KEY=" + sendgrid + "\n"})
	legacy.Git("rm", "-q", "config.env", "mail.env")
	legacy.Git("commit", "-q", "-m", "remove the keys")
	legacy.Git("push", "origin", "HEAD:main")
	for login, role := range map[string]string{"wes": "write", "octocat": "maintain"} {
		for _, repo := range []string{"shop", "legacy"} {
			if err := e.srv.SetRole("acme", repo, login, role); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The budget: low until the stand-in's window resets.
	e.srv.SetRateBudget(e.inst, 100)
	e.start(t, "")
	if _, err := e.srv.TriggerInstallation(e.inst, "created"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "a backfill waiting for GitHub's budget", func() bool {
		return strings.Contains(e.serve.logs.String(), "backfill waiting: GitHub budget under the reserve kept for pushes")
	})
	clean := e.pushFiles(t, map[string]string{"docs/readme.md": "nothing here\n"})
	e.waitFor(t, "the push's check run, the backfills still waiting", func() bool {
		r := e.checkRun(clean)
		return r != nil && r.Status == "completed"
	})
	if n := e.backfills(t, "done"); n != 0 {
		t.Fatalf("%d repositories backfilled while the budget was under the reserve", n)
	}
	if len(e.srv.Issues()) != 0 {
		t.Fatal("an issue opened while the budget was under the reserve")
	}
	if m := metricValue(t, e, "pushvault_backfill_budget_waits_total"); m < 1 {
		t.Errorf("pushvault_backfill_budget_waits_total = %v while waiting", m)
	}
	e.srv.ResetRateBudget(e.inst)
	e.waitFor(t, "both repositories backfilled after the reset", func() bool { return e.backfills(t, "done") == 2 })
	if !strings.Contains(e.serve.logs.String(), "GitHub budget back over the backfill's reserve: resuming") {
		t.Error("no log line says the backfill resumed")
	}

	issue := historyIssue(t, e.srv)
	ids := findingIDs(issue.Body)
	if issue.State != "open" || ids["Stripe"] == "" || ids["SendGrid"] == "" ||
		!strings.Contains(issue.Body, "- [ ] **Stripe**") || !strings.Contains(issue.Body, "- [ ] **SendGrid**") {
		t.Fatalf("history issue (%s), want open with Stripe and SendGrid open:\n%s", issue.State, issue.Body)
	}

	// A writer may not re-run: a reply, nothing queued.
	if _, _, err := e.srv.TriggerIssueComment("acme", "legacy", issue.Number, "wes", githubapp.CommandRescanHistory); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the refusal's reply", func() bool {
		return commentWith(e.srv, "@wes holds the write role on acme/legacy") != ""
	})
	if strings.Contains(e.serve.logs.String(), "history rescan queued") {
		t.Error("a writer's rescan-history was queued")
	}
	// A maintainer closes the SendGrid key as a false positive.
	if _, _, err := e.srv.TriggerIssueComment("acme", "legacy", issue.Number, "octocat",
		githubapp.CommandFalsePositive+" "+ids["SendGrid"]+" a test fixture, never a live key"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the SendGrid item closed in the issue", func() bool {
		b := historyIssue(t, e.srv).Body
		return strings.Contains(b, "- [x] **SendGrid**") && strings.Contains(b, "closed: false positive: a test fixture, never a live key (github:octocat)")
	})
	if is := historyIssue(t, e.srv); is.State != "open" || !strings.Contains(is.Body, "- [ ] **Stripe**") {
		t.Fatalf("with Stripe left the issue is %s:\n%s", is.State, is.Body)
	}

	// `pushvault rotated` on serve's ledger while serve is down.
	e.serve.stop(t)
	first := e.serve.logs.String()
	env := []string{"VAULT_ADDR=" + e.vault.Addr, "VAULT_TOKEN=" + e.vault.Token}
	if res := runBinary(t, t.TempDir(), env, "rotated", ids["Stripe"], "--actor", "alice", "--data-dir", e.data); res.code != 0 {
		t.Fatalf("pushvault rotated: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	e.start(t, "")
	e.waitFor(t, "the issue closed once every item is", func() bool {
		is := historyIssue(t, e.srv)
		return is.State == "closed" && strings.Contains(is.Body, "- [x] **Stripe**")
	})

	// A maintainer's re-run: a new request, legacy scanned once more.
	_, comment, err := e.srv.TriggerIssueComment("acme", "legacy", issue.Number, "octocat", "again please\n"+githubapp.CommandRescanHistory)
	if err != nil {
		t.Fatal(err)
	}
	request := "issue_comment/" + strconv.FormatInt(comment, 10)
	e.waitFor(t, "legacy backfilled again under the comment's request", func() bool {
		return backfilledFor(e.serve.logs.String(), "acme/legacy", request)
	})
	if n := scannedLines(first, "acme/legacy") + scannedLines(e.serve.logs.String(), "acme/legacy"); n != 2 {
		t.Errorf("legacy's history scanned %d times, want 2 (install, re-run)", n)
	}
	if is := historyIssue(t, e.srv); is.State != "closed" || len(e.srv.Issues()) != 1 {
		t.Errorf("after the re-run: issue %s, %d issues; want the one issue, still closed", is.State, len(e.srv.Issues()))
	}

	// "Rescan history" on shop's check run.
	run := e.checkRun(clean)
	if !hasAction(run, githubapp.ActionRescanHistory) {
		t.Fatalf("shop's check run offers %+v, want Rescan history", run.Actions)
	}
	d, err := e.srv.TriggerCheckRunAs(run.ID, "requested_action", githubapp.ActionRescanHistory, "octocat")
	if err != nil {
		t.Fatal(err)
	}
	pressed := "check_run/" + strconv.FormatInt(run.ID, 10) + "/" + d.ID
	e.waitFor(t, "shop backfilled again under the press's request", func() bool {
		return backfilledFor(e.serve.logs.String(), "acme/shop", pressed)
	})
	e.serve.stop(t)
	status := statusOf(t, e)
	for repo, want := range map[string]queue.BackfillState{
		"acme/legacy": {Request: request, RequestedBy: "github:octocat", State: queue.BackfillDone, Scans: 1, InHistory: 2, Issue: issue.Number},
		"acme/shop":   {Request: pressed, RequestedBy: "github:octocat", State: queue.BackfillDone, Scans: 1},
	} {
		st := status[repo]
		if st.Request != want.Request || st.RequestedBy != want.RequestedBy || st.State != want.State || st.Scans != want.Scans ||
			st.InHistory != want.InHistory || st.Issue != want.Issue {
			t.Errorf("status of %s: %+v\nwant %+v", repo, st, want)
		}
	}
	text := pushvault(t, "", "backfill", "status", "--data-dir", e.data)
	if !strings.Contains(text.stdout, request) || !strings.Contains(text.stdout, "github:octocat") {
		t.Errorf("backfill status does not name the request and who asked:\n%s", text.stdout)
	}
	noPlantedValue(t, planted, exportLedger(t, e.vault, "--data-dir", e.data),
		append(e.githubTexts(), first, e.serve.logs.String()))
}

// historyIssue is the one "Exposed in history" issue on the stand-in.
func historyIssue(t *testing.T, srv *githubtest.Server) githubtest.Issue {
	t.Helper()
	var out []githubtest.Issue
	for _, is := range srv.Issues() {
		for _, l := range is.Labels {
			if l == githubapp.HistoryLabel {
				out = append(out, is)
			}
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d history issues, want 1", len(out))
	}
	return out[0]
}

var findingLine = regexp.MustCompile("(?m)^- \\[[ x]\\] \\*\\*(\\w+)\\*\\* .*\\(finding `([^`]+)`\\)$")

// findingIDs maps each detector the issue lists to its item's finding id.
func findingIDs(body string) map[string]string {
	out := map[string]string{}
	for _, m := range findingLine.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// commentWith is the body of the first comment holding sub ("" if none).
func commentWith(srv *githubtest.Server, sub string) string {
	for _, c := range srv.Comments() {
		if strings.Contains(c.Body, sub) {
			return c.Body
		}
	}
	return ""
}

// backfilledFor reports whether serve's log says repo was backfilled for
// request.
func backfilledFor(logs, repo, request string) bool {
	for _, line := range strings.Split(logs, "\n") {
		var rec struct{ Msg, Repo, Request string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "repository backfilled" && rec.Repo == repo && rec.Request == request {
			return true
		}
	}
	return false
}

// statusOf is `pushvault backfill status --format json` (serve stopped),
// by repository.
func statusOf(t *testing.T, e *appEnv) map[string]queue.BackfillState {
	t.Helper()
	res := pushvault(t, "", "backfill", "status", "--data-dir", e.data, "--format", "json")
	if res.code != 0 {
		t.Fatalf("backfill status: exit %d\n%s", res.code, res.stderr)
	}
	out := map[string]queue.BackfillState{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var st queue.BackfillState
		if err := json.Unmarshal([]byte(line), &st); err != nil {
			t.Fatalf("status line %q: %v", line, err)
		}
		out[st.Repository] = st
	}
	return out
}

func hasAction(r *githubtest.CheckRun, id string) bool {
	if r == nil {
		return false
	}
	for _, a := range r.Actions {
		if a.Identifier == id {
			return true
		}
	}
	return false
}

// metricValue is the value of an unlabelled metric on serve's /metrics
// (-1 when absent).
func metricValue(t *testing.T, e *appEnv, name string) float64 {
	t.Helper()
	_, body := e.serve.get(t, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if err := json.Unmarshal([]byte(v), &f); err == nil {
				return f
			}
		}
	}
	return -1
}
