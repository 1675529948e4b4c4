package remediator

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/scanner"
)

// FindingRecord is the ledger record of a finding's transition (detected,
// vaulted, closed): where it was first added, by which detector, redacted;
// with v, where its value went in the store.
func FindingRecord(repo string, f *scanner.Finding, transition, actor string, v *Vaulted) evidence.Record {
	first := f.First()
	r := evidence.Record{
		FindingID:   f.ID,
		Fingerprint: string(f.Fingerprint),
		Repository:  repo,
		Transition:  transition,
		Actor:       actor,
		Detail: map[string]string{
			"detector": f.Detector, "commit": first.Commit, "path": first.Path,
			"line": fmt.Sprint(first.Line), "locations": fmt.Sprint(len(f.Locations)), "redacted": f.Redacted,
		},
	}
	if v != nil {
		r.VaultPath = v.Location()
		r.VaultVersion = v.Stored.Version
	}
	return r
}

// InlineAllowedRecords are the inline_allowed records of f, a finding let
// through by inline allow markers: one per marked location, naming the
// pusher as actor. They carry the detector and where, never the value or a
// preview of it; the location's id makes each its own occurrence, so a
// redelivery records nothing twice and a later push of the same line does.
func InlineAllowedRecords(repo string, f *scanner.Finding, pusher string) []evidence.Record {
	out := make([]evidence.Record, 0, len(f.Locations))
	for _, l := range f.Locations {
		out = append(out, evidence.Record{
			FindingID:   f.ID,
			Fingerprint: string(f.Fingerprint),
			Repository:  repo,
			Transition:  evidence.InlineAllowed,
			Actor:       pusher,
			Detail: map[string]string{
				"detector": f.Detector, "commit": l.Commit, "path": l.Path, "line": fmt.Sprint(l.Line),
				"occurrence": l.ID,
			},
		})
	}
	return out
}

// FixRecord is the fix_proposed record of a secret the fix commit c
// replaces.
func FixRecord(repo string, v *Vaulted, actor string, c FixCommit) evidence.Record {
	return evidence.Record{
		FindingID:    v.Finding.ID,
		Fingerprint:  string(v.Finding.Fingerprint),
		Repository:   repo,
		Transition:   evidence.FixProposed,
		Actor:        actor,
		VaultPath:    v.Location(),
		VaultVersion: v.Stored.Version,
		Links:        map[string]string{"fix_branch": c.Branch, "fix_commit": c.Commit},
		Detail:       map[string]string{"edits": fmt.Sprint(len(v.Edits)), "manual_steps": fmt.Sprint(len(v.Manual))},
	}
}

// RotationRecorder records a rotation's steps in l, naming actor unless the
// step names its own (a person who approved or marked it).
func RotationRecorder(l Ledger, actor string) rotate.Recorder {
	return rotationRecorder{l: l, actor: actor}
}

var _ rotate.BatchRecorder = rotationRecorder{}

type rotationRecorder struct {
	l     Ledger
	actor string
}

func (rr rotationRecorder) Record(ctx context.Context, t rotate.Target, e rotate.Event) error {
	return rr.l.Append(ctx, rr.record(t, e))
}

// RecordAll implements rotate.BatchRecorder: one append of every event.
func (rr rotationRecorder) RecordAll(ctx context.Context, events []rotate.TargetEvent) error {
	recs := make([]evidence.Record, len(events))
	for i, te := range events {
		recs[i] = rr.record(te.Target, te.Event)
	}
	return rr.l.Append(ctx, recs...)
}

func (rr rotationRecorder) record(t rotate.Target, e rotate.Event) evidence.Record {
	detail := map[string]string{}
	for k, v := range e.Detail {
		detail[k] = v
	}
	if e.Attempt > 0 {
		detail["attempt"] = strconv.Itoa(e.Attempt)
	}
	actor := e.Actor
	if actor == "" {
		actor = rr.actor
	}
	return evidence.Record{FindingID: t.FindingID, Fingerprint: t.Fingerprint, Repository: t.Repository,
		Transition: e.Transition, Actor: actor, VaultPath: t.Mount + "/" + t.Path, VaultVersion: e.Version,
		Rotation: e.Rotator, Detail: detail}
}
