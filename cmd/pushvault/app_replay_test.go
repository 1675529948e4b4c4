package main_test

import (
	"strings"
	"testing"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// TestAppReplaysActOnce: a captured, signed delivery sent again under a
// fresh X-GitHub-Delivery (the signature covers the body alone) acts no
// second time, because serve keys each request by what it means — a push
// by repository and head, a check run's press by run, action and button,
// a check suite's re-run by suite and the suite's updated_at — not by its
// delivery id. Replayed here: the push of a leaked GitHub token (held for
// approval), a refused "Approve rotation", the accepted one, a "Re-run" and
// a "Re-run all checks". Each replay leaves one check run per request, one
// revocation of the token, one ledger record per press and a verified
// chain; a second press that means something new (a re-run of the approved
// run, a later "Re-run all checks") still gets its own check run.
func TestAppReplaysActOnce(t *testing.T) {
	e := newAppEnvConfig(t, "repository_may_set: [rotation.approval]\n")
	work := e.clone(t)
	settings := work.Commit("dev <dev@acme.test>", "settings", map[string]string{".github/pushvault.yml": "rotation:\n  approval: required\n"})
	work.Git("push", "origin", "HEAD:main")
	e.completedRun(t, settings)
	ghToken, err := e.srv.UserToken("acme", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	head := work.Commit("dev <dev@acme.test>", "deploy script", map[string]string{"deploy.py": "GITHUB_TOKEN = \"" + ghToken + "\"\n"})
	work.Git("push", "origin", "HEAD:main")
	first := e.completedRun(t, head)
	if first.Conclusion != "action_required" || !strings.Contains(first.Summary, "waits for approval") {
		t.Fatalf("the push's check run: %s\n%s", first.Conclusion, first.Summary)
	}
	pr := e.fixPR(t, head, "main")
	e.waitFor(t, "the fix branch's push handled", func() bool {
		return strings.Contains(e.serve.logs.String(), "pushvault's own fix commit")
	})

	e.replay(t, e.pushDelivery(t, head))
	e.runsOn(t, head, 1, "after the push's replay")

	setRoles(t, e.srv, map[string]string{"wes": "write", "octocat": "maintain"})
	refused := e.press(t, first.ID, "requested_action", "approve_rotation", "wes")
	e.replay(t, refused)
	e.runsOn(t, head, 1, "after a refused approval and its replay")

	approved := e.press(t, first.ID, "requested_action", "approve_rotation", "octocat")
	e.waitRuns(t, head, 2)
	e.replay(t, approved)
	e.runsOn(t, head, 2, "after the approval's replay")

	rerun := e.press(t, first.ID, "rerequested", "", "octocat")
	e.waitRuns(t, head, 3)
	e.replay(t, rerun)
	e.runsOn(t, head, 3, "after the re-run's replay")

	// A second press that means something new: "Re-run" on the approved
	// run, which has an id (and buttons) of its own.
	e.press(t, e.runs(head)[1].ID, "rerequested", "", "octocat")
	e.waitRuns(t, head, 4)

	suite := e.rerunAll(t, head)
	e.waitRuns(t, head, 5)
	e.replay(t, suite)
	e.runsOn(t, head, 5, "after the suite re-run's replay")
	// A later "Re-run all checks" finds the suite updated by the first
	// one's run: a request of its own.
	e.rerunAll(t, head)
	e.waitRuns(t, head, 6)

	if got := e.srv.Revocations(); len(got) != 1 {
		t.Errorf("%d revocation requests, want the token revoked once", len(got))
	}
	if n := len(e.srv.PullRequests()); n != 1 || e.srv.PullRequests()[0].Number != pr.Number {
		t.Errorf("%d pull requests, want the one fix PR", n)
	}
	e.serve.stop(t)
	count := map[string]int{}
	for _, r := range exportLedger(t, e.vault, "--data-dir", e.data) {
		count[r.Transition]++
	}
	for _, tr := range []string{evidence.ActionRefused, evidence.RotationApproved, evidence.Rotated, evidence.Vaulted} {
		if count[tr] != 1 {
			t.Errorf("%d %s records, want 1 (ledger: %v)", count[tr], tr, count)
		}
	}
	noPlantedValue(t, []string{ghToken}, nil, append(e.githubTexts(), e.serve.logs.String()))
}

// replay sends delivery id again under a fresh delivery id
// (githubtest.Replay), wants it accepted, and waits until serve has
// processed it.
func (e *appEnv) replay(t *testing.T, id string) {
	t.Helper()
	d, err := e.srv.Replay(id)
	if err != nil || d.StatusCode != 202 {
		t.Fatalf("replay of %s: %d %s, %v", id, d.StatusCode, d.Err, err)
	}
	e.processed(t, d.ID)
}

// processed waits until serve has processed delivery id.
func (e *appEnv) processed(t *testing.T, id string) {
	t.Helper()
	e.waitFor(t, "delivery "+id+" processed", func() bool {
		return strings.Contains(grepLines(e.serve.logs.String(), `"delivery_id":"`+id+`"`), "event processed")
	})
}

// press sends check_run action (identifier: the button) on run id as login
// and waits until serve has processed it; it returns the delivery's id.
func (e *appEnv) press(t *testing.T, id int64, action, identifier, login string) string {
	t.Helper()
	d, err := e.srv.TriggerCheckRunAs(id, action, identifier, login)
	if err != nil {
		t.Fatal(err)
	}
	e.processed(t, d.ID)
	return d.ID
}

// rerunAll presses "Re-run all checks" on head, waits until serve has
// processed it, and returns the delivery's id.
func (e *appEnv) rerunAll(t *testing.T, head string) string {
	t.Helper()
	d, err := e.srv.TriggerCheckSuite("acme", "shop", head, "octocat")
	if err != nil {
		t.Fatal(err)
	}
	e.processed(t, d.ID)
	return d.ID
}

// runs is pushvault's check runs on head, oldest first.
func (e *appEnv) runs(head string) []githubtest.CheckRun {
	var out []githubtest.CheckRun
	for _, r := range e.srv.CheckRuns() {
		if r.HeadSHA == head && r.Name == "pushvault" {
			out = append(out, r)
		}
	}
	return out
}

// waitRuns waits for n completed check runs on head.
func (e *appEnv) waitRuns(t *testing.T, head string, n int) {
	t.Helper()
	e.waitFor(t, "completed check runs on the head", func() bool {
		done := 0
		for _, r := range e.runs(head) {
			if r.Status == "completed" {
				done++
			}
		}
		return done >= n
	})
}

// runsOn wants exactly n check runs on head, every one completed.
func (e *appEnv) runsOn(t *testing.T, head string, n int, when string) {
	t.Helper()
	runs := e.runs(head)
	done := 0
	for _, r := range runs {
		if r.Status == "completed" {
			done++
		}
	}
	if len(runs) != n || done != n {
		t.Errorf("%s: %d check runs on the head (%d completed), want %d", when, len(runs), done, n)
	}
}
