package evidence

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// Records returns the stored records, oldest first; none when the ledger
// does not exist yet. It does not check the
// chain or the signatures (Verify does); a line that does not decode as a
// record is an error naming it.
func (l *Ledger) Records(ctx context.Context) ([]Record, error) {
	lines, err := l.b.Read(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no ledger yet: no records
	}
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(lines))
	for i, line := range lines {
		r, err := decode(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}
