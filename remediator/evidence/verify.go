package evidence

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Report describes a ledger that verified.
type Report struct {
	Records int    // number of records
	Head    string // Hash of the last record ("" when empty): keep it elsewhere to detect later removal of trailing records
}

// VerifyError names the first record of a ledger that failed verification.
type VerifyError struct {
	Seq    int    // the record's seq; 0 when the line can't be parsed or its seq is itself the fault
	Line   int    // 1-based position in the ledger (the line number in a file)
	Reason string // what is wrong, for a person
}

func (e *VerifyError) Error() string {
	if e.Seq > 0 {
		return fmt.Sprintf("record %d (line %d): %s", e.Seq, e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

// Verify checks the whole ledger, in order, and stops at the first bad
// record. For the record on line n it checks that:
//
//   - it is not empty and, for the last line, complete (ends with a newline);
//   - it parses as a Record and its bytes are exactly json.Marshal of that
//     record (so whitespace, key order, escapes, unknown or duplicate fields
//     are all changes);
//   - its transition is a valid one;
//   - its seq is n (1 for the first, then the previous seq + 1);
//   - its prev_hash is "" on line 1 and Hash(line n-1) after, or (records
//     appended together, Ledger.AppendAll) UnsignedHash of record n-1,
//     whose signature is checked on its own line;
//   - its signature verifies over Canonical() (the record with an empty
//     signature).
//
// Changing, adding or removing any byte of any record therefore fails on
// that record's line (a change to record n would also break record n+1's
// prev_hash, but record n is reported first). Removing records from the end
// is the one change a hash chain can't see on its own: compare
// Report.Head, or the count, with a copy kept elsewhere.
//
// A broken ledger returns a *VerifyError. Any other error means the check
// could not be made (unreadable backend, signer unavailable) and says
// nothing about the ledger.
func (l *Ledger) Verify(ctx context.Context) (Report, error) {
	lines, err := l.b.Read(ctx)
	incomplete := errors.Is(err, ErrIncomplete)
	if err != nil && !incomplete {
		return Report{}, err
	}
	var prev []byte
	var prevRec Record
	var prevSeq uint64
	for i, line := range lines {
		n := i + 1
		fail := func(seq uint64, format string, args ...any) (Report, error) {
			return Report{}, &VerifyError{Seq: int(seq), Line: n, Reason: fmt.Sprintf(format, args...)}
		}
		if incomplete && n == len(lines) {
			return fail(0, "%v", ErrIncomplete)
		}
		if len(line) == 0 {
			return fail(0, "empty line")
		}
		r, err := decode(line)
		if err != nil {
			return fail(0, "%v", err)
		}
		if r.Seq != prevSeq+1 {
			if n == 1 {
				return fail(0, "seq %d, want 1 (a record is missing or reordered)", r.Seq)
			}
			return fail(0, "seq %d follows %d (a record is missing or reordered)", r.Seq, prevSeq)
		}
		if !validTransition(r.Transition) {
			return fail(r.Seq, "transition %q is not a valid transition", r.Transition)
		}
		if n == 1 && r.PrevHash != "" {
			return fail(r.Seq, "prev_hash is set on the first record")
		}
		if n > 1 && r.PrevHash != Hash(prev) {
			// The other form (AppendAll): the previous record without its
			// signature, which was checked on its own line.
			uh, err := UnsignedHash(prevRec)
			if err != nil || !strings.HasPrefix(r.PrevHash, unsignedPrefix) || r.PrevHash != uh {
				return fail(r.Seq, "prev_hash does not match record %d", prevSeq)
			}
		}
		unsigned, err := r.Canonical()
		if err != nil {
			return Report{}, fmt.Errorf("evidence verify: line %d: %w", n, err)
		}
		ok, err := l.s.Verify(ctx, unsigned, r.Signature)
		if err != nil {
			return Report{}, fmt.Errorf("evidence verify: record %d (line %d): checking the signature: %w", r.Seq, n, err)
		}
		if !ok {
			return fail(r.Seq, "signature does not verify")
		}
		prev, prevRec, prevSeq = line, r, r.Seq
	}
	rep := Report{Records: len(lines)}
	if prev != nil {
		rep.Head = Hash(prev)
	}
	return rep, nil
}
