package handler

import (
	"cmp"
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
	// Request is what the request means (checkRunRequest,
	// checkSuiteRequest): the re-run's identity for its check run.
	Request string
}

// checkRunRequest names a press on check run id: the event's action
// (rerequested, requested_action) and the requested action's identifier.
// A captured body replayed under a fresh delivery id names the same
// request; a second press that means something new comes from another
// run (a re-run's run has an id of its own, and its own buttons).
func checkRunRequest(id int64, action, identifier string) string {
	r := fmt.Sprintf("check_run/%d/%s", id, action)
	if identifier != "" {
		r += "/" + identifier
	}
	return r
}

// checkSuiteRequest names a "Re-run all checks" of suite id. The suite
// keeps its id across re-runs, so the request is the suite as GitHub last
// updated it: a replay carries the same updated_at, while a second press
// comes after the first re-run's check run updated the suite. A payload
// without updated_at falls back to its delivery.
func checkSuiteRequest(id int64, updatedAt, delivery string) string {
	return fmt.Sprintf("check_suite/%d/%s", id, cmp.Or(updatedAt, "delivery/"+delivery))
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
		Pusher: r.By, RescanFor: r.Request,
	}
	if r.RunID != 0 {
		if b, ok, err := pp.claims.Get(ctx, queue.KeyRunPush(owner, repo, r.RunID)); err != nil {
			return Pushed{}, err
		} else if ok {
			// Scan what the run scanned, not the whole branch again; the
			// pusher stays who pushed it.
			var orig Pushed
			if err := json.Unmarshal(b, &orig); err == nil && orig.After == r.HeadSHA {
				orig.DeliveryID, orig.InstallationID, orig.RepoID, orig.RescanFor = p.DeliveryID, p.InstallationID, p.RepoID, r.Request
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
