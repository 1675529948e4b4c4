package githubapp

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// RotationLabel marks the issues pushvault opens for manual rotations.
const RotationLabel = "pushvault: rotate"

// Rotation is what a person must do to rotate a secret pushvault could not
// rotate itself.
type Rotation struct {
	Secret SecretOutcome
	Guide  string   // the provider's rotation guide, when known
	Steps  []string // the procedure
}

func issueMarker(findingID string) string { return "<!-- pushvault:rotate:" + findingID + " -->" }

// Issues opens the manual-rotation issues.
type Issues struct{ gh *github.Client }

// NewIssues returns an Issues writing through gh.
func NewIssues(gh *github.Client) *Issues { return &Issues{gh: gh} }

// OpenRotation opens the issue asking for r's rotation, or returns the one
// already opened for the same finding (open or closed): a retried push never
// opens a second. What of the body does not fit GitHub's limit is posted
// as comments on it, each once. It lists every issue of the repository to
// find an earlier one; a caller that remembers what it opened calls
// CreateRotation instead, and FindRotation only when it cannot tell.
func (is *Issues) OpenRotation(ctx context.Context, o *Outcome, r Rotation) (*PRLink, error) {
	link, found, err := is.FindRotation(ctx, o, r.Secret.FindingID)
	if err == nil && !found {
		link, err = is.CreateRotation(ctx, o, r)
	}
	if err != nil {
		return nil, err
	}
	return link, is.ContinueRotation(ctx, o, r, link.Number)
}

// FindRotation looks among the repository's issues (open or closed, every
// page) for the rotation issue of finding findingID.
func (is *Issues) FindRotation(ctx context.Context, o *Outcome, findingID string) (*PRLink, bool, error) {
	marker := issueMarker(findingID)
	opts := &github.IssueListByRepoOptions{State: "all", ListOptions: github.ListOptions{PerPage: 100}}
	for {
		existing, resp, err := is.gh.Issues.ListByRepo(ctx, o.Owner, o.Repo, opts)
		if err != nil {
			return nil, false, fmt.Errorf("list issues: %w", err)
		}
		for _, iss := range existing {
			if strings.Contains(iss.GetBody(), marker) {
				return &PRLink{Number: iss.GetNumber(), URL: iss.GetHTMLURL()}, true, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, false, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreateRotation opens r's rotation issue without looking for an earlier
// one, and without the comments continuing its body (ContinueRotation).
func (is *Issues) CreateRotation(ctx context.Context, o *Outcome, r Rotation) (*PRLink, error) {
	body, _ := RotationBody(o, r)
	iss, _, err := is.gh.Issues.Create(ctx, o.Owner, o.Repo, &github.IssueRequest{
		Title:  github.String(fitTitle(fmt.Sprintf("Rotate the exposed %s secret %s", r.Secret.Detector, r.Secret.Redacted))),
		Body:   github.String(body),
		Labels: &[]string{RotationLabel},
	})
	if err != nil {
		return nil, fmt.Errorf("open the rotation issue for %s: %w", r.Secret.FindingID, err)
	}
	return &PRLink{Number: iss.GetNumber(), URL: iss.GetHTMLURL()}, nil
}

// ContinueRotation posts what of r's issue body does not fit GitHub's
// limit as comments on issue number, each once (nothing, and no request,
// when it fits).
func (is *Issues) ContinueRotation(ctx context.Context, o *Outcome, r Rotation, number int) error {
	_, rest := RotationBody(o, r)
	if err := continueInComments(ctx, is.gh, o.Owner, o.Repo, number, "rotate", rest); err != nil {
		return fmt.Errorf("rotation issue #%d: %w", number, err)
	}
	return nil
}

// RotationBody is the body of a manual-rotation issue, and the comments
// continuing it where it does not fit GitHub's limit (none when it fits).
func RotationBody(o *Outcome, r Rotation) (body string, comments []string) {
	s := r.Secret
	var b strings.Builder
	b.WriteString(issueMarker(s.FindingID) + "\n")
	fmt.Fprintf(&b, "A %s secret (`%s`, finding `%s`) was pushed to %s. pushvault moved it to %s", cell(s.Detector), cell(s.Redacted), s.FindingID, o.Ref(), s.store())
	if s.VaultPath != "" {
		fmt.Fprintf(&b, " at `%s` (version %d)", s.VaultPath, s.VaultVersion)
	}
	b.WriteString(", but cannot rotate it itself: the exposed value stays valid until you rotate it at the provider.\n\n")
	where := section{head: "Where it was committed:\n\n"}
	for _, l := range s.Locations {
		where.rows = append(where.rows, "- "+whereLine(l)+"\n")
	}
	steps := section{head: "\n### Rotate it\n\n"}
	for i, step := range r.Steps {
		steps.rows = append(steps.rows, fmt.Sprintf("%d. %s\n", i+1, step))
	}
	var tail strings.Builder
	if r.Guide != "" {
		fmt.Fprintf(&tail, "\nProvider guide: %s\n", r.Guide)
	}
	if s.VaultPath != "" {
		how := " (`vault kv put`)"
		if s.store() != vaultStore {
			how = " in " + s.store()
		}
		fmt.Fprintf(&tail, "\nWrite the new value as the next version of `%s`%s, so that the references the fix PR writes resolve to it.\n", s.VaultPath, how)
	}
	fmt.Fprintf(&tail, "\nWhen it is done, record it: `pushvault rotated %s --actor YOUR-NAME`. The finding stays open until then.\n", s.FindingID)
	return continued("rotate", "an issue", text(b.String()), where, steps, text(tail.String()))
}
