// Package ledger appends to pushvault's evidence ledger once per
// transition: a transition already recorded for the same repository,
// finding and (for fixes) commit or (for rotation steps) attempt is not
// recorded again, so reruns, redeliveries and replicas add nothing. The
// local commands keep a file ledger; pushvault serve keys each append in
// the queue's claim store so "once" holds across processes.
package ledger

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/vault"
)

// Recorder appends records to an evidence ledger once each. It implements
// remediator.Ledger. Not safe for concurrent use without claims (the file
// ledger is one command's); with claims, safe across goroutines and
// processes.
type Recorder struct {
	l    *evidence.Ledger
	seen map[string]bool
	// claims, when set, makes "once" hold across processes sharing the
	// ledger (pushvault serve replicas): each append is keyed in the claim
	// store instead of the in-memory set.
	claims *queue.Claims
}

var _ remediator.Ledger = (*Recorder)(nil)

// Shared is the server's recorder: appends deduplicated through the claim
// store, so a redelivered or resumed push, or a second replica, never
// records a transition twice.
func Shared(l *evidence.Ledger, claims *queue.Claims) *Recorder {
	return &Recorder{l: l, seen: map[string]bool{}, claims: claims}
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
	recs, err := l.Records(ctx)
	if err != nil {
		return nil, fmt.Errorf("evidence ledger: %w", err)
	}
	r := &Recorder{l: l, seen: map[string]bool{}}
	for _, rec := range recs {
		r.seen[Key(rec)] = true
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

// Append implements remediator.Ledger.
func (l *Recorder) Append(ctx context.Context, r evidence.Record) error {
	key := Key(r)
	if l.claims != nil {
		_, err := l.claims.Once(ctx, queue.KeyLedgerRecord(key), func(ctx context.Context, a queue.Attempt) ([]byte, error) {
			if a.Resumed {
				// The earlier attempt may have appended before it died.
				recs, err := l.l.Records(ctx)
				if err != nil {
					return nil, fmt.Errorf("evidence ledger: %w", err)
				}
				for _, rec := range recs {
					if Key(rec) == key {
						return nil, nil
					}
				}
			}
			if _, err := l.l.Append(ctx, r); err != nil {
				return nil, fmt.Errorf("evidence ledger: %w", err)
			}
			return nil, nil
		})
		return err
	}
	if l.seen[key] {
		return nil
	}
	if _, err := l.l.Append(ctx, r); err != nil {
		return fmt.Errorf("evidence ledger: %w", err)
	}
	l.seen[key] = true
	return nil
}
