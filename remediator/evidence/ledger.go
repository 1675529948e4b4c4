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
	out, err := l.AppendAll(ctx, []Record{r})
	if err != nil {
		return Record{}, err
	}
	return out[0], nil
}

// AppendAll is Append for several records at once, in order, with one
// signing request and one append to the Backend: the records follow each
// other in the ledger with nothing in between (on a backend with
// optimistic concurrency, nothing in between each record and the one
// before it). The first is chained to the last stored record as Append
// chains; each further one holds in PrevHash the UnsignedHash of the one
// before it, the record without its signature, which is what lets all of
// them be signed in one request. Verify checks both forms; since it also
// checks every record's signature, a changed, dropped, reordered or
// inserted record fails as it does in a chain of single appends. All are
// validated before anything is stored. It returns the records stored,
// which on an error may be a leading part of rs (a backend that failed
// after storing some).
func (l *Ledger) AppendAll(ctx context.Context, rs []Record) ([]Record, error) {
	recs, err := l.prepare(rs)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	built := make([]Record, len(recs))
	n, err := l.b.Append(ctx, func(last []byte, stored int) ([][]byte, error) {
		return l.chain(ctx, last, recs[stored:], built[stored:])
	})
	return built[:n], err
}

// prepare stamps and validates rs for an append, returning copies.
func (l *Ledger) prepare(rs []Record) ([]Record, error) {
	recs := make([]Record, len(rs))
	for i, r := range rs {
		if r.Time.IsZero() {
			r.Time = l.now()
		}
		r.Time = r.Time.UTC().Round(0)
		if err := r.validate(); err != nil {
			if len(rs) > 1 {
				return nil, fmt.Errorf("evidence append: record %d of %d: %w", i+1, len(rs), err)
			}
			return nil, fmt.Errorf("evidence append: %w", err)
		}
		recs[i] = r
	}
	return recs, nil
}

// chain builds recs after last into out: seq, prev_hash, one signing
// request for all, and returns their stored bytes.
func (l *Ledger) chain(ctx context.Context, last []byte, recs, out []Record) ([][]byte, error) {
	seq, prevHash := uint64(1), ""
	if last != nil {
		prev, err := decode(last)
		if err != nil {
			return nil, fmt.Errorf("evidence append: last stored record: %w", err)
		}
		seq, prevHash = prev.Seq+1, Hash(last)
	}
	unsigned := make([][]byte, len(recs))
	for i, r := range recs {
		r.Seq, r.PrevHash, r.Signature = seq+uint64(i), prevHash, ""
		b, err := r.Canonical()
		if err != nil {
			return nil, fmt.Errorf("evidence append: %w", err)
		}
		out[i], unsigned[i] = r, b
		prevHash = unsignedHash(b)
	}
	sigs, err := l.s.SignAll(ctx, unsigned)
	if err != nil {
		which := fmt.Sprintf("record %d", seq)
		if len(recs) > 1 {
			which = fmt.Sprintf("records %d to %d", seq, seq+uint64(len(recs))-1)
		}
		return nil, fmt.Errorf("evidence append: sign %s: %w", which, err)
	}
	if len(sigs) != len(recs) {
		return nil, fmt.Errorf("evidence append: the signer returned %d signatures for %d records", len(sigs), len(recs))
	}
	lines := make([][]byte, len(recs))
	for i := range out[:len(recs)] {
		if sigs[i] == "" {
			return nil, errors.New("evidence append: the signer returned an empty signature")
		}
		out[i].Signature = sigs[i]
		line, err := out[i].encode()
		if err != nil {
			return nil, fmt.Errorf("evidence append: %w", err)
		}
		lines[i] = line
	}
	return lines, nil
}
