package handler

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// closeFindings appends one "closed" record per finding of rec (once each),
// with extra (may be nil) added to each record's detail.
func (pp *Push) closeFindings(ctx context.Context, repo string, rec fixRecord, actor, reason string, links, extra map[string]string) error {
	for _, f := range rec.Findings {
		detail := map[string]string{"reason": reason, "detector": f.Detector}
		for k, v := range extra {
			detail[k] = v
		}
		r := evidence.Record{
			FindingID: f.ID, Fingerprint: f.Fingerprint, Repository: repo, Transition: evidence.Closed, Actor: actor,
			VaultPath: f.VaultPath, VaultVersion: f.VaultVersion, Links: links, Detail: detail,
		}
		if err := pp.ledger.Append(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// noteCheck puts note on check run id once per (run, what), with title as
// the run's new title ("" keeps it).
func (pp *Push) noteCheck(ctx context.Context, installationID int64, owner, repo string, id int64, what, title, note string) error {
	if id == 0 {
		return nil
	}
	gh, err := pp.github.Installation(installationID)
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	_, err = pp.claims.Once(ctx, queue.KeyCheckRunNote(owner, repo, id, what), func(ctx context.Context, a queue.Attempt) ([]byte, error) {
		return nil, githubapp.NewChecks(gh).Note(ctx, owner, repo, id, title, note)
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
