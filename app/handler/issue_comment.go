package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// IssueComment takes the commands people comment on a repository's
// "Exposed in history" issue (githubapp.ParseCommand): rescan-history
// queues a new backfill of the repository, false-positive and accept-risk
// close one item. Every command needs the role the server sets
// (github.action_permission, default maintain), which GitHub is asked for
// the commenter; anyone else gets a reply saying so, a log line and an
// action_refused record, and nothing is queued or closed. Comments by bots
// (pushvault's own replies among them) and on other issues are ignored.
type IssueComment struct {
	b     *Backfill
	queue BackfillQueue
}

// NewIssueComment returns the issue_comment handler over b's services,
// queueing re-runs on q.
func NewIssueComment(b *Backfill, q BackfillQueue) *IssueComment {
	return &IssueComment{b: b, queue: q}
}

// Handles implements Handler.
func (h *IssueComment) Handles() []string { return []string{"issue_comment"} }

// Handle implements Handler.
func (h *IssueComment) Handle(ctx context.Context, ev githubapp.Event) error {
	var p githubapp.IssueCommentPayload
	if err := ev.Decode(&p); err != nil {
		return queue.Permanent(err)
	}
	if p.Action != "created" || p.Issue.PullRequest != nil || p.Sender.Type == "Bot" || !githubapp.IsHistoryIssue(p.Issue.Body) {
		return nil
	}
	cmd, ok := githubapp.ParseCommand(p.Comment.Body)
	if !ok {
		return nil
	}
	pp := h.b.push
	owner, repo, by := p.Repository.Owner.Login, p.Repository.Name, p.Sender.Login
	log := githubapp.Logger(ctx).With(slog.String("command", cmd.Name), slog.String("by", by), slog.Int("issue", p.Issue.Number))
	// Only the issue pushvault opened for the repository: a body copied
	// into another issue takes no command.
	raw, ok, err := pp.claims.Get(ctx, queue.KeyHistoryIssue(owner, repo))
	if err != nil {
		return err
	}
	if n, _ := strconv.Atoi(string(raw)); !ok || n != p.Issue.Number {
		log.Info("command on an issue that is not the repository's history issue: ignored")
		return nil
	}
	gh, err := pp.github.Installation(ev.InstallationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	c := commentCommand{p: p, cmd: cmd, gh: gh, log: log}
	role, err := githubapp.PermissionOf(ctx, gh, owner, repo, by)
	if err != nil {
		return err
	}
	if need := pp.actionPermission; !role.AtLeast(need) {
		log.Warn("issue command refused", slog.String("role", string(role)), slog.String("required", string(need)))
		if err := pp.ledger.Append(ctx, evidence.Record{FindingID: c.issueID(), Repository: owner + "/" + repo,
			Transition: evidence.ActionRefused, Actor: "github:" + by, Links: map[string]string{"comment": p.Comment.HTMLURL},
			Detail: map[string]string{"action": cmd.Name, "role": string(role), "required": string(need), "occurrence": c.occurrence()}}); err != nil {
			return err
		}
		return h.reply(ctx, c, fmt.Sprintf("@%s holds the %s role on %s/%s; this server lets only %s or above use pushvault's commands (github.action_permission). Nothing was done; the attempt is on record in the evidence ledger.",
			by, role, owner, repo, need))
	}
	switch cmd.Name {
	case githubapp.CommandRescanHistory:
		return h.rescan(ctx, c, ev)
	default:
		return h.close(ctx, c, role)
	}
}

// commentCommand is one command comment with what the handler needs of it.
type commentCommand struct {
	p   githubapp.IssueCommentPayload
	cmd githubapp.Command
	gh  *github.Client
	log *slog.Logger
}

func (c commentCommand) repository() string {
	return c.p.Repository.Owner.Login + "/" + c.p.Repository.Name
}

// occurrence names the comment: a redelivery or a replay of it is the
// same command, a second comment a new one.
func (c commentCommand) occurrence() string {
	return "issue_comment/" + strconv.FormatInt(c.p.Comment.ID, 10)
}

func (c commentCommand) issueID() string {
	return fmt.Sprintf("issue:%s#%d", c.repository(), c.p.Issue.Number)
}

// rescan queues a new backfill request of the repository: the comment is
// the request, so the repository is scanned again once however often the
// delivery comes.
func (h *IssueComment) rescan(ctx context.Context, c commentCommand, ev githubapp.Event) error {
	if h.queue == nil {
		return h.reply(ctx, c, "History backfills are not run by this server.")
	}
	job := queue.BackfillJob{Installation: ev.InstallationID, Owner: c.p.Repository.Owner.Login, Repo: c.p.Repository.Name,
		RepoID: c.p.Repository.ID, Request: c.occurrence(), RequestedBy: "github:" + c.p.Sender.Login}
	if err := h.queue.EnqueueBackfill(ctx, job); err != nil {
		return err
	}
	c.log.Info("history rescan queued", slog.String("request", job.Request))
	return h.reply(ctx, c, fmt.Sprintf("Rescan of the whole history queued for @%s (request `%s`). This issue is updated when it finishes.", c.p.Sender.Login, job.Request))
}

// close records the item the command names as closed (a false positive or
// an accepted risk, with the reason and the actor) and renders the issue
// again.
func (h *IssueComment) close(ctx context.Context, c commentCommand, role githubapp.Role) error {
	rec, ok, err := h.b.states.History(ctx, c.repository())
	if err != nil {
		return err
	}
	var item *githubapp.HistoryItem
	if ok {
		for i := range rec.History.Items {
			if rec.History.Items[i].Secret.FindingID == c.cmd.FindingID {
				item = &rec.History.Items[i]
			}
		}
	}
	if item == nil || c.cmd.Reason == "" {
		return h.reply(ctx, c, "Usage: `"+c.cmd.Name+" FINDING-ID REASON`, with a finding id this issue lists. Nothing was closed.")
	}
	what := "false positive"
	if c.cmd.Name == githubapp.CommandAcceptRisk {
		what = "accepted risk"
	}
	s := item.Secret
	r := evidence.Record{FindingID: s.FindingID, Fingerprint: s.Fingerprint, Repository: c.repository(), Transition: evidence.Closed,
		Actor: "github:" + c.p.Sender.Login, VaultPath: s.VaultPath, VaultVersion: s.VaultVersion,
		Links:  map[string]string{"comment": c.p.Comment.HTMLURL},
		Detail: map[string]string{"reason": what + ": " + c.cmd.Reason, "detector": s.Detector, "role": string(role), "occurrence": c.occurrence()}}
	if err := h.b.push.ledger.Append(ctx, r); err != nil {
		return err
	}
	c.log.Info("history item closed", slog.String("finding_id", s.FindingID), slog.String("as", what))
	return h.b.RefreshHistory(ctx, c.repository())
}

// reply answers the comment on its issue once (per comment).
func (h *IssueComment) reply(ctx context.Context, c commentCommand, text string) error {
	_, err := h.b.push.claims.Once(ctx, queue.KeyCommentReply(c.repository(), c.p.Comment.ID), func(ctx context.Context, a queue.Attempt) ([]byte, error) {
		_, _, err := c.gh.Issues.CreateComment(ctx, c.p.Repository.Owner.Login, c.p.Repository.Name, c.p.Issue.Number, &github.IssueComment{Body: github.String(text)})
		if err != nil {
			return nil, fmt.Errorf("reply to comment %d: %w", c.p.Comment.ID, err)
		}
		return json.Marshal(true)
	})
	return err
}
