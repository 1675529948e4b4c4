package githubapp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/scanner"
)

// commentMarker makes pushvault's commit comments recognisable, so that a
// retried push never comments twice.
func commentMarker(pr int) string { return fmt.Sprintf("<!-- pushvault:fix-pr:%d -->", pr) }

// Comments posts commit comments.
type Comments struct{ gh *github.Client }

// NewComments returns a Comments writing through gh.
func NewComments(gh *github.Client) *Comments { return &Comments{gh: gh} }

// CommitComments comments on every commit that introduced one of o's
// secrets, linking the fix pull request; a commit that already carries the
// comment is left alone. It comments on every commit it can and returns the
// errors joined.
func (c *Comments) CommitComments(ctx context.Context, o *Outcome) error {
	if o.PR == nil {
		return errors.New("commit comments: no fix pull request to link")
	}
	byCommit := map[string][]string{}
	var order []string
	for _, s := range o.Secrets {
		for _, l := range s.Locations {
			if l.Message == scanner.MessageTag {
				continue // a tag object is no commit to comment on
			}
			if _, ok := byCommit[l.Commit]; !ok {
				order = append(order, l.Commit)
			}
			line := fmt.Sprintf("- `%s:%d`: %s `%s`", inline(l.Path), l.Line, inline(s.Detector), inline(s.Redacted))
			if l.InMessage() {
				line = fmt.Sprintf("- the %s: %s `%s`", inline(l.Where()), inline(s.Detector), inline(s.Redacted))
			}
			if !slices.Contains(byCommit[l.Commit], line) {
				byCommit[l.Commit] = append(byCommit[l.Commit], line)
			}
		}
	}
	var errs []error
	for _, sha := range order {
		if err := c.commentOnce(ctx, o, sha, byCommit[sha]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// commentOnce comments on sha once, in as many comments as GitHub's body
// limit takes (each once).
func (c *Comments) commentOnce(ctx context.Context, o *Outcome, sha string, lines []string) error {
	marker := commentMarker(o.PR.Number)
	rows := section{}
	for _, l := range lines {
		rows.rows = append(rows.rows, l+"\n")
	}
	first, rest := continued(fmt.Sprintf("fix-pr:%d", o.PR.Number), "a comment",
		text(fmt.Sprintf("%s\nThis commit added %s that pushvault moved to %s. Fix: #%d (%s)\n\n", marker, plural(len(lines), "secret"), o.store(), o.PR.Number, o.PR.URL)),
		rows, text("\nThe values remain in history; see the pull request for rotation status.\n"))
	bodies := append([]string{first}, rest...)
	list := func(ctx context.Context) ([]string, error) { return c.commitComments(ctx, o, sha) }
	create := func(ctx context.Context, body string) error {
		if _, _, err := c.gh.Repositories.CreateComment(ctx, o.Owner, o.Repo, sha, &github.RepositoryComment{Body: github.String(body)}); err != nil {
			return fmt.Errorf("comment on %s: %w", short(sha), err)
		}
		return nil
	}
	return postMissing(ctx, bodies, func(i int) string { return markerOf(bodies[i]) }, list, create)
}

// markerOf is the marker a body starts with (its first line).
func markerOf(body string) string {
	line, _, _ := strings.Cut(body, "\n")
	return line
}

// commitComments are the bodies of the comments on sha.
func (c *Comments) commitComments(ctx context.Context, o *Outcome, sha string) ([]string, error) {
	var out []string
	opts := &github.ListOptions{PerPage: 100}
	for {
		existing, resp, err := c.gh.Repositories.ListCommitComments(ctx, o.Owner, o.Repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments on %s: %w", short(sha), err)
		}
		for _, cm := range existing {
			out = append(out, cm.GetBody())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// continueInComments posts comments (a body's continuation, each carrying
// its part marker) on issue or pull request number, each once.
func continueInComments(ctx context.Context, gh *github.Client, owner, repo string, number int, thread string, comments []string) error {
	list := func(ctx context.Context) ([]string, error) {
		var out []string
		opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
		for {
			existing, resp, err := gh.Issues.ListComments(ctx, owner, repo, number, opts)
			if err != nil {
				return nil, fmt.Errorf("list comments: %w", err)
			}
			for _, cm := range existing {
				out = append(out, cm.GetBody())
			}
			if resp.NextPage == 0 {
				return out, nil
			}
			opts.Page = resp.NextPage
		}
	}
	create := func(ctx context.Context, body string) error {
		if _, _, err := gh.Issues.CreateComment(ctx, owner, repo, number, &github.IssueComment{Body: github.String(body)}); err != nil {
			return fmt.Errorf("comment: %w", err)
		}
		return nil
	}
	return postMissing(ctx, comments, func(i int) string { return partMarker(thread, i+2) }, list, create)
}
