package githubapp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// CheckName is the name of pushvault's check run.
const CheckName = "pushvault"

// MaxAnnotations is how many annotations GitHub accepts in one check-run
// request; more are sent in further updates, which GitHub appends.
const MaxAnnotations = 50

// Check-run action identifiers (at most 20 characters each).
const (
	ActionRescan          = "rescan"
	ActionFalsePositive   = "false_positive"
	ActionApproveRotation = "approve_rotation"
	ActionRescanHistory   = "rescan_history"
)

// Actions are the buttons a completed pushvault check run offers.
var Actions = []*github.CheckRunAction{
	{Label: "Re-scan", Description: "Scan this push again", Identifier: ActionRescan},
	{Label: "False positive", Description: "Close these findings as not secrets", Identifier: ActionFalsePositive},
}

// Checks writes pushvault's check runs.
type Checks struct {
	gh  *github.Client
	now func() time.Time
}

// NewChecks returns a Checks writing through gh.
func NewChecks(gh *github.Client) *Checks { return &Checks{gh: gh, now: time.Now} }

// Start creates the check run on sha, in progress, and returns its id.
// externalID ties the run to pushvault's own record (the delivery id).
func (c *Checks) Start(ctx context.Context, owner, repo, sha, externalID string) (int64, error) {
	run, _, err := c.gh.Checks.CreateCheckRun(ctx, owner, repo, github.CreateCheckRunOptions{
		Name:       CheckName,
		HeadSHA:    sha,
		ExternalID: github.String(externalID),
		Status:     github.String("in_progress"),
		StartedAt:  &github.Timestamp{Time: c.now()},
		Output: &github.CheckRunOutput{
			Title:   github.String("Scanning the push"),
			Summary: github.String(fmt.Sprintf("pushvault is scanning what the push to %s added.", short(sha))),
		},
	})
	if err != nil {
		return 0, fmt.Errorf("create check run on %s/%s@%s: %w", owner, repo, short(sha), err)
	}
	return run.GetID(), nil
}

// Complete writes o onto check run id: annotations in batches of
// MaxAnnotations (all but the last batch while the run stays in progress),
// then the conclusion, summary and actions with the last batch.
func (c *Checks) Complete(ctx context.Context, id int64, o *Outcome) error {
	anns := Annotations(o)
	title := Title(o)
	summary, text := report(o)
	var details *string // the report's continuation; nil leaves none
	if text != "" {
		details = github.String(text)
	}
	for len(anns) > MaxAnnotations {
		_, _, err := c.gh.Checks.UpdateCheckRun(ctx, o.Owner, o.Repo, id, github.UpdateCheckRunOptions{
			Name:   CheckName,
			Status: github.String("in_progress"),
			Output: &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary), Text: details, Annotations: anns[:MaxAnnotations]},
		})
		if err != nil {
			return fmt.Errorf("annotate check run %d: %w", id, err)
		}
		anns = anns[MaxAnnotations:]
	}
	_, _, err := c.gh.Checks.UpdateCheckRun(ctx, o.Owner, o.Repo, id, github.UpdateCheckRunOptions{
		Name:        CheckName,
		Status:      github.String("completed"),
		Conclusion:  github.String(o.Conclusion()),
		CompletedAt: &github.Timestamp{Time: c.now()},
		Output:      &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary), Text: details, Annotations: anns},
		Actions:     actionsFor(o),
	})
	if err != nil {
		return fmt.Errorf("complete check run %d: %w", id, err)
	}
	return nil
}

// ApproveAction runs the rotations the settings hold for approval.
var ApproveAction = &github.CheckRunAction{Label: "Approve rotation", Description: "Rotate the exposed secrets now", Identifier: ActionApproveRotation}

// RescanHistoryAction queues a new backfill of the repository's whole
// history. GitHub shows at most three buttons on a check run: it is
// offered where "Approve rotation" is not.
var RescanHistoryAction = &github.CheckRunAction{Label: "Rescan history", Description: "Scan every branch and tag again", Identifier: ActionRescanHistory}

