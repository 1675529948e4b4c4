package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

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

var _ ActionFilter = (*PullRequest)(nil)

// Acts implements ActionFilter: a fix merged is a pull request closed.
func (h *PullRequest) Acts(_, action string) bool { return action == "closed" }

// Handle implements Handler.
func (h *PullRequest) Handle(ctx context.Context, ev githubapp.Event) error {
	log := githubapp.Logger(ctx)
	var pe githubapp.PullRequestPayload
	if err := ev.Decode(&pe); err != nil {
		return queue.Permanent(err)
	}
	pr := pe.PullRequest
	branch := pr.Head.Ref
	if pe.Action != "closed" || !pr.Merged || !remediator.IsFixBranch(branch) {
		log.Debug("pull request event needs nothing", "action", pe.Action, "head", branch)
		return nil
	}
	owner, repo := pe.Repository.Owner.Login, pe.Repository.Name
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
	actor := "github:" + pe.Sender.Login
	if pr.MergedBy != nil && pr.MergedBy.Login != "" {
		actor = "github:" + pr.MergedBy.Login
	}
	links := map[string]string{"pull_request": pr.HTMLURL, "merge_commit": pr.MergeCommitSHA}
	if err := h.pp.closeFindings(ctx, owner+"/"+repo, rec, actor, "fix merged", links, nil); err != nil {
		return err
	}
	note := fmt.Sprintf("**Closed:** fix pull request #%d was merged by %s (%s); its %s closed.", pr.Number, strings.TrimPrefix(actor, "github:"),
		shortSHA(pr.MergeCommitSHA), findingsAre(len(rec.Findings)))
	return h.pp.noteCheck(ctx, ev.InstallationID, owner, repo, rec.CheckRunID, "merged", githubapp.TitleClosed, note)
}
