package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// PullRequestHandler closes the findings of a pushvault fix pull request
// when it is merged: one "closed" ledger record per finding, with the
// merger as the actor, and a final note on the push's check run.
type PullRequestHandler struct{ pp *PushPipeline }

// CheckRunHandler acts on the pushvault check run's buttons and re-runs:
// "Re-scan" and GitHub's "Re-run" scan the push again; "False positive"
// closes the run's findings with the actor and reason.
type CheckRunHandler struct{ pp *PushPipeline }

// NewPullRequestHandler returns the pull_request handler over pp's services.
func NewPullRequestHandler(pp *PushPipeline) *PullRequestHandler { return &PullRequestHandler{pp: pp} }

// NewCheckRunHandler returns the check_run handler over pp's services.
func NewCheckRunHandler(pp *PushPipeline) *CheckRunHandler { return &CheckRunHandler{pp: pp} }

// Handle implements Handler.
func (h *PullRequestHandler) Handle(ctx context.Context, ev githubapp.Event) error {
	log := githubapp.Logger(ctx)
	var pe github.PullRequestEvent
	if err := json.Unmarshal(ev.Payload, &pe); err != nil {
		return Permanent(fmt.Errorf("pull_request payload: %w", err))
	}
	pr := pe.GetPullRequest()
	branch := pr.GetHead().GetRef()
	if pe.GetAction() != "closed" || !pr.GetMerged() || !remediator.IsFixBranch(branch) {
		log.Debug("pull request event needs nothing", "action", pe.GetAction(), "head", branch)
		return nil
	}
	owner, repo := pe.GetRepo().GetOwner().GetLogin(), pe.GetRepo().GetName()
	b, ok, err := h.pp.once.Get(ctx, fixKey(owner, repo, branch))
	if err != nil {
		return err
	}
	if !ok {
		log.Info("merged pushvault branch unknown to this installation's state: nothing to close", "head", branch)
		return nil
	}
	var rec fixRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return Permanent(fmt.Errorf("fix record for %s: %w", branch, err))
	}
	actor := "github:" + pr.GetMergedBy().GetLogin()
	if pr.GetMergedBy().GetLogin() == "" {
		actor = "github:" + pe.GetSender().GetLogin()
	}
	links := map[string]string{"pull_request": pr.GetHTMLURL(), "merge_commit": pr.GetMergeCommitSHA()}
	if err := h.pp.closeFindings(ctx, owner+"/"+repo, rec, actor, "fix merged", links); err != nil {
		return err
	}
	note := fmt.Sprintf("**Closed:** fix pull request #%d was merged by %s (%s); its %s closed.", pr.GetNumber(), strings.TrimPrefix(actor, "github:"),
		short(pr.GetMergeCommitSHA()), findingsAre(len(rec.Findings)))
	return h.pp.noteCheck(ctx, ev.InstallationID, owner, repo, rec.CheckRunID, "merged", note)
}

// Handle implements Handler.
func (h *CheckRunHandler) Handle(ctx context.Context, ev githubapp.Event) error {
	log := githubapp.Logger(ctx)
	var ce github.CheckRunEvent
	if err := json.Unmarshal(ev.Payload, &ce); err != nil {
		return Permanent(fmt.Errorf("check_run payload: %w", err))
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
		p := Push{
			DeliveryID: ev.DeliveryID, InstallationID: ev.InstallationID, Owner: owner, Repo: repo,
			CloneURL: ce.GetRepo().GetCloneURL(), DefaultBranch: ce.GetRepo().GetDefaultBranch(),
			Ref: "refs/heads/" + branch, Before: zeroSHA, After: run.GetHeadSHA(), Created: true,
			Pusher: ce.GetSender().GetLogin(), Rescan: true,
		}
		if b, ok, err := h.pp.once.Get(ctx, runPushKey(owner, repo, run.GetID())); err != nil {
			return err
		} else if ok {
			// Scan what the run scanned, not the whole branch again.
			var orig Push
			if err := json.Unmarshal(b, &orig); err == nil && orig.After == run.GetHeadSHA() {
				orig.DeliveryID, orig.Rescan, orig.Pusher = p.DeliveryID, true, p.Pusher
				orig.InstallationID = p.InstallationID
				p = orig
			}
		}
		if p.Ref == "refs/heads/" {
			return Permanent(fmt.Errorf("check run %d: neither a recorded push nor a head branch to rescan", run.GetID()))
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

func (h *CheckRunHandler) falsePositive(ctx context.Context, ev githubapp.Event, ce github.CheckRunEvent, owner, repo string) error {
	run := ce.GetCheckRun()
	key := fmt.Sprintf("findings-of-run/%s/%s/%d", owner, repo, run.GetID())
	b, ok, err := h.pp.once.Get(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		githubapp.Logger(ctx).Info("false positive asked on a run with no recorded findings", "check_run", run.GetID())
		return nil
	}
	var rec fixRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return Permanent(fmt.Errorf("findings of check run %d: %w", run.GetID(), err))
	}
	actor := "github:" + ce.GetSender().GetLogin()
	reason := "false positive (marked from the check run by " + ce.GetSender().GetLogin() + ")"
	if err := h.pp.closeFindings(ctx, owner+"/"+repo, rec, actor, reason, map[string]string{"check_run": run.GetHTMLURL()}); err != nil {
		return err
	}
	note := fmt.Sprintf("**Closed as false positive** by %s: %s no longer counted.", ce.GetSender().GetLogin(), findingsAre(len(rec.Findings)))
	return h.pp.noteCheck(ctx, ev.InstallationID, owner, repo, run.GetID(), "false-positive", note)
}

// closeFindings appends one "closed" record per finding of rec (once each).
func (pp *PushPipeline) closeFindings(ctx context.Context, repo string, rec fixRecord, actor, reason string, links map[string]string) error {
	for _, f := range rec.Findings {
		r := evidence.Record{
			FindingID: f.ID, Fingerprint: f.Fingerprint, Repository: repo, Transition: evidence.Closed, Actor: actor,
			VaultPath: f.VaultPath, VaultVersion: f.VaultVersion, Links: links,
			Detail: map[string]string{"reason": reason, "detector": f.Detector},
		}
		if err := pp.ledger.Append(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// noteCheck puts note on check run id once per (run, what).
func (pp *PushPipeline) noteCheck(ctx context.Context, installationID int64, owner, repo string, id int64, what, note string) error {
	if id == 0 {
		return nil
	}
	gh, err := pp.github.Installation(installationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	_, err = pp.once.Once(ctx, "checkrun-note/"+owner+"/"+repo+"/"+strconv.FormatInt(id, 10)+"/"+what, func(ctx context.Context, a Attempt) ([]byte, error) {
		return nil, githubapp.NewChecks(gh).Close(ctx, owner, repo, id, note)
	})
	return err
}

func findingsAre(n int) string {
	if n == 1 {
		return "1 finding is"
	}
	return strconv.Itoa(n) + " findings are"
}

// actionID is the requested action's identifier ("" for other actions).
func actionID(ce github.CheckRunEvent) string {
	if ra := ce.GetRequestedAction(); ra != nil {
		return ra.Identifier
	}
	return ""
}
