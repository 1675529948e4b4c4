package handler

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/gitcli"
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
	var ce github.CheckRunEvent
	if err := json.Unmarshal(ev.Payload, &ce); err != nil {
		return queue.Permanent(fmt.Errorf("check_run payload: %w", err))
	}
	run := ce.GetCheckRun()
	if run.GetName() != githubapp.CheckName || run.GetApp().GetID() != 0 && h.pp.appID != 0 && run.GetApp().GetID() != h.pp.appID {
		return nil
	}
	owner, repo := ce.GetRepo().GetOwner().GetLogin(), ce.GetRepo().GetName()
	switch {
	case ce.GetAction() == "rerequested" || ce.GetAction() == "requested_action" &&
		(actionID(ce) == githubapp.ActionRescan || actionID(ce) == githubapp.ActionApproveRotation):
		branch := run.GetCheckSuite().GetHeadBranch()
		p := Pushed{
			DeliveryID: ev.DeliveryID, InstallationID: ev.InstallationID, Owner: owner, Repo: repo,
			CloneURL: ce.GetRepo().GetCloneURL(), DefaultBranch: ce.GetRepo().GetDefaultBranch(),
			Ref: "refs/heads/" + branch, Before: gitcli.ZeroID, After: run.GetHeadSHA(), Created: true,
			Pusher: ce.GetSender().GetLogin(), Rescan: true,
		}
		if b, ok, err := h.pp.claims.Get(ctx, queue.KeyRunPush(owner, repo, run.GetID())); err != nil {
			return err
		} else if ok {
			// Scan what the run scanned, not the whole branch again.
			var orig Pushed
			if err := json.Unmarshal(b, &orig); err == nil && orig.After == run.GetHeadSHA() {
				orig.DeliveryID, orig.Rescan, orig.Pusher = p.DeliveryID, true, p.Pusher
				orig.InstallationID = p.InstallationID
				p = orig
			}
		}
		if p.Ref == "refs/heads/" {
			return queue.Permanent(fmt.Errorf("check run %d: neither a recorded push nor a head branch to rescan", run.GetID()))
		}
		if actionID(ce) == githubapp.ActionApproveRotation {
			p.ApprovedBy = ce.GetSender().GetLogin()
			log.Info("rotation approved", "by", p.ApprovedBy)
		} else {
			log.Info("re-scan requested", "by", ce.GetSender().GetLogin())
		}
		return h.pp.Run(ctx, p)
	case ce.GetAction() == "requested_action" && actionID(ce) == githubapp.ActionFalsePositive:
		return h.falsePositive(ctx, ev, ce, owner, repo)
	}
	return nil
}

func (h *CheckRun) falsePositive(ctx context.Context, ev githubapp.Event, ce github.CheckRunEvent, owner, repo string) error {
	run := ce.GetCheckRun()
	key := queue.KeyRunFindings(owner, repo, run.GetID())
	b, ok, err := h.pp.claims.Get(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		githubapp.Logger(ctx).Info("false positive asked on a run with no recorded findings", "check_run", run.GetID())
		return nil
	}
	var rec fixRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return queue.Permanent(fmt.Errorf("findings of check run %d: %w", run.GetID(), err))
	}
	actor := "github:" + ce.GetSender().GetLogin()
	reason := "false positive (marked from the check run by " + ce.GetSender().GetLogin() + ")"
	if err := h.pp.closeFindings(ctx, owner+"/"+repo, rec, actor, reason, map[string]string{"check_run": run.GetHTMLURL()}); err != nil {
		return err
	}
	note := fmt.Sprintf("**Closed as false positive** by %s: %s no longer counted.", ce.GetSender().GetLogin(), findingsAre(len(rec.Findings)))
	return h.pp.noteCheck(ctx, ev.InstallationID, owner, repo, run.GetID(), "false-positive", note)
}

// actionID is the requested action's identifier ("" for other actions).
func actionID(ce github.CheckRunEvent) string {
	if ra := ce.GetRequestedAction(); ra != nil {
		return ra.Identifier
	}
	return ""
}
