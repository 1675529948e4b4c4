package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// CheckRun acts on the pushvault check run's buttons and re-runs:
// "Re-scan" and GitHub's "Re-run" scan the push again; "False positive"
// closes the run's findings with the actor and reason; "Approve rotation"
// scans again with the rotations held for approval let through.
//
// "False positive" and "Approve rotation" act on findings, so they need the
// role the server sets (github.action_permission, default maintain), which
// GitHub is asked for the person who pressed — never whoever pushed. A
// press without it changes nothing but the record: an action_refused entry
// in the ledger and a note on the run. "Re-scan" and "Re-run" can only add
// scanning, so anyone GitHub shows them to (write access) may use them.
//
// "Rescan history" queues a new backfill of the repository's whole history
// (the press is the request): it needs the same role, and a press without
// it queues nothing.
type CheckRun struct {
	pp       *Push
	backfill BackfillQueue // nil: no backfills on this server
}

// NewCheckRun returns the check_run handler over pp's services, queueing
// "Rescan history" presses on q (nil: backfills are off).
func NewCheckRun(pp *Push, q BackfillQueue) *CheckRun { return &CheckRun{pp: pp, backfill: q} }

// Handles implements Handler.
func (h *CheckRun) Handles() []string { return []string{"check_run"} }

var _ ActionFilter = (*CheckRun)(nil)

// Acts implements ActionFilter: a re-run and the run's buttons; the runs'
// own created and completed need nothing.
func (h *CheckRun) Acts(_, action string) bool {
	return action == "rerequested" || action == "requested_action"
}

// Handle implements Handler.
func (h *CheckRun) Handle(ctx context.Context, ev githubapp.Event) error {
	var ce githubapp.CheckRunPayload
	if err := ev.Decode(&ce); err != nil {
		return queue.Permanent(err)
	}
	run := ce.CheckRun
	if run.Name != githubapp.CheckName || !h.pp.ours(run.App.ID) {
		return nil
	}
	press := buttonPress{ev: ev, ce: ce, owner: ce.Repository.Owner.Login, repo: ce.Repository.Name,
		action: actionID(ce), by: ce.Sender.Login}
	switch {
	case ce.Action == "rerequested" || ce.Action == "requested_action" && press.action == githubapp.ActionRescan:
		githubapp.Logger(ctx).Info("re-scan requested", "by", press.by)
		return h.rescan(ctx, press, "")
	case ce.Action != "requested_action":
		return nil
	case press.action == githubapp.ActionRescanHistory:
		return h.rescanHistory(ctx, press)
	case press.action != githubapp.ActionFalsePositive && press.action != githubapp.ActionApproveRotation:
		return nil
	}
	findings, err := h.runFindings(ctx, press)
	if err != nil {
		return err
	}
	role, ok, err := h.permitted(ctx, press, findings)
	if err != nil || !ok {
		return err
	}
	if press.action == githubapp.ActionFalsePositive {
		return h.falsePositive(ctx, press, findings, role)
	}
	detail := map[string]string{"role": string(role), "occurrence": press.occurrence()}
	for _, r := range pressRecords(press, findings, evidence.RotationApproved, detail) {
		if err := h.pp.ledger.Append(ctx, r); err != nil {
			return err
		}
	}
	githubapp.Logger(ctx).Info("rotation approved", "by", press.by, "role", role)
	return h.rescan(ctx, press, press.by)
}

// rescanHistory queues a backfill of the repository for a person with
// the role, under a request of its own: the press's delivery (GitHub's
// payload carries nothing else that tells one press from the next on the
// same run), so each press scans the repository again once.
func (h *CheckRun) rescanHistory(ctx context.Context, press buttonPress) error {
	if h.backfill == nil {
		return h.pp.noteCheck(ctx, press.ev.InstallationID, press.owner, press.repo, press.runID(), "no-backfill", "", "History backfills are not run by this server.")
	}
	role, ok, err := h.permitted(ctx, press, nil)
	if err != nil || !ok {
		return err
	}
	job := queue.BackfillJob{Installation: press.ev.InstallationID, Owner: press.owner, Repo: press.repo, RepoID: press.ce.Repository.ID,
		Request: "check_run/" + strconv.FormatInt(press.runID(), 10) + "/" + press.ev.DeliveryID, RequestedBy: press.actor()}
	if err := h.backfill.EnqueueBackfill(ctx, job); err != nil {
		return err
	}
	githubapp.Logger(ctx).Info("history rescan queued", "by", press.by, "role", role, "request", job.Request)
	note := fmt.Sprintf("**History rescan queued** by %s: every branch and tag of %s/%s is scanned again (`pushvault backfill status`).", press.by, press.owner, press.repo)
	return h.pp.noteCheck(ctx, press.ev.InstallationID, press.owner, press.repo, press.runID(), "rescan-history-"+press.ev.DeliveryID, "", note)
}

// buttonPress is one check_run event with what the handler needs of it.
type buttonPress struct {
	ev          githubapp.Event
	ce          githubapp.CheckRunPayload
	owner, repo string
	action      string // the requested action's identifier; "" for a re-run
	by          string // who pressed (the event's sender)
}

func (b buttonPress) runID() int64 { return b.ce.CheckRun.ID }

func (b buttonPress) actor() string { return "github:" + b.by }

// request is what the press asks (checkRunRequest): a replay of its body
// under a fresh delivery id asks the same and gets the same re-run.
func (b buttonPress) request() string { return checkRunRequest(b.runID(), b.ce.Action, b.action) }

