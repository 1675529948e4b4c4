package githubapp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
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
			if _, ok := byCommit[l.Commit]; !ok {
				order = append(order, l.Commit)
			}
			line := fmt.Sprintf("- `%s:%d`: %s `%s`", inline(l.Path), l.Line, inline(s.Detector), inline(s.Redacted))
			if !slices.Contains(byCommit[l.Commit], line) {
				byCommit[l.Commit] = append(byCommit[l.Commit], line)
			}
		}
	}
	marker := commentMarker(o.PR.Number)
	var errs []error
	for _, sha := range order {
		if err := c.commentOnce(ctx, o, sha, marker, byCommit[sha]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Comments) commentOnce(ctx context.Context, o *Outcome, sha, marker string, lines []string) error {
	opts := &github.ListOptions{PerPage: 100}
	for {
		existing, resp, err := c.gh.Repositories.ListCommitComments(ctx, o.Owner, o.Repo, sha, opts)
		if err != nil {
			return fmt.Errorf("list comments on %s: %w", short(sha), err)
		}
		for _, cm := range existing {
			if strings.Contains(cm.GetBody(), marker) {
				return nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	body := fmt.Sprintf("%s\nThis commit added %s that pushvault moved to Vault. Fix: #%d (%s)\n\n%s\n\nThe values remain in history; see the pull request for rotation status.\n",
		marker, plural(len(lines), "secret"), o.PR.Number, o.PR.URL, strings.Join(lines, "\n"))
	if _, _, err := c.gh.Repositories.CreateComment(ctx, o.Owner, o.Repo, sha, &github.RepositoryComment{Body: github.String(body)}); err != nil {
		return fmt.Errorf("comment on %s: %w", short(sha), err)
	}
	return nil
}
