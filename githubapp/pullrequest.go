package githubapp

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// PullRequests opens fix pull requests.
type PullRequests struct{ gh *github.Client }

// NewPullRequests returns a PullRequests writing through gh.
func NewPullRequests(gh *github.Client) *PullRequests { return &PullRequests{gh: gh} }

// Open opens the fix pull request from branch onto base, or returns the one
// already open from that branch: asking twice never opens a second. What
// of the description does not fit GitHub's limit is posted as comments on
// it, each once, before Open returns.
func (p *PullRequests) Open(ctx context.Context, o *Outcome, branch, base string) (*PRLink, error) {
	link, _, err := p.openNew(ctx, o, branch, base)
	return link, err
}

// openNew is Open, and says whether it opened the pull request now.
func (p *PullRequests) openNew(ctx context.Context, o *Outcome, branch, base string) (*PRLink, bool, error) {
	link, created, err := p.open(ctx, o, branch, base)
	if err != nil {
		return nil, false, err
	}
	_, rest := PRBody(o)
	if err := continueInComments(ctx, p.gh, o.Owner, o.Repo, link.Number, "fix-pr", rest); err != nil {
		return nil, false, fmt.Errorf("pull request #%d: %w", link.Number, err)
	}
	return link, created, nil
}

// Update is Open for a fix branch pushvault has just rewritten (a history
// backfill's fix of a head whose push's fix covered fewer secrets): a pull
// request already open from branch gets the title and description o gives
// now, so that it describes what the branch holds. A closed one is left
// as it is (a person closed it) and returned, as Open does.
func (p *PullRequests) Update(ctx context.Context, o *Outcome, branch, base string) (*PRLink, error) {
	link, created, err := p.openNew(ctx, o, branch, base)
	if err != nil || created {
		return link, err
	}
	pr, _, err := p.gh.PullRequests.Get(ctx, o.Owner, o.Repo, link.Number)
	if err != nil {
		return nil, fmt.Errorf("pull request #%d: %w", link.Number, err)
	}
	if pr.GetState() != "open" {
		return link, nil
	}
	title := fitTitle(fmt.Sprintf("pushvault: move %s to Vault", plural(len(o.Secrets), "secret")))
	body, _ := PRBody(o)
	if pr.GetTitle() == title && pr.GetBody() == body {
		return link, nil
	}
	if _, _, err := p.gh.PullRequests.Edit(ctx, o.Owner, o.Repo, link.Number, &github.PullRequest{
		Title: github.String(title), Body: github.String(body),
	}); err != nil {
		return nil, fmt.Errorf("update pull request #%d: %w", link.Number, err)
	}
	return link, nil
}

func (p *PullRequests) open(ctx context.Context, o *Outcome, branch, base string) (*PRLink, bool, error) {
	existing, _, err := p.gh.PullRequests.List(ctx, o.Owner, o.Repo, &github.PullRequestListOptions{
		State: "all", Head: o.Owner + ":" + branch, Base: base,
	})
	if err != nil {
		return nil, false, fmt.Errorf("list pull requests from %s: %w", branch, err)
	}
	for _, pr := range existing {
		if pr.GetHead().GetRef() == branch {
			return &PRLink{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Branch: branch}, false, nil
		}
	}
	title := fmt.Sprintf("pushvault: move %s to %s", plural(len(o.Secrets), "secret"), o.store())
	body, _ := PRBody(o)
	pr, _, err := p.gh.PullRequests.Create(ctx, o.Owner, o.Repo, &github.NewPullRequest{
		Title: github.String(fitTitle(title)),
		Head:  github.String(branch),
		Base:  github.String(base),
		Body:  github.String(body),
	})
	if err != nil {
		return nil, false, fmt.Errorf("open pull request %s -> %s: %w", branch, base, err)
	}
	return &PRLink{Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Branch: branch}, true, nil
}
