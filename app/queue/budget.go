package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/githubapp"
)

// LimitsBucket holds budgets shared by every replica (KV, no TTL: a
// budget's record must outlive its window).
const LimitsBucket = "pushvault_limits"

// keyRevokeBudget is the record of GitHub's revocation budget in
// LimitsBucket.
const keyRevokeBudget = "github-revocations"

// Budget is a request budget shared through JetStream KV by every process
// on the same NATS: at most limit requests in any window (a sliding log
// of the times requests were taken, updated with compare-and-set), so N
// replicas together never send more than limit in any window, wherever
// the provider's own window starts. Safe for concurrent use.
type Budget struct {
	kv     jetstream.KeyValue
	key    string
	limit  int
	window time.Duration
	now    func() time.Time
}

var _ githubapp.RevokeBudget = (*Budget)(nil)

// budgetRecord is what the KV holds: the times (Unix ns) of the requests
// taken in the last window, oldest first, and a pause the provider asked
// for.
type budgetRecord struct {
	Taken []int64 `json:"taken"`
	Until int64   `json:"until,omitempty"`
}

// RevokeBudget is GitHub's revocation budget (POST /credentials/revoke:
// githubapp.RevokeRequestsPerHour an hour), shared by every replica on
// this NATS. limit and window override GitHub's (tests); zero keeps them.
func (q *Queue) RevokeBudget(limit int, window time.Duration) *Budget {
	if limit <= 0 {
		limit = githubapp.RevokeRequestsPerHour
	}
	if window <= 0 {
		window = time.Hour
	}
	return &Budget{kv: q.limits, key: keyRevokeBudget, limit: limit, window: window, now: time.Now}
}

// Take implements githubapp.RevokeBudget: it records a request and
// returns 0 when fewer than limit were taken in the last window (and no
// pause holds), else the wait until one is free, recording nothing.
func (b *Budget) Take(ctx context.Context) (time.Duration, error) {
	var wait time.Duration
	err := b.update(ctx, func(rec *budgetRecord, now time.Time) bool {
		wait = rec.wait(now, b.limit, b.window)
		if wait > 0 {
			return false
		}
		rec.Taken = append(rec.Taken, now.UnixNano())
		return true
	})
	return wait, err
}

// PauseUntil implements githubapp.RevokeBudget: nothing is taken before t.
func (b *Budget) PauseUntil(ctx context.Context, t time.Time) error {
	return b.update(ctx, func(rec *budgetRecord, _ time.Time) bool {
		if t.UnixNano() <= rec.Until {
			return false
		}
		rec.Until = t.UnixNano()
		return true
	})
}

// wait is how long until a request may be taken at now: 0 when one may.
// It first forgets the requests older than the window.
func (rec *budgetRecord) wait(now time.Time, limit int, window time.Duration) time.Duration {
	from := now.Add(-window).UnixNano()
	for len(rec.Taken) > 0 && rec.Taken[0] <= from {
		rec.Taken = rec.Taken[1:]
	}
	if until := time.Unix(0, rec.Until); now.Before(until) {
		return until.Sub(now)
	}
	if len(rec.Taken) < limit {
		return 0
	}
	return time.Unix(0, rec.Taken[len(rec.Taken)-limit]).Add(window).Sub(now)
}

// update reads the record, lets change edit it (true: store it) and
// stores it with compare-and-set, starting over when another process
// stored one in between.
func (b *Budget) update(ctx context.Context, change func(rec *budgetRecord, now time.Time) bool) error {
	for {
		var rec budgetRecord
		var rev uint64
		e, err := b.kv.Get(ctx, b.key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return fmt.Errorf("budget %s: %w", b.key, err)
		default:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &rec); err != nil {
				return fmt.Errorf("budget %s: %w", b.key, err)
			}
		}
		if !change(&rec, b.now()) {
			return nil
		}
		data, _ := json.Marshal(rec)
		if rev == 0 {
			_, err = b.kv.Create(ctx, b.key, data)
		} else {
			_, err = b.kv.Update(ctx, b.key, data, rev)
		}
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			continue
		}
		if err != nil {
			return fmt.Errorf("budget %s: %w", b.key, err)
		}
		return nil
	}
}
