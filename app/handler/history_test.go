package handler

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// TestApplyLedger: each history item takes its secret's state from the
// ledger's records of the same repository and fingerprint — rotated by
// pushvault, marked rotated by a person, closed with the reason and the
// actor — and an item the ledger does not know keeps what the backfill
// said. Another repository's records of the same fingerprint count for
// nothing.
func TestApplyLedger(t *testing.T) {
	item := func(fp, rotation string) githubapp.HistoryItem {
		return githubapp.HistoryItem{Secret: githubapp.SecretOutcome{FindingID: "f-" + fp, Fingerprint: fp, Rotation: rotation}}
	}
	h := &githubapp.History{Owner: "acme", Repo: "legacy", Items: []githubapp.HistoryItem{
		item("a", "manual"), item("b", "manual"), item("c", "revoked"), item("d", "manual"), item("e", "manual"),
	}}
	at := time.Unix(0, 0).UTC()
	rec := func(repo, fp, transition, actor string, detail map[string]string) evidence.Record {
		at = at.Add(time.Second)
		return evidence.Record{Time: at, Repository: repo, Fingerprint: fp, FindingID: "f-" + fp, Transition: transition, Actor: actor, Detail: detail}
	}
	recs := []evidence.Record{
		rec("acme/legacy", "a", evidence.RotationManual, "pushvault", nil),
		rec("acme/legacy", "a", evidence.MarkedRotated, "alice", nil),
		rec("acme/legacy", "b", evidence.RotationManual, "pushvault", nil),
		rec("acme/legacy", "b", evidence.Closed, "github:octocat", map[string]string{"reason": "false positive: a fixture"}),
		rec("acme/legacy", "c", evidence.Rotated, "pushvault", nil),
		rec("acme/legacy", "d", evidence.RotationManual, "pushvault", nil),
		rec("acme/other", "d", evidence.Closed, "github:mallory", map[string]string{"reason": "false positive"}),
	}
	applyLedger(h, recs)
	type state struct {
		Rotation, ClosedAs string
		Closed             bool
	}
	var got []state
	for _, it := range h.Items {
		got = append(got, state{it.Secret.Rotation, it.ClosedAs, it.Closed})
	}
	want := []state{
		{"marked rotated by a person", "", true},
		{"manual", "false positive: a fixture (github:octocat)", true},
		{"revoked", "", true},
		{"manual", "", false},
		{"manual", "", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if !h.Open() {
		t.Error("History.Open() is false with two items open")
	}
}
