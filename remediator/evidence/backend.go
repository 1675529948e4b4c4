package evidence

import (
	"context"
	"errors"
)

// Backend stores records as opaque byte strings, in order. It knows nothing
// of their format; one stored record never contains a newline.
type Backend interface {
	// Append calls next with the last stored record (nil when there is
	// none) and stores the records next returns after it, in order, such
	// that no other record, from this or another process, is stored in
	// between: the file backend holds an exclusive lock around both; a
	// backend with optimistic concurrency may call next again after a
	// conflict. stored is how many records of this Append are stored
	// already (0 at first; more when a conflict came after some were
	// stored): next returns the ones still to store, built on last. An
	// error from next is returned and nothing more is stored. Append
	// returns how many records it stored in all, also with an error.
	Append(ctx context.Context, next func(last []byte, stored int) ([][]byte, error)) (int, error)
	// Read returns every stored record, oldest first. When the stored data
	// ends inside a record (a torn or truncated write), Read returns every
	// record with the incomplete one last, and an error wrapping
	// ErrIncomplete.
	Read(ctx context.Context) ([][]byte, error)
}

// ErrIncomplete means the stored data ends inside a record: the last write
// was torn, or the ledger was truncated.
var ErrIncomplete = errors.New("last record is incomplete (no newline at the end): a torn write or a truncated ledger")
