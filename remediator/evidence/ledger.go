package evidence

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Ledger appends signed, hash-chained records to a Backend and checks them.
// Safe for concurrent use; appends from one Ledger are serialized in
// process, and the Backend keeps appends from other processes apart.
type Ledger struct {
	b   Backend
	s   Signer
	now func() time.Time

	mu sync.Mutex // serializes Append in this process
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithClock sets the clock that stamps records appended with a zero Time
// (time.Now by default).
func WithClock(now func() time.Time) Option {
	return func(l *Ledger) { l.now = now }
}

// New returns a ledger stored in b and signed by s.
func New(b Backend, s Signer, opts ...Option) *Ledger {
	l := &Ledger{b: b, s: s, now: time.Now}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Append validates r (finding_id and actor set, transition one of the
// lifecycle constants), fills Seq, Time (the clock's time when zero; always
// converted to UTC), PrevHash and Signature — whatever r held in those
// three is replaced — stores it, and returns the record as stored. It reads
// the last stored record while the Backend holds its append lock, so two
// processes appending at once still form one chain. It fails, storing
// nothing, when the last stored record can't be read as a record: a damaged
// ledger is repaired before it is extended. It does not verify the chain;
// Verify does. Appends are not deduplicated: the caller keeps transitions
// idempotent.
func (l *Ledger) Append(ctx context.Context, r Record) (Record, error) {
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	r.Time = r.Time.UTC().Round(0)
	if err := r.validate(); err != nil {
		return Record{}, fmt.Errorf("evidence append: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	var stored Record
	err := l.b.Append(ctx, func(last []byte) ([]byte, error) {
		rec := r
		rec.Seq, rec.PrevHash, rec.Signature = 1, "", ""
		if last != nil {
			prev, err := decode(last)
			if err != nil {
				return nil, fmt.Errorf("evidence append: last stored record: %w", err)
			}
			rec.Seq = prev.Seq + 1
			rec.PrevHash = Hash(last)
		}
		unsigned, err := rec.Canonical()
		if err != nil {
			return nil, fmt.Errorf("evidence append: %w", err)
		}
		sig, err := l.s.Sign(ctx, unsigned)
		if err != nil {
			return nil, fmt.Errorf("evidence append: sign record %d: %w", rec.Seq, err)
		}
		if sig == "" {
			return nil, errors.New("evidence append: the signer returned an empty signature")
		}
		rec.Signature = sig
		line, err := rec.encode()
		if err != nil {
			return nil, fmt.Errorf("evidence append: %w", err)
		}
		stored = rec
		return line, nil
	})
	if err != nil {
		return Record{}, err
	}
	return stored, nil
}
