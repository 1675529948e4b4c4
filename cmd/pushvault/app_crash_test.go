package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// TestAppKilledAtEveryBoundary: serve is killed (SIGKILL) at each side
// effect boundary of a push that leaks a Stripe key and a GitHub token
// (revoked through POST /credentials/revoke: a rotator in play), then
// restarted on the same data. Each time the push ends with one check run
// completed action_required, one fix PR, one vault version per secret, one
// revocation request for the token, one vaulted and one rotation record
// per secret, and a ledger whose chain verifies.
//
// How serve is stopped at a boundary, without a hook in serve: the
// stand-in holds the GitHub request that follows it until serve dies. A
// Slow fault with a long delay holds a request before serving it (nothing
// happens on GitHub); a HoldResponse fault serves it first (the side effect
// happens) and holds the answer, so serve dies not knowing. The vault
// write's boundary is the revocation held before it is served (the
// pipeline vaults, then rotates); the ack's is the commit comment held
// after it is made (the last call before the delivery is marked done and
// acknowledged). The test kills serve once the held request is in (and,
// for HoldResponse, its effect is visible), never on a timer.
func TestAppKilledAtEveryBoundary(t *testing.T) {
	forever := 10 * time.Minute
	for _, tc := range []struct {
		name  string
		fault githubtest.Fault
		// done says the held request's side effect happened (nil: there
		// is none to wait for: the request is held before it is served).
		done func(e *appEnv, head string) bool
	}{
		{"check run created, not recorded", githubtest.Fault{Operation: "checks/create", Kind: githubtest.HoldResponse},
			func(e *appEnv, head string) bool { return e.checkRun(head) != nil }},
		{"vault written, token not yet revoked", githubtest.Fault{Operation: "credentials/revoke", Kind: githubtest.Slow, Delay: forever}, nil},
		{"token revoked, not recorded", githubtest.Fault{Operation: "credentials/revoke", Kind: githubtest.HoldResponse},
			func(e *appEnv, _ string) bool { return len(e.srv.Revocations()) == 1 }},
		{"fix branch pushed, no PR yet", githubtest.Fault{Operation: "pulls/create", Kind: githubtest.Slow, Delay: forever}, nil},
		{"PR created, not recorded", githubtest.Fault{Operation: "pulls/create", Kind: githubtest.HoldResponse},
			func(e *appEnv, _ string) bool { return len(e.srv.PullRequests()) == 1 }},
		{"check run completed, not recorded", githubtest.Fault{Operation: "checks/update", Kind: githubtest.HoldResponse},
			func(e *appEnv, head string) bool { r := e.checkRun(head); return r != nil && r.Status == "completed" }},
		{"everything done, not acknowledged", githubtest.Fault{Operation: "repos/create-commit-comment", Kind: githubtest.HoldResponse},
			func(e *appEnv, _ string) bool { return len(e.srv.Comments()) == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAppEnv(t)
			e.srv.Fault(tc.fault)
			head, planted := e.pushLeaks(t)
			e.waitFor(t, "serve held at the boundary", func() bool {
				return e.srv.FaultHits() == 1 && (tc.done == nil || tc.done(e, head))
			})
			e.serve.kill()
			e.start(t, "")
			run := e.completedRun(t, head)
			e.processed(t, e.pushDelivery(t, head))
			if run.Conclusion != "action_required" || len(run.Annotations) != 2 {
				t.Errorf("check run %s with %d annotations, want action_required with 2\n%s", run.Conclusion, len(run.Annotations), run.Summary)
			}
			e.runsOn(t, head, 1, "after the restart")
			if !strings.Contains(run.Summary, "rotated by github_token; exposed value proven dead; exposed version destroyed") {
				t.Errorf("the summary does not say the token was revoked and proven dead:\n%s", run.Summary)
			}
			e.remediatedOnceWith(t, head, map[string]int{"stripe_api_key": 1, "github_token": 2})
			if n := len(e.srv.Revocations()); n != 1 {
				t.Errorf("%d revocation requests, want 1", n)
			}
			if n := len(e.srv.Comments()); n != 1 {
				t.Errorf("%d commit comments, want 1", n)
			}
			e.serve.stop(t)
			count := map[string]int{}
			for _, r := range exportLedger(t, e.vault, "--data-dir", e.data) {
				count[r.Transition]++
			}
			for tr, want := range map[string]int{evidence.Vaulted: 2, evidence.Rotated: 1, evidence.FixProposed: 2} {
				if count[tr] != want {
					t.Errorf("%d %s records, want %d (ledger: %v)", count[tr], tr, want, count)
				}
			}
			noPlantedValue(t, planted, nil, append(e.githubTexts(), e.serve.logs.String()))
		})
	}
}

// pushLeaks commits a Stripe key and a GitHub token (revocable on the
// stand-in) to main and pushes; it returns the head and the values.
func (e *appEnv) pushLeaks(t *testing.T) (string, []string) {
	t.Helper()
	stripe := secrettest.Fresh(t).Stripe()
	ghToken, err := e.srv.UserToken("acme", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	head := e.pushFiles(t, map[string]string{
		"config/payments.yml": "stripe_api_key: " + stripe + "\n",
		"deploy.py":           "GITHUB_TOKEN = \"" + ghToken + "\"\n",
	})
	return head, []string{stripe, ghToken}
}

// remediatedOnceWith checks one fix PR for head and, for each secret
// named, the number of versions Vault holds (1: the exposed value; 2: and
// the rotation's).
func (e *appEnv) remediatedOnceWith(t *testing.T, head string, versions map[string]int) {
	t.Helper()
	prs := 0
	for _, pr := range e.srv.PullRequests() {
		if pr.Head == "pushvault/fix-"+head[:7] {
			prs++
		}
	}
	if prs != 1 {
		t.Errorf("%d fix pull requests, want 1", prs)
	}
	vc := e.vault.Client(t)
	for name, n := range versions {
		md, err := vc.KVv2("secret").GetMetadata(context.Background(), "pushvault/acme/shop/"+name)
		if err != nil {
			t.Errorf("vault %s: %v", name, err)
			continue
		}
		if md.CurrentVersion != n || len(md.Versions) != n {
			t.Errorf("vault %s: current version %d of %d, want %d of %d", name, md.CurrentVersion, len(md.Versions), n, n)
		}
	}
}
