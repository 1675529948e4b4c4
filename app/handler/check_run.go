package handler

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
)

// CheckRun acts on the pushvault check run's buttons and re-runs:
// "Re-scan" and GitHub's "Re-run" scan the push again; "False positive"
// closes the run's findings with the actor and reason.
type CheckRun struct{ pp *Push }

// NewCheckRun returns the check_run handler over pp's services.
func NewCheckRun(pp *Push) *CheckRun { return &CheckRun{pp: pp} }

// Handles implements Handler.
func (h *CheckRun) Handles() []string { return []string{"check_run"} }

// Handle implements Handler.
func (h *CheckRun) Handle(ctx context.Context, ev githubapp.Event) error {
	log := githubapp.Logger(ctx)
	var ce githubapp.CheckRunPayload
	if err := ev.Decode(&ce); err != nil {
		return queue.Permanent(err)
	}
	run := ce.CheckRun
	if run.Name != githubapp.CheckName || !h.pp.ours(run.App.ID) {
		return nil
	}
	owner, repo := ce.Repository.Owner.Login, ce.Repository.Name
	switch {
	case ce.Action == "rerequested" || ce.Action == "requested_action" &&
		(actionID(ce) == githubapp.ActionRescan || actionID(ce) == githubapp.ActionApproveRotation):
		p, err := h.pp.rescanOf(ctx, ev, rerun{Repository: ce.Repository, By: ce.Sender.Login,
			RunID: run.ID, HeadSHA: run.HeadSHA, HeadBranch: run.CheckSuite.HeadBranch})
		if err != nil {
			return err
		}
		if actionID(ce) == githubapp.ActionApproveRotation {
			p.ApprovedBy = ce.Sender.Login
			log.Info("rotation approved", "by", p.ApprovedBy)
		} else {
			log.Info("re-scan requested", "by", ce.Sender.Login)
		}
		return h.pp.Run(ctx, p)
	case ce.Action == "requested_action" && actionID(ce) == githubapp.ActionFalsePositive:
		return h.falsePositive(ctx, ev, ce, owner, repo)
	}
	return nil
}

func (h *CheckRun) falsePositive(ctx context.Context, ev githubapp.Event, ce githubapp.CheckRunPayload, owner, repo string) error {
	run := ce.CheckRun
	key := queue.KeyRunFindings(owner, repo, run.ID)
	b, ok, err := h.pp.claims.Get(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		githubapp.Logger(ctx).Info("false positive asked on a run with no recorded findings", "check_run", run.ID)
		return nil
	}
	var rec fixRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return queue.Permanent(fmt.Errorf("findings of check run %d: %w", run.ID, err))
	}
	actor := "github:" + ce.Sender.Login
	reason := "false positive (marked from the check run by " + ce.Sender.Login + ")"
	if err := h.pp.closeFindings(ctx, owner+"/"+repo, rec, actor, reason, map[string]string{"check_run": run.HTMLURL}); err != nil {
		return err
	}
	note := fmt.Sprintf("**Closed as false positive** by %s: %s no longer counted.", ce.Sender.Login, findingsAre(len(rec.Findings)))
	return h.pp.noteCheck(ctx, ev.InstallationID, owner, repo, run.ID, "false-positive", note)
}

// actionID is the requested action's identifier ("" for other actions).
func actionID(ce githubapp.CheckRunPayload) string {
	if ra := ce.RequestedAction; ra != nil {
		return ra.Identifier
	}
	return ""
}
