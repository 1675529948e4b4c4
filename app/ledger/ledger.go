// Package ledger appends to pushvault's evidence ledger once per
// transition: a transition already recorded for the same repository,
// finding and (for fixes) commit or (for rotation steps) attempt is not
// recorded again, so reruns, redeliveries and replicas add nothing. The
// local commands keep a file ledger; pushvault serve keys each append in
// the queue's claim store so "once" holds across processes.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

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

// Append implements remediator.Ledger: the records not recorded before go
// into the ledger together (evidence.Ledger.AppendAll: one signing
// request), in the order given; a record given twice is recorded once.
func (l *Recorder) Append(ctx context.Context, rs ...evidence.Record) error {
	if l.claims != nil {
		return l.appendClaimed(ctx, rs)
	}
	var todo []evidence.Record
	batch := map[string]bool{}
	for _, r := range rs {
		key := Key(r)
		if l.seen[key] || batch[key] {
			continue
		}
		batch[key] = true
		todo = append(todo, r)
	}
	stored, err := l.l.AppendAll(ctx, todo)
	for _, r := range stored {
		l.seen[Key(r)] = true
	}
	if err != nil {
		return fmt.Errorf("evidence ledger: %w", err)
	}
	return nil
}

// appendClaimed appends rs once each across processes: it takes each
// record's claim inside the one before, in key order (two appends sharing
// keys never wait for each other in a circle), appends the records it
// holds claims for in one AppendAll, in the order given, and completes the
// claim of each record that is in the ledger. A key another process
// completed is skipped; a failed append releases the claims of the records
// it did not store.
func (l *Recorder) appendClaimed(ctx context.Context, rs []evidence.Record) error {
	byKey := map[string]evidence.Record{}
	var order []string // keys in the order given
	for _, r := range rs {
		key := Key(r)
		if _, dup := byKey[key]; !dup {
			byKey[key] = r
			order = append(order, key)
		}
	}
	keys := slices.Sorted(maps.Keys(byKey))
	held := map[string]bool{}     // claims this call holds
	inLedger := map[string]bool{} // records stored now or found stored
	resumed := false
	var claim func(ctx context.Context, i int) error
	claim = func(ctx context.Context, i int) error {
		if i == len(keys) {
			return l.appendHeld(ctx, order, byKey, held, inLedger, resumed)
		}
		key := keys[i]
		ran := false
		var rest error
		_, err := l.claims.Once(ctx, queue.KeyLedgerRecord(key), func(ctx context.Context, a queue.Attempt) ([]byte, error) {
			ran, held[key] = true, true
			resumed = resumed || a.Resumed
			rest = claim(ctx, i+1)
			if inLedger[key] {
				return nil, nil
			}
			return nil, rest
		})
		if !ran {
			if err != nil {
				return err
			}
			return claim(ctx, i+1) // recorded before
		}
		return errors.Join(rest, err)
	}
	return claim(ctx, 0)
}

// appendHeld appends the records whose claims are held, in order; after
// an abandoned attempt (resumed) it first looks for those it stored.
func (l *Recorder) appendHeld(ctx context.Context, order []string, byKey map[string]evidence.Record, held, inLedger map[string]bool, resumed bool) error {
	if resumed {
		// An earlier attempt may have appended before it died.
		recs, err := l.l.Records(ctx)
		if err != nil {
			return fmt.Errorf("evidence ledger: %w", err)
		}
		for _, rec := range recs {
			if k := Key(rec); held[k] {
				inLedger[k] = true
			}
		}
	}
	var todo []evidence.Record
	for _, key := range order {
		if held[key] && !inLedger[key] {
			todo = append(todo, byKey[key])
		}
	}
	stored, err := l.l.AppendAll(ctx, todo)
	for _, r := range stored {
		inLedger[Key(r)] = true
	}
	if err != nil {
		return fmt.Errorf("evidence ledger: %w", err)
	}
	return nil
}