// occurrence names the press in the ledger and in a refusal's note: the
// request and who pressed, so a replay records nothing new while another
// person's press (one refused, one let through, say) is its own.
func (b buttonPress) occurrence() string { return b.request() + " by " + b.by }

// rescan runs the push the check run scanned again (approvedBy set: with
// the rotations held for approval approved by that person).
func (h *CheckRun) rescan(ctx context.Context, b buttonPress, approvedBy string) error {
	run := b.ce.CheckRun
	p, err := h.pp.rescanOf(ctx, b.ev, rerun{Repository: b.ce.Repository, By: b.by,
		RunID: run.ID, HeadSHA: run.HeadSHA, HeadBranch: run.CheckSuite.HeadBranch, Request: b.request()})
	if err != nil {
		return err
	}
	p.ApprovedBy = approvedBy
	return h.pp.Run(ctx, p)
}

// runFindings is what pushvault remembers of the run's findings; nil when
// it found none.
func (h *CheckRun) runFindings(ctx context.Context, b buttonPress) (*fixRecord, error) {
	raw, ok, err := h.pp.claims.Get(ctx, queue.KeyRunFindings(b.owner, b.repo, b.runID()))
	if err != nil || !ok {
		return nil, err
	}
	var rec fixRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, queue.Permanent(fmt.Errorf("findings of check run %d: %w", b.runID(), err))
	}
	return &rec, nil
}

// permitted asks GitHub for the presser's role on the repository and
// compares it with the server's github.action_permission. A refusal is
// recorded in the ledger (action_refused, per finding of the run) and
// noted on the run; it is not an error.
func (h *CheckRun) permitted(ctx context.Context, b buttonPress, findings *fixRecord) (githubapp.Role, bool, error) {
	gh, err := h.pp.github.Installation(b.ev.InstallationID)
	if err != nil {
		return "", false, fmt.Errorf("installation client: %w", err)
	}
	role, err := githubapp.PermissionOf(ctx, gh, b.owner, b.repo, b.by)
	if err != nil {
		return "", false, err
	}
	need := h.pp.actionPermission
	if role.AtLeast(need) {
		return role, true, nil
	}
	githubapp.Logger(ctx).Warn("check-run action refused", "action", b.action, "by", b.by, "role", role, "required", need)
	detail := map[string]string{"action": b.action, "role": string(role), "required": string(need), "occurrence": b.occurrence()}
	for _, r := range pressRecords(b, findings, evidence.ActionRefused, detail) {
		if err := h.pp.ledger.Append(ctx, r); err != nil {
			return role, false, err
		}
	}
	note := fmt.Sprintf("**%s refused**: %s holds the %s role on %s/%s, and this server lets only %s or above use it (github.action_permission). Nothing was changed; the attempt is on record in the evidence ledger.",
		buttonLabel(b.action), b.by, role, b.owner, b.repo, need)
	return role, false, h.pp.noteCheck(ctx, b.ev.InstallationID, b.owner, b.repo, b.runID(), "refused-"+b.occurrence(), "", note)
}

func (h *CheckRun) falsePositive(ctx context.Context, b buttonPress, rec *fixRecord, role githubapp.Role) error {
	if rec == nil {
		githubapp.Logger(ctx).Info("false positive asked on a run with no recorded findings", "check_run", b.runID())
		return nil
	}
	reason := "false positive (marked from the check run by " + b.by + ")"
	links := map[string]string{"check_run": b.ce.CheckRun.HTMLURL}
	if err := h.pp.closeFindings(ctx, b.owner+"/"+b.repo, *rec, b.actor(), reason, links, map[string]string{"role": string(role)}); err != nil {
		return err
	}
	note := fmt.Sprintf("**Closed as false positive** by %s: %s no longer counted.", b.by, findingsAre(len(rec.Findings)))
	return h.pp.noteCheck(ctx, b.ev.InstallationID, b.owner, b.repo, b.runID(), "false-positive", githubapp.TitleClosed, note)
}

// pressRecords are the ledger records of a button press: one per finding
// of the run, or one naming the run when it has none on record.
func pressRecords(b buttonPress, rec *fixRecord, transition string, detail map[string]string) []evidence.Record {
	repo := b.owner + "/" + b.repo
	links := map[string]string{"check_run": b.ce.CheckRun.HTMLURL}
	if rec == nil || len(rec.Findings) == 0 {
		return []evidence.Record{{FindingID: fmt.Sprintf("check_run:%s/%d", repo, b.runID()), Repository: repo,
			Transition: transition, Actor: b.actor(), Links: links, Detail: detail}}
	}
	out := make([]evidence.Record, 0, len(rec.Findings))
	for _, f := range rec.Findings {
		d := map[string]string{"detector": f.Detector}
		for k, v := range detail {
			d[k] = v
		}
		out = append(out, evidence.Record{FindingID: f.ID, Fingerprint: f.Fingerprint, Repository: repo, Transition: transition,
			Actor: b.actor(), VaultPath: f.VaultPath, VaultVersion: f.VaultVersion, Links: links, Detail: d})
	}
	return out
}

// buttonLabel is the label of the check run's button with identifier id.
func buttonLabel(id string) string {
	for _, a := range append(githubapp.Actions, githubapp.ApproveAction, githubapp.RescanHistoryAction) {
		if a.Identifier == id {
			return a.Label
		}
	}
	return id
}

// actionID is the requested action's identifier ("" for other actions).
func actionID(ce githubapp.CheckRunPayload) string {
	if ra := ce.RequestedAction; ra != nil {
		return ra.Identifier
	}
	return ""
}
