package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
)

// TestStoreOnceRace: two processes' stores (two connections to one NATS
// server) race on one key from many goroutines: the function runs once and
// everybody gets its result.
func TestStoreOnceRace(t *testing.T) {
	cfg := queuetest.Config()
	cfg.URL = queuetest.StartNATS(t)
	stores := []*queue.Claims{queuetest.Open(t, cfg).Claims(), queuetest.Open(t, cfg).Claims()}
	var runs atomic.Int32
	var wg sync.WaitGroup
	results := make([]string, 16)
	errs := make([]error, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := stores[i%2].Once(context.Background(), "delivery/d-1/vault/acme/shop.io/pv:1", func(ctx context.Context, a queue.Attempt) ([]byte, error) {
				n := runs.Add(1)
				time.Sleep(200 * time.Millisecond) // the side effect takes a while
				return []byte(fmt.Sprintf("version %d", n)), nil
			})
			results[i], errs[i] = string(b), err
		}()
	}
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("ran %d times, want 1", n)
	}
	for i := range results {
		if errs[i] != nil || results[i] != "version 1" {
			t.Errorf("caller %d: %q, %v; want the one result", i, results[i], errs[i])
		}
	}
}

// TestStoreOnceFailureReleases: a failed run stores nothing; the next call
// runs again.
func TestStoreOnceFailureReleases(t *testing.T) {
	s := queuetest.Open(t, queuetest.Config()).Claims()
	ctx := context.Background()
	boom := errors.New("vault sealed")
	_, err := s.Once(ctx, "k", func(context.Context, queue.Attempt) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the function's error", err)
	}
	var attempts []queue.Attempt
	got, err := queue.OnceJSON(ctx, s, "k", func(_ context.Context, a queue.Attempt) (map[string]int, error) {
		attempts = append(attempts, a)
		return map[string]int{"version": 2}, nil
	})
	if err != nil || got["version"] != 2 || len(attempts) != 1 || attempts[0].Resumed {
		t.Fatalf("second call: %v, %v, attempts %+v", got, err, attempts)
	}
	again, err := queue.OnceJSON(ctx, s, "k", func(context.Context, queue.Attempt) (map[string]int, error) {
		t.Error("ran again after it completed")
		return nil, nil
	})
	if err != nil || again["version"] != 2 {
		t.Errorf("third call: %v, %v", again, err)
	}
}

// TestStoreOnceTakesOverAnAbandonedClaim: a claim left by a process that
// died is taken over after a lease without renewal, and the function is
// told to look for what the dead one did.
func TestStoreOnceTakesOverAnAbandonedClaim(t *testing.T) {
	q := queuetest.Open(t, queuetest.Config())
	ctx := context.Background()
	kv, err := q.JetStream().KeyValue(ctx, queue.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	claim, _ := json.Marshal(map[string]any{"state": "claimed", "owner": "dead-host/1/1", "at": time.Now().UTC()})
	if _, err := kv.Create(ctx, "delivery/d-9/step", claim); err != nil {
		t.Fatal(err)
	}
	var got queue.Attempt
	b, err := q.Claims().Once(ctx, "delivery/d-9/step", func(_ context.Context, a queue.Attempt) ([]byte, error) {
		got = a
		return []byte("found the PR the dead process opened"), nil
	})
	if err != nil || string(b) != "found the PR the dead process opened" {
		t.Fatalf("%q, %v", b, err)
	}
	if !got.Resumed {
		t.Error("Attempt.Resumed = false after taking over an abandoned claim")
	}
}

// TestStoreOnceRenewsItsClaim: a run longer than the lease keeps its claim
// (renewals), so a second caller waits for its result instead of taking
// over.
func TestStoreOnceRenewsItsClaim(t *testing.T) {
	cfg := queuetest.Config()
	cfg.URL = queuetest.StartNATS(t)
	a, b := queuetest.Open(t, cfg).Claims(), queuetest.Open(t, cfg).Claims()
	ctx := context.Background()
	var runs atomic.Int32
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := a.Once(ctx, "long", func(context.Context, queue.Attempt) ([]byte, error) {
			runs.Add(1)
			close(started)
			time.Sleep(3 * cfg.ClaimLease) // longer than the lease
			return []byte("a"), nil
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-started
	got, err := b.Once(ctx, "long", func(context.Context, queue.Attempt) ([]byte, error) {
		runs.Add(1)
		return []byte("b"), nil
	})
	wg.Wait()
	if err != nil || string(got) != "a" || runs.Load() != 1 {
		t.Errorf("second caller got %q, %v after %d runs; want a's result and one run", got, err, runs.Load())
	}
}

// TestQueueDataDirHeldByOneProcess: a second embedded server on the same
// data directory is refused with a message saying what to do.
func TestQueueDataDirHeldByOneProcess(t *testing.T) {
	dir := t.TempDir()
	log, _ := queuetest.Logger()
	q, err := queue.Open(context.Background(), log, queuetest.Config(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	_, err = queue.Open(context.Background(), log, queuetest.Config(), dir)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), "queue.url") {
		t.Errorf("second server on one data dir: err = %v", err)
	}
}