func actionsFor(o *Outcome) []*github.CheckRunAction {
	if len(o.Secrets) == 0 {
		return []*github.CheckRunAction{Actions[0], RescanHistoryAction}
	}
	if o.PendingRotations {
		return append(append([]*github.CheckRunAction{}, Actions...), ApproveAction)
	}
	return append(append([]*github.CheckRunAction{}, Actions...), RescanHistoryAction)
}

// Annotations returns one failure annotation per location of every secret
// in a file. A place in a commit's or tag's message has no file to annotate
// (GitHub wants a path): the summary's table names it.
func Annotations(o *Outcome) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	for _, s := range o.Secrets {
		for _, l := range s.Locations {
			if l.InMessage() {
				continue
			}
			line := max(l.Line, 1)
			msg := fmt.Sprintf("%s secret %s committed in %s.", s.Detector, s.Redacted, short(l.Commit))
			if s.VaultPath != "" {
				msg += fmt.Sprintf(" Moved to %s at %s (version %d); the fix PR replaces it with %s.", s.store(), s.VaultPath, s.VaultVersion, s.Reference)
			}
			if s.Rotation != "" {
				msg += " Rotation: " + s.Rotation + "."
			}
			out = append(out, &github.CheckRunAnnotation{
				Path:            github.String(l.Path),
				StartLine:       github.Int(line),
				EndLine:         github.Int(line),
				AnnotationLevel: github.String("failure"),
				Title:           github.String(fmt.Sprintf("%s secret (%s)", s.Detector, s.FindingID)),
				Message:         github.String(msg),
			})
		}
	}
	return out
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// Find returns the pushvault check run on sha created for externalID, if
// there is one: how a resumed attempt learns whether its predecessor
// created the run before dying.
func (c *Checks) Find(ctx context.Context, owner, repo, sha, externalID string) (int64, bool, error) {
	opts := &github.ListCheckRunsOptions{CheckName: github.String(CheckName), Filter: github.String("all"), ListOptions: github.ListOptions{PerPage: 100}}
	for {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, opts)
		if err != nil {
			return 0, false, fmt.Errorf("list check runs on %s: %w", short(sha), err)
		}
		for _, r := range res.CheckRuns {
			if r.GetExternalID() == externalID {
				return r.GetID(), true, nil
			}
		}
		if resp.NextPage == 0 {
			return 0, false, nil
		}
		opts.Page = resp.NextPage
	}
}

// Completed reports whether check run id is completed: a resumed attempt
// must not append its annotations a second time.
func (c *Checks) Completed(ctx context.Context, owner, repo string, id int64) (bool, error) {
	r, _, err := c.gh.Checks.GetCheckRun(ctx, owner, repo, id)
	if err != nil {
		return false, fmt.Errorf("get check run %d: %w", id, err)
	}
	return r.GetStatus() == "completed", nil
}

// TitleClosed is the title of a check run whose findings are closed.
const TitleClosed = "Findings closed"

// Note puts note above the summary of completed check run id, keeping its
// conclusion and annotations; title replaces its title unless "" (a
// refused button press keeps it, closed findings set TitleClosed).
func (c *Checks) Note(ctx context.Context, owner, repo string, id int64, title, note string) error {
	run, _, err := c.gh.Checks.GetCheckRun(ctx, owner, repo, id)
	if err != nil {
		return fmt.Errorf("get check run %d: %w", id, err)
	}
	summary := note + "\n\n" + run.GetOutput().GetSummary()
	if len(summary) > MaxSummary {
		summary = strings.ToValidUTF8(summary[:MaxSummary], "")
	}
	if title == "" {
		title = run.GetOutput().GetTitle()
	}
	_, _, err = c.gh.Checks.UpdateCheckRun(ctx, owner, repo, id, github.UpdateCheckRunOptions{
		Name: CheckName,
		// The text is sent again as it is: the note changes the summary only.
		Output: &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary), Text: run.GetOutput().Text},
	})
	if err != nil {
		return fmt.Errorf("note on check run %d: %w", id, err)
	}
	return nil
}
