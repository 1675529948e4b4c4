package evidence

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
)

// Seen is the set of identities of a ledger's records, learned from the
// ledger itself and kept in step with it by AppendUnseen: what the ledger
// holds is what has been recorded, for as long as the ledger is kept, in
// every process that appends to it. An identity is kept as a 16-byte hash
// of key's result (about 50 bytes of memory a record). Use one Seen with
// one ledger; the ledger's append lock guards it.
type Seen struct {
	key  func(Record) string
	set  map[[16]byte]struct{}
	seq  uint64 // the ledger's first seq records are in set
	hash string // Hash of record seq's stored bytes ("" before any)
}

// NewSeen returns an empty index whose records are identified by key.
func NewSeen(key func(Record) string) *Seen {
	return &Seen{key: key, set: map[[16]byte]struct{}{}}
}

func (s *Seen) id(r Record) [16]byte {
	sum := sha256.Sum256([]byte(s.key(r)))
	return [16]byte(sum[:16])
}

func (s *Seen) has(id [16]byte) bool {
	_, ok := s.set[id]
	return ok
}

// learn adds the stored records lines, which follow record s.seq in the
// ledger, in order; a record out of place (its seq not the next one) or
// undecodable is an error, and s is left as it was before lines.
func (s *Seen) learn(lines [][]byte) error {
	ids := make([][16]byte, len(lines))
	for i, line := range lines {
		r, err := decode(line)
		if err != nil {
			return fmt.Errorf("record %d: %w", s.seq+uint64(i)+1, err)
		}
		if r.Seq != s.seq+uint64(i)+1 {
			return fmt.Errorf("%w: record %d holds seq %d", errOutOfPlace, s.seq+uint64(i)+1, r.Seq)
		}
		ids[i] = s.id(r)
	}
	for _, id := range ids {
		s.set[id] = struct{}{}
	}
	if n := len(lines); n > 0 {
		s.seq += uint64(n)
		s.hash = Hash(lines[n-1])
	}
	return nil
}

// reset forgets everything.
func (s *Seen) reset() {
	clear(s.set)
	s.seq, s.hash = 0, ""
}

// errOutOfPlace: the ledger's records are not where their seqs say
// (a ledger replaced or damaged under a running process); Seen is rebuilt
// from the whole ledger.
var errOutOfPlace = errors.New("the ledger changed under its index")

// errBehind: Seen is behind the ledger and the backend cannot read a run of
// records while it holds its append lock; the append is given up (nothing
// stored), Seen is brought up to date outside it, and the append is tried
// again.
var errBehind = errors.New("the ledger's index is behind the ledger")

// rangeReader is a Backend that can read a run of stored records by
// position cheaply, also while Append is calling next.
type rangeReader interface {
	// ReadRange returns records after+1 to through (1 is the first), in
	// order.
	ReadRange(ctx context.Context, after, through uint64) ([][]byte, error)
}

// catchUp brings s up to last, the last stored record (nil for an empty
// ledger); it runs inside the backend's Append.
func (l *Ledger) catchUp(ctx context.Context, s *Seen, last []byte) error {
	if last == nil {
		if s.seq != 0 {
			return errOutOfPlace // a ledger emptied under us: start again
		}
		return nil
	}
	rec, err := decode(last)
	if err != nil {
		return fmt.Errorf("evidence append: last stored record: %w", err)
	}
	switch {
	case rec.Seq == s.seq && Hash(last) == s.hash:
		return nil
	case rec.Seq <= s.seq:
		return errOutOfPlace
	}
	rr, ok := l.b.(rangeReader)
	if !ok {
		return errBehind
	}
	lines, err := rr.ReadRange(ctx, s.seq, rec.Seq)
	if err != nil {
		return fmt.Errorf("evidence append: read records %d to %d: %w", s.seq+1, rec.Seq, err)
	}
	if uint64(len(lines)) != rec.Seq-s.seq || Hash(lines[len(lines)-1]) != Hash(last) {
		return errOutOfPlace
	}
	return s.learn(lines)
}

// Learn rebuilds s from every record in the ledger (none when there is
// no ledger yet). AppendUnseen does it when it must; calling it first
// reports a ledger that cannot be read before anything is appended.
func (l *Ledger) Learn(ctx context.Context, s *Seen) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.learn(ctx, s)
}

// learn is Learn with the ledger's lock held.
func (l *Ledger) learn(ctx context.Context, s *Seen) error {
	lines, err := l.b.Read(ctx)
	if err != nil && !errors.Is(err, fs.ErrNotExist) { // none yet: nothing to learn
		return fmt.Errorf("evidence ledger: %w", err)
	}
	s.reset()
	if err := s.learn(lines); err != nil {
		s.reset()
		return fmt.Errorf("evidence ledger: %w", err)
	}
	return nil
}

// learnAttempts bounds how often AppendUnseen rebuilds its index from the
// whole ledger in one call (another process appending between each read
// and the append).
const learnAttempts = 5

// AppendUnseen is AppendAll for the records of rs the ledger does not hold:
// a record whose identity (seen's key) a stored record has, or a record
// before it in rs, is left out. It returns the records stored. What the
// ledger holds is read from the ledger inside the backend's append, after
// the last stored record and before the new ones are built on it: the file
// backend holds its lock across both, and JetStream's refuses the append
// when another record came in between (and the index is brought up to
// that record). So however many processes append at once, an identity is
// stored once, for as long as the ledger is kept.
func (l *Ledger) AppendUnseen(ctx context.Context, rs []Record, seen *Seen) ([]Record, error) {
	recs, err := l.prepare(rs)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	ids := make([][16]byte, len(recs))
	for i, r := range recs {
		ids[i] = seen.id(r)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Record
	for attempt := 1; ; attempt++ {
		var built []Record // the last batch next built
		var lines [][]byte // and its stored bytes
		prev := 0          // records stored before that batch
		n, err := l.b.Append(ctx, func(last []byte, stored int) ([][]byte, error) {
			out = append(out, built[:stored-prev]...)
			prev, built, lines = stored, nil, nil
			if err := l.catchUp(ctx, seen, last); err != nil {
				return nil, err
			}
			var todo []Record
			batch := map[[16]byte]bool{}
			for i, r := range recs {
				if seen.has(ids[i]) || batch[ids[i]] {
					continue
				}
				batch[ids[i]] = true
				todo = append(todo, r)
			}
			if len(todo) == 0 {
				return nil, nil
			}
			built = make([]Record, len(todo))
			var err error
			lines, err = l.chain(ctx, last, todo, built)
			return lines, err
		})
		if k := n - prev; k > 0 {
			// Stored right after the record seen was brought up to.
			out = append(out, built[:k]...)
			if lerr := seen.learn(lines[:k]); lerr != nil {
				seen.reset() // learned again on the next append
			}
		}
		switch {
		case err == nil:
			return out, nil
		case (errors.Is(err, errBehind) || errors.Is(err, errOutOfPlace)) && attempt < learnAttempts:
			if err := l.learn(ctx, seen); err != nil {
				return out, err
			}
		case errors.Is(err, errBehind) || errors.Is(err, errOutOfPlace):
			return out, fmt.Errorf("evidence append: %w after %d reads of the whole ledger (another process keeps appending?)", err, attempt)
		default:
			return out, err
		}
	}
}
