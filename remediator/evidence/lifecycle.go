package evidence

import (
	"time"
)

// RotationState is where a secret's rotation stands, as its rotation
// records (in ledger order) leave it.
type RotationState string

const (
	// RotationNone: no rotation record yet (the secret may not be vaulted,
	// or the run had no rotator: the hook, a report-only finding).
	RotationNone RotationState = ""
	// RotationRunning: rotation_started is the last rotation record.
	RotationRunning RotationState = "rotating"
	// RotationDone: the rotator replaced the credential (rotated, then
	// possibly exposed_verified_dead and exposed_destroyed) and nothing
	// failed after it.
	RotationDone RotationState = "rotated"
	// RotationDoneByHand: a person marked it rotated (marked_rotated).
	RotationDoneByHand RotationState = "marked_rotated"
	// RotationFailedState: rotation_failed is the last rotation record;
	// the next run retries it.
	RotationFailedState RotationState = "rotation_failed"
	// RotationWaitsApproval: rotation_pending, the rotation waits for a
	// person's approval.
	RotationWaitsApproval RotationState = "rotation_pending"
	// RotationWaitsPerson: rotation_manual, no rotator applies and a
	// person must rotate it at the provider.
	RotationWaitsPerson RotationState = "rotation_manual"
)

// Rotated reports whether the credential was rotated, by pushvault or by
// a person.
func (s RotationState) Rotated() bool { return s == RotationDone || s == RotationDoneByHand }

// WaitsForPerson reports whether only a person can move the rotation on:
// it is manual, or it waits for approval.
func (s RotationState) WaitsForPerson() bool {
	return s == RotationWaitsPerson || s == RotationWaitsApproval
}

// Lifecycle is one secret's history folded from the ledger: the secret is
// (Repository, Fingerprint) — the key the pipeline keeps its transitions
// idempotent by — or (Repository, FindingID) for a record without a
// fingerprint. A zero time means the secret never reached that
// transition.
type Lifecycle struct {
	Repository  string
	Fingerprint string
	// FindingID, Detector, Commit, Path and Line come from the secret's
	// first record (its detected record: where it was first added).
	FindingID, Detector, Commit, Path, Line string

	Detected    time.Time // its first lifecycle record, normally detected
	Vaulted     time.Time // the first vaulted record
	Rotation    RotationState
	Rotated     time.Time // when Rotation last became rotated (zero unless Rotation.Rotated())
	FixProposed time.Time // the first fix_proposed record
	Closed      time.Time // the first closed record
}

// Open reports whether the secret is not closed.
func (l *Lifecycle) Open() bool { return l.Closed.IsZero() }

// startsLifecycle are the transitions that make a secret known when the
// ledger has no earlier record of it. The records about a button press
// (action_refused, rotation_approved) and the pushes and locations let
// through unscanned (scan_skipped, scan_skip_refused, inline_allowed) are
// about secrets or pushes but are no step of a secret's remediation; the
// coverage records (repository_added, repository_removed) are about
// repositories.
var startsLifecycle = map[string]bool{
	Detected: true, Vaulted: true, RotationStarted: true, Rotated: true, ExposedVerifiedDead: true,
	ExposedDestroyed: true, RotationFailed: true, RotationPending: true, RotationManual: true,
	MarkedRotated: true, FixProposed: true, Closed: true,
}

// Lifecycles folds records (oldest first, as Records returns them) into
// one Lifecycle per secret, in the order each secret first appears. The
// mapping, transition by transition:
//
//   - detected: Detected (the secret's first record of any lifecycle
//     transition stands in when the ledger has no detected record).
//   - vaulted: Vaulted, the first one.
//   - rotation_started: Rotation "rotating".
//   - rotated, exposed_verified_dead, exposed_destroyed: Rotation "rotated";
//     Rotated is the time of the record that made it so (a retry that
//     resumes after a failed check records no second rotated, so the
//     check's record is the one).
//   - rotation_failed: Rotation "rotation_failed" (also after rotated: the
//     check or the destruction failed and the next run resumes), Rotated
//     cleared.
//   - rotation_pending, rotation_manual: Rotation waits for a person.
//   - marked_rotated: Rotation "marked_rotated", Rotated its time.
//   - fix_proposed: FixProposed, the first one.
//   - closed: Closed, the first one (closed is final: fix merged, or
//     dismissed as a false positive).
//
// Every other transition is ignored.
func Lifecycles(records []Record) []*Lifecycle {
	byKey := map[string]*Lifecycle{}
	var out []*Lifecycle
	for _, r := range records {
		if !startsLifecycle[r.Transition] {
			continue
		}
		id := r.Fingerprint
		if id == "" {
			id = "finding " + r.FindingID
		}
		key := r.Repository + "\x00" + id
		l := byKey[key]
		if l == nil {
			l = &Lifecycle{Repository: r.Repository, Fingerprint: r.Fingerprint, FindingID: r.FindingID,
				Detector: r.Detail["detector"], Commit: r.Detail["commit"], Path: r.Detail["path"], Line: r.Detail["line"],
				Detected: r.Time}
			byKey[key] = l
			out = append(out, l)
		}
		l.apply(r)
	}
	return out
}

// apply folds one record of the secret into l.
func (l *Lifecycle) apply(r Record) {
	first := func(t *time.Time) {
		if t.IsZero() {
			*t = r.Time
		}
	}
	switch r.Transition {
	case Vaulted:
		first(&l.Vaulted)
	case RotationStarted:
		l.Rotation, l.Rotated = RotationRunning, time.Time{}
	case Rotated, ExposedVerifiedDead, ExposedDestroyed:
		if !l.Rotation.Rotated() {
			l.Rotation, l.Rotated = RotationDone, r.Time
		}
	case RotationFailed:
		l.Rotation, l.Rotated = RotationFailedState, time.Time{}
	case RotationPending:
		l.Rotation, l.Rotated = RotationWaitsApproval, time.Time{}
	case RotationManual:
		l.Rotation, l.Rotated = RotationWaitsPerson, time.Time{}
	case MarkedRotated:
		if !l.Rotation.Rotated() {
			l.Rotation, l.Rotated = RotationDoneByHand, r.Time
		}
	case FixProposed:
		first(&l.FixProposed)
	case Closed:
		first(&l.Closed)
	}
}

// StateChanging reports whether a record of transition may change where a
// secret stands as Lifecycles folds it (its rotation state, or closed).
func StateChanging(transition string) bool {
	switch transition {
	case Vaulted, RotationStarted, Rotated, ExposedVerifiedDead, ExposedDestroyed, RotationFailed,
		RotationPending, RotationManual, MarkedRotated, Closed:
		return true
	}
	return false
}
