package githubtest

import (
	"context"
	"testing"

	"github.com/google/go-github/v60/github"
)

// TestTriggerIssueComment: a person's comment on an issue the App opened
// is listed among the issue's comments and delivered as issue_comment
// created, valid against GitHub's webhooks description, with the
// commenter as sender and the issue's body; SetRateBudget lowers what GET
// /rate_limit reports for the installation's tokens until
// ResetRateBudget.
func TestTriggerIssueComment(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	is, _, err := f.gh.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("t"), Body: github.String("the body")})
	if err != nil {
		t.Fatal(err)
	}
	d, id, err := f.srv.TriggerIssueComment("acme", "shop", is.GetNumber(), "octocat", "/pushvault rescan-history")
	if err != nil {
		t.Fatal(err)
	}
	if d.Event != "issue_comment" || d.Action != "created" || d.Err != "" {
		t.Errorf("delivery %s.%s: %s", d.Event, d.Action, d.Err)
	}
	if v := f.srv.Violations(); len(v) != 0 {
		t.Fatalf("contract violations: %v", v)
	}
	comments, _, err := f.gh.Issues.ListComments(ctx, "acme", "shop", is.GetNumber(), nil)
	if err != nil || len(comments) != 1 || comments[0].GetID() != id || comments[0].GetUser().GetLogin() != "octocat" {
		t.Errorf("comments %v, %v; want octocat's", comments, err)
	}
	got := f.rc.events("issue_comment")
	if len(got) != 1 {
		t.Fatalf("%d issue_comment deliveries, want 1", len(got))
	}
	e := got[0]
	if e["action"] != "created" || e["sender"].(map[string]any)["login"] != "octocat" || e["issue"].(map[string]any)["body"] != "the body" ||
		e["comment"].(map[string]any)["body"] != "/pushvault rescan-history" {
		t.Errorf("payload %v", e)
	}

	f.srv.SetRateBudget(f.inst, 100)
	rl, _, err := f.gh.RateLimit.Get(ctx)
	if err != nil || rl.GetCore().Remaining != 100 || rl.GetCore().Limit != 5000 {
		t.Errorf("low budget: %+v, %v", rl, err)
	}
	f.srv.ResetRateBudget(f.inst)
	if rl, _, err = f.gh.RateLimit.Get(ctx); err != nil || rl.GetCore().Remaining < 4000 {
		t.Errorf("after the reset: %+v, %v", rl, err)
	}
}
