package handler

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// closeFindings appends one "closed" record per finding of rec (once each).
func (pp *Push) closeFindings(ctx context.Context, repo string, rec fixRecord, actor, reason string, links map[string]string) error {
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
func (pp *Push) noteCheck(ctx context.Context, installationID int64, owner, repo string, id int64, what, note string) error {
	if id == 0 {
		return nil
	}
	gh, err := pp.github.Installation(installationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	_, err = pp.claims.Once(ctx, queue.KeyCheckRunNote(owner, repo, id, what), func(ctx context.Context, a queue.Attempt) ([]byte, error) {
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

func shortSHA(id string) string {
	if len(id) > 7 {
		return id[:7]
	}
	return id
}
