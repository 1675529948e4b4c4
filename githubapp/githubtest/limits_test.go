package githubtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// TestTextLimits: a title or body over GitHub's limit (counted in
// characters: "é" is one) is refused with 422 and GitHub's
// validation-error naming the field, and nothing is created; one at the
// limit is taken. The answers are held to the description (a violation
// fails the test through the server's report).
func TestTextLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := clone(t, f.srv, "acme", "shop", f.token(t))
	mustGit(t, dir, "checkout", "-q", "-b", "topic")
	writeFile(t, dir, "topic.txt", "topic\n")
	mustGit(t, dir, "add", "-A")
	mustGit(t, dir, "commit", "-q", "-m", "topic")
	mustGit(t, dir, "push", "-q", "origin", "topic")
	head := mustGit(t, dir, "rev-parse", "HEAD")
	at, over := strings.Repeat("é", maxBody), strings.Repeat("é", maxBody+1)
	longTitle := strings.Repeat("t", maxTitle+1)

	refused := func(what, field string, err error) {
		t.Helper()
		var er *github.ErrorResponse
		if !errors.As(err, &er) || er.Response.StatusCode != 422 || len(er.Errors) != 1 || er.Errors[0].Field != field || er.Errors[0].Code != "custom" ||
			!strings.Contains(er.Errors[0].Message, "is too long") {
			t.Errorf("%s: %v, want 422 naming %s too long", what, err, field)
		}
	}
	_, _, err := f.gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{Title: github.String("t"), Head: github.String("topic"), Base: github.String("main"), Body: github.String(over)})
	refused("pull request body", "body", err)
	_, _, err = f.gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{Title: github.String(longTitle), Head: github.String("topic"), Base: github.String("main")})
	refused("pull request title", "title", err)
	if n := len(f.srv.PullRequests()); n != 0 {
		t.Fatalf("%d pull requests created by refused requests", n)
	}
	pr, _, err := f.gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{Title: github.String("t"), Head: github.String("topic"), Base: github.String("main"), Body: github.String(at)})
	if err != nil {
		t.Fatalf("a body at the limit: %v", err)
	}
	_, _, err = f.gh.PullRequests.Edit(ctx, "acme", "shop", pr.GetNumber(), &github.PullRequest{Body: github.String(over)})
	refused("pull request edit", "body", err)

	_, _, err = f.gh.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("t"), Body: github.String(over)})
	refused("issue body", "body", err)
	_, _, err = f.gh.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String(longTitle)})
	refused("issue title", "title", err)
	_, _, err = f.gh.Issues.CreateComment(ctx, "acme", "shop", pr.GetNumber(), &github.IssueComment{Body: github.String(over)})
	refused("issue comment", "body", err)
	_, _, err = f.gh.Repositories.CreateComment(ctx, "acme", "shop", head, &github.RepositoryComment{Body: github.String(over)})
	refused("commit comment", "body", err)
	if n, c := len(f.srv.Issues()), len(f.srv.Comments()); n != 0 || c != 0 {
		t.Errorf("refused requests created %d issues and %d comments", n, c)
	}
	if _, _, err := f.gh.Issues.CreateComment(ctx, "acme", "shop", pr.GetNumber(), &github.IssueComment{Body: github.String(at)}); err != nil {
		t.Errorf("a comment at the limit: %v", err)
	}
}
