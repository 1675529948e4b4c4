package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Deferral is a Processor error saying the work may not start yet — a
// shared budget is spent (githubapp.RevokeDeferredError) — rather than that
// it failed. Workers requeue the delivery after Defer() without holding a
// worker and without counting the attempt toward queue.max_attempts, up
// to MaxDeferrals times per delivery; after that a deferral counts like
// any failure, so that no delivery waits forever.
type Deferral interface {
	error
	Defer() time.Duration
}

// MaxDeferrals is how many deferrals one delivery gets for free. With
// GitHub's revocation budget (60 an hour, one freed at least every
// minute per request taken) that is hours of a budget spent by others.
const MaxDeferrals = 100

// deferrals is how many times delivery id was deferred (0 when never, or
// unknown).
func (q *Queue) deferrals(ctx context.Context, id string) (int, error) {
	k, err := kvKey(KeyDeferrals(id))
	if err != nil {
		return 0, err
	}
	e, err := q.claims.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("deferrals of delivery %s: %w", id, err)
	}
	n, err := strconv.Atoi(string(e.Value()))
	if err != nil {
		return 0, fmt.Errorf("deferrals of delivery %s: %w", id, err)
	}
	return n, nil
}

// setDeferrals records that delivery id was deferred n times. One worker
// holds a delivery at a time, so a plain write is enough.
func (q *Queue) setDeferrals(ctx context.Context, id string, n int) error {
	k, err := kvKey(KeyDeferrals(id))
	if err != nil {
		return err
	}
	if _, err := q.claims.kv.Put(ctx, k, []byte(strconv.Itoa(n))); err != nil {
		return fmt.Errorf("deferrals of delivery %s: %w", id, err)
	}
	return nil
}
