package handler

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/gitcli"
)

// rerun is a request to scan a head again: a check run's "Re-run" or
// "Re-scan", or a check suite's "Re-run all checks".
type rerun struct {
	Repository githubapp.Repository
	By         string // the sender's login
	// RunID is the check run asked to run again (0 for a whole suite):
	// the push it scanned, when recorded, is scanned again as it was.
	RunID      int64
	HeadSHA    string
	HeadBranch string
	// Before is the branch's head before the push, when the request
	// knows it (a check suite's before); "" scans the head as a new
	// branch (the commits not on the default branch).
	Before string
}

// rescanOf is the push a re-run scans: the push check run r.RunID scanned,
// when recorded for the same head; else the head on its branch. It is a
// permanent error when neither is known (a head on no branch).
func (pp *Push) rescanOf(ctx context.Context, ev githubapp.Event, r rerun) (Pushed, error) {
	before, created := r.Before, false
	if before == "" || before == gitcli.ZeroID {
		before, created = gitcli.ZeroID, true
	}
	owner, repo := r.Repository.Owner.Login, r.Repository.Name
	p := Pushed{
		DeliveryID: ev.DeliveryID, InstallationID: ev.InstallationID, Owner: owner, Repo: repo, RepoID: r.Repository.ID,
		DefaultBranch: r.Repository.DefaultBranch,
		Ref:           "refs/heads/" + r.HeadBranch, Before: before, After: r.HeadSHA, Created: created,
		Pusher: r.By, Rescan: true,
	}
	if r.RunID != 0 {
		if b, ok, err := pp.claims.Get(ctx, queue.KeyRunPush(owner, repo, r.RunID)); err != nil {
			return Pushed{}, err
		} else if ok {
			// Scan what the run scanned, not the whole branch again; the
			// pusher stays who pushed it.
			var orig Pushed
			if err := json.Unmarshal(b, &orig); err == nil && orig.After == r.HeadSHA {
				orig.DeliveryID, orig.InstallationID, orig.RepoID, orig.Rescan = p.DeliveryID, p.InstallationID, p.RepoID, true
				p = orig
			}
		}
	}
	if p.Ref == "refs/heads/" {
		return Pushed{}, queue.Permanent(fmt.Errorf("re-run of %s: neither a recorded push nor a head branch to rescan", shortSHA(r.HeadSHA)))
	}
	return p, nil
}

// ours reports whether a check run or suite of app id may be this App's:
// false only when both ids are known and differ (GitHub names the app in
// every check payload; serve always knows its id).
func (pp *Push) ours(id int64) bool {
	return id == 0 || pp.appID == 0 || id == pp.appID
}
