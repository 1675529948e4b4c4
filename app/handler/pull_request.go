package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator"
)

// PullRequest closes the findings of a pushvault fix pull request
// when it is merged: one "closed" ledger record per finding, with the
// merger as the actor, and a final note on the push's check run.
type PullRequest struct{ pp *Push }

// NewPullRequest returns the pull_request handler over pp's services.
func NewPullRequest(pp *Push) *PullRequest { return &PullRequest{pp: pp} }

// Handles implements Handler.
func (h *PullRequest) Handles() []string { return []string{"pull_request"} }

// Handle implements Handler.
func (h *PullRequest) Handle(ctx context.Context, ev githubapp.Event) error {
	log := githubapp.Logger(ctx)
	var pe github.PullRequestEvent
	if err := json.Unmarshal(ev.Payload, &pe); err != nil {
		return queue.Permanent(fmt.Errorf("pull_request payload: %w", err))
	}
	pr := pe.GetPullRequest()
	branch := pr.GetHead().GetRef()
	if pe.GetAction() != "closed" || !pr.GetMerged() || !remediator.IsFixBranch(branch) {
		log.Debug("pull request event needs nothing", "action", pe.GetAction(), "head", branch)
		return nil
	}
	owner, repo := pe.GetRepo().GetOwner().GetLogin(), pe.GetRepo().GetName()
	b, ok, err := h.pp.claims.Get(ctx, queue.KeyFix(owner, repo, branch))
	if err != nil {
		return err
	}
	if !ok {
		log.Info("merged pushvault branch unknown to this installation's state: nothing to close", "head", branch)
		return nil
	}
	var rec fixRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return queue.Permanent(fmt.Errorf("fix record for %s: %w", branch, err))
	}
	actor := "github:" + pr.GetMergedBy().GetLogin()
	if pr.GetMergedBy().GetLogin() == "" {
		actor = "github:" + pe.GetSender().GetLogin()
	}
	links := map[string]string{"pull_request": pr.GetHTMLURL(), "merge_commit": pr.GetMergeCommitSHA()}
	if err := h.pp.closeFindings(ctx, owner+"/"+repo, rec, actor, "fix merged", links, nil); err != nil {
		return err
	}
	note := fmt.Sprintf("**Closed:** fix pull request #%d was merged by %s (%s); its %s closed.", pr.GetNumber(), strings.TrimPrefix(actor, "github:"),
		shortSHA(pr.GetMergeCommitSHA()), findingsAre(len(rec.Findings)))
	return h.pp.noteCheck(ctx, ev.InstallationID, owner, repo, rec.CheckRunID, "merged", githubapp.TitleClosed, note)
}
