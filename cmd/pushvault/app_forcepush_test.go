package main_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppScansAHeadForcePushedOver: a secret is pushed and force-pushed
// away before pushvault sees the first push (its delivery held back, then
// sent). The commit is on no branch, yet GitHub serves it by id: pushvault
// fetches it so, finds the secret and vaults it; the check run on it says
// so, with no fix pull request (one would bring the commit back).
func TestAppScansAHeadForcePushedOver(t *testing.T) {
	e := newAppEnv(t)
	stripe := secrettest.New(31).Stripe()
	leak, id := e.forcePushOver(t, stripe)

	e.redeliver(t, id)
	r := e.completedRun(t, leak)
	if r.Conclusion != "action_required" || len(r.Annotations) != 1 || !strings.Contains(r.Summary, "force-pushed over") {
		t.Errorf("check run on the orphaned head: %s with %d annotations, want action_required with 1:\n%s\n%s", r.Conclusion, len(r.Annotations), r.Summary, e.serve.logs)
	}
	s, err := e.vault.Client(t).KVv2("secret").GetVersion(context.Background(), "pushvault/acme/shop/stripe_api_key", 1)
	if err != nil || s.Data["value"] != stripe {
		t.Errorf("the orphaned commit's secret is not vaulted (%v)", err)
	}
	if prs := e.srv.PullRequests(); len(prs) != 0 {
		t.Errorf("%d pull requests; a fix of the orphaned commit would bring it back onto main", len(prs))
	}
	noPlantedValue(t, []string{stripe}, nil, append(e.githubTexts(), e.serve.logs.String()))
}

// TestAppSaysWhenAForcePushedHeadIsGone: the same, but the push's first
// attempt fails (dead letter: GitHub answered 502) and GitHub has collected
// the orphaned commit by the time the push is redelivered: its check run
// ends neutral, saying the commit could not be scanned and how to scan it
// locally.
func TestAppSaysWhenAForcePushedHeadIsGone(t *testing.T) {
	e := newStandIn(t)
	e.start(t, "  max_attempts: 1\n")
	stripe := secrettest.New(32).Stripe()
	leak, id := e.forcePushOver(t, stripe)

	e.srv.Fault(githubtest.Fault{Operation: "repos/get-content", Kind: githubtest.ServerError, Status: 502})
	e.redeliver(t, id)
	if r := e.completedRun(t, leak); r.Conclusion != "failure" {
		t.Fatalf("first attempt: %s, want failure (dead letter)\n%s", r.Conclusion, r.Summary)
	}
	if err := e.srv.Prune("acme", "shop"); err != nil {
		t.Fatal(err)
	}
	e.redeliver(t, id)
	e.waitFor(t, "the check run on the collected head ends neutral", func() bool {
		r := e.checkRun(leak)
		return r != nil && r.Conclusion == "neutral"
	})
	r := e.checkRun(leak)
	if !strings.Contains(r.Summary, "no longer holds") || !strings.Contains(r.Summary, "pushvault scan --range") {
		t.Errorf("neutral check run does not say why and what to do:\n%s", r.Summary)
	}
	noPlantedValue(t, []string{stripe}, nil, append(e.githubTexts(), e.serve.logs.String()))
}

// forcePushOver pushes a commit holding secret to main with its webhook
// held back (dropped, to be redelivered), then force-pushes main back over
// it and waits for that push's check run. It returns the hidden commit and
// its push's delivery id.
func (e *appEnv) forcePushOver(t *testing.T, secret string) (string, string) {
	t.Helper()
	work := e.clone(t)
	base := work.Head()
	e.srv.DropDeliveries(1)
	leak := work.Commit("dev <dev@acme.test>", "config", map[string]string{"config/payments.yml": "stripe_api_key: " + secret + "\n"})
	work.Git("push", "-q", "origin", "HEAD:main")
	id := e.pushDelivery(t, leak)
	work.Git("reset", "-q", "--hard", base)
	clean := work.Commit("dev <dev@acme.test>", "oops", map[string]string{"README.md": "shop, again\n"})
	work.Git("push", "-q", "--force", "origin", "HEAD:main")
	if r := e.completedRun(t, clean); r.Conclusion != "success" {
		t.Fatalf("the force push: %s\n%s", r.Conclusion, r.Summary)
	}
	return leak, id
}

// redeliver sends delivery id again, as GitHub's "Redeliver" does, and
// wants it accepted.
func (e *appEnv) redeliver(t *testing.T, id string) {
	t.Helper()
	if d, err := e.srv.Redeliver(id); err != nil || d.StatusCode != http.StatusAccepted {
		t.Fatalf("redelivery of %s: %d %s, %v", id, d.StatusCode, d.Err, err)
	}
}
