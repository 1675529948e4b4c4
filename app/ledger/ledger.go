// Package ledger appends to pushvault's evidence ledger once per
// transition: a transition already recorded for the same repository,
// finding and (for fixes) commit or (for rotation steps) attempt is not
// recorded again, so reruns, redeliveries and replicas add nothing. What
// has been recorded is read from the ledger itself (evidence.Seen), inside
// each append, so "once" holds across processes sharing the ledger and for
// as long as the ledger is kept. The local commands keep a file ledger;
// pushvault serve, the JetStream ledger its replicas share.
package ledger

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/vault"
)

// Recorder appends records to an evidence ledger once each. It implements
// remediator.Ledger. Safe for concurrent use (the ledger serializes its
// appends), and across processes sharing the ledger.
type Recorder struct {
	l    *evidence.Ledger
	seen *evidence.Seen
}

var _ remediator.Ledger = (*Recorder)(nil)

// Shared is the server's recorder: it learns what the ledger holds on its
// first append, and from then on only the records others appended since
// its last.
func Shared(l *evidence.Ledger) *Recorder {
	return &Recorder{l: l, seen: evidence.NewSeen(Key)}
}

// OpenFile opens (creating its directory) the file ledger at path, signed
// with Vault transit, and learns what it already holds.
func OpenFile(ctx context.Context, path string, t *vault.Transit) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("evidence ledger: %w", err)
	}
	return Over(ctx, evidence.New(evidence.NewFile(path), evidence.TransitSigner{T: t, Key: vault.EvidenceKey}))
}

// Over returns a recorder over l (any backend) that knows l's records.
func Over(ctx context.Context, l *evidence.Ledger) (*Recorder, error) {
	r := Shared(l)
	if err := l.Learn(ctx, r.seen); err != nil {
		return nil, err
	}
	return r, nil
}

// Ledger is the underlying ledger (to read or verify it).
func (r *Recorder) Ledger() *evidence.Ledger { return r.l }

// Key identifies a transition: repository, fingerprint (else the
// finding id), transition, and the fix commit, the rotation attempt or the
// occurrence (an inline allow's location, a button press's delivery) for
// transitions a finding can go through more than once.
func Key(r evidence.Record) string {
	extra := r.Links["fix_commit"]
	if a := r.Detail["attempt"]; extra == "" && a != "" {
		extra = "attempt " + a
	}
	if o := r.Detail["occurrence"]; extra == "" && o != "" {
		extra = "occurrence " + o
	}
	id := r.Fingerprint
	if id == "" {
		id = r.FindingID // records about pushes (scan_skipped) have no secret
	}
	return r.Repository + "\x00" + id + "\x00" + r.Transition + "\x00" + extra
}

// Append implements remediator.Ledger: the records the ledger does not
// hold yet go into it together (one signing request), in the order given;
// a record given twice is recorded once.
func (l *Recorder) Append(ctx context.Context, rs ...evidence.Record) error {
	if _, err := l.l.AppendUnseen(ctx, rs, l.seen); err != nil {
		return fmt.Errorf("evidence ledger: %w", err)
	}
	return nil
}
