package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// RefreshHistory is the one writer of repo's "Exposed in history" issue
// after it is opened: it renders the issue from the items the latest
// backfill listed (queue.HistoryRecord) and where the evidence ledger says
// each stands now — rotated by pushvault, marked rotated by a person
// (`pushvault rotated`), closed (a merged fix, a false positive, an
// accepted risk) — and closes the issue once every item is closed (open
// again when one is not). The backfill calls it when it lists the items;
// serve's ledger watch (queue.WatchLedger) calls it whenever a record may
// have moved one of the repository's secrets, whoever wrote it (a check
// run's button, a command on the issue, the CLI on serve's ledger). A
// repository without a history issue is nothing to do. Safe to call
// concurrently and again: the issue is edited only when it differs.
func (b *Backfill) RefreshHistory(ctx context.Context, repo string) error {
	rec, ok, err := b.states.History(ctx, repo)
	if err != nil || !ok {
		return err
	}
	h := rec.History
	if rec.Issue == 0 {
		raw, ok, err := b.push.claims.Get(ctx, queue.KeyHistoryIssue(h.Owner, h.Repo))
		if err != nil || !ok {
			return err // not opened yet: the backfill that opens it renders it
		}
		if rec.Issue, err = strconv.Atoi(string(raw)); err != nil {
			return fmt.Errorf("history issue of %s: %w", repo, err)
		}
	}
	recs, err := b.push.ledger.Ledger().Records(ctx)
	if err != nil {
		return fmt.Errorf("evidence ledger: %w", err)
	}
	applyLedger(h, recs)
	gh, err := b.push.github.Installation(rec.Installation)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	err = githubapp.NewHistoryIssue(gh).Update(ctx, h, rec.Issue)
	if errors.Is(err, githubapp.ErrIssueGone) {
		githubapp.Logger(ctx).Warn("history issue gone: not updated", slog.String("repo", repo), slog.Int("issue", rec.Issue))
		return nil
	}
	return err
}

// applyLedger sets each item of h as the ledger's records (oldest first)
// leave its secret: (repository, fingerprint), as the pipeline keys its
// transitions. An item the ledger does not know keeps what the backfill
// said.
func applyLedger(h *githubapp.History, recs []evidence.Record) {
	repo := h.Owner + "/" + h.Repo
	var mine []evidence.Record
	closedBy := map[string]string{}
	for _, r := range recs {
		if r.Repository != repo || r.Fingerprint == "" {
			continue
		}
		mine = append(mine, r)
		if r.Transition == evidence.Closed {
			if _, ok := closedBy[r.Fingerprint]; !ok {
				closedBy[r.Fingerprint] = closedLine(r)
			}
		}
	}
	states := map[string]*evidence.Lifecycle{}
	for _, l := range evidence.Lifecycles(mine) {
		states[l.Fingerprint] = l
	}
	for i := range h.Items {
		it := &h.Items[i]
		l := states[it.Secret.Fingerprint]
		if l == nil {
			continue
		}
		switch l.Rotation {
		case evidence.RotationDoneByHand:
			it.Secret.Rotation = "marked rotated by a person"
		case evidence.RotationDone:
			if !strings.HasPrefix(it.Secret.Rotation, "rotated") && !strings.HasPrefix(it.Secret.Rotation, "revoked") {
				it.Secret.Rotation = "rotated"
			}
		}
		it.ClosedAs = ""
		if !l.Open() {
			it.ClosedAs = closedBy[l.Fingerprint]
		}
		it.Closed = l.Rotation.Rotated() || !l.Open()
	}
}

// closedLine says how a closed record closed its secret, in the record's
// own words (its reason) and its actor.
func closedLine(r evidence.Record) string {
	reason := r.Detail["reason"]
	if reason == "" {
		reason = "closed"
	}
	return reason + " (" + r.Actor + ")"
}
