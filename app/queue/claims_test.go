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

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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

// TestClaimsRecord: Record stores the first result for a key, in one write
// when nothing holds the key, and every later Record, Once or Get of the
// key sees that one; a Record meeting a claim another process holds waits
// for its result; a key whose Once failed (released) takes the record.
func TestClaimsRecord(t *testing.T) {
	cfg := queuetest.Config()
	cfg.URL = queuetest.StartNATS(t)
	qa := queuetest.Open(t, cfg)
	a, b := qa.Claims(), queuetest.Open(t, cfg).Claims()
	ctx := context.Background()

	if got, err := a.Record(ctx, "fix-commit/acme/shop/pushvault/fix-1/c1", []byte("c1")); err != nil || string(got) != "c1" {
		t.Fatalf("first Record: %q, %v", got, err)
	}
	if n := queuetest.StreamMsgs(t, qa, "KV_"+queue.StateBucket); n != 1 {
		t.Errorf("a Record of a new key wrote %d messages, want 1", n)
	}
	if got, err := b.Record(ctx, "fix-commit/acme/shop/pushvault/fix-1/c1", []byte("other")); err != nil || string(got) != "c1" {
		t.Errorf("second Record: %q, %v; want the first's result", got, err)
	}
	if got, ok, err := b.Get(ctx, "fix-commit/acme/shop/pushvault/fix-1/c1"); err != nil || !ok || string(got) != "c1" {
		t.Errorf("Get: %q %v %v", got, ok, err)
	}
	ran := false
	if got, err := b.Once(ctx, "fix-commit/acme/shop/pushvault/fix-1/c1", func(context.Context, queue.Attempt) ([]byte, error) {
		ran = true
		return []byte("once"), nil
	}); err != nil || ran || string(got) != "c1" {
		t.Errorf("Once after Record: ran %v, %q, %v", ran, got, err)
	}

	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = a.Once(ctx, "run/held", func(context.Context, queue.Attempt) ([]byte, error) {
			close(started)
			<-release
			return []byte("holder's"), nil
		})
	}()
	<-started
	time.AfterFunc(300*time.Millisecond, func() { close(release) })
	if got, err := b.Record(ctx, "run/held", []byte("mine")); err != nil || string(got) != "holder's" {
		t.Errorf("Record on a held key: %q, %v; want the holder's result", got, err)
	}

	if _, err := a.Once(ctx, "run/failed", func(context.Context, queue.Attempt) ([]byte, error) {
		return nil, errors.New("GitHub down")
	}); err == nil {
		t.Fatal("a failing Once succeeded")
	}
	if got, err := b.Record(ctx, "run/failed", []byte("mine")); err != nil || string(got) != "mine" {
		t.Errorf("Record after a failed Once: %q, %v", got, err)
	}
	type fix struct{ PR int }
	if got, err := queue.RecordJSON(ctx, a, "fix/acme/shop/pushvault/fix-2", fix{PR: 7}); err != nil || got.PR != 7 {
		t.Errorf("RecordJSON: %+v, %v", got, err)
	}
	if got, err := queue.RecordJSON(ctx, b, "fix/acme/shop/pushvault/fix-2", fix{PR: 8}); err != nil || got.PR != 7 {
		t.Errorf("RecordJSON again: %+v, %v; want the first", got, err)
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

// countingKV counts the requests Claims makes of its bucket.
type countingKV struct {
	jetstream.KeyValue
	gets, creates, updates atomic.Int32
}

func (c *countingKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	c.gets.Add(1)
	return c.KeyValue.Get(ctx, key)
}

func (c *countingKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	c.creates.Add(1)
	return c.KeyValue.Create(ctx, key, value, opts...)
}

func (c *countingKV) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	c.updates.Add(1)
	return c.KeyValue.Update(ctx, key, value, rev)
}

// TestStoreOnceNewKeyCostsTwoWrites: a key never seen before is claimed
// and completed with two requests (Create, then Update with the result)
// and no read: every side effect of a push takes a claim, so a Get before
// each Create was a third of their cost. A completed key still answers its
// result without running the function, and a released one is claimed again.
func TestStoreOnceNewKeyCostsTwoWrites(t *testing.T) {
	nc, err := nats.Connect(queuetest.StartNATS(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bucket, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "claims"})
	if err != nil {
		t.Fatal(err)
	}
	kv := &countingKV{KeyValue: bucket}
	s := queue.NewClaims(kv, time.Minute)
	runs := 0
	fn := func(context.Context, queue.Attempt) ([]byte, error) { runs++; return []byte("done"), nil }

	if _, err := s.Once(ctx, "ledger/acme/shop/pv:1/detected", fn); err != nil {
		t.Fatal(err)
	}
	if g, c, u := kv.gets.Load(), kv.creates.Load(), kv.updates.Load(); g != 0 || c != 1 || u != 1 {
		t.Errorf("a new key: %d gets, %d creates, %d updates; want 0, 1, 1", g, c, u)
	}
	b, err := s.Once(ctx, "ledger/acme/shop/pv:1/detected", fn)
	if err != nil || string(b) != "done" || runs != 1 {
		t.Errorf("a completed key: %q, %v, ran %d times; want its result, run once", b, err, runs)
	}
	boom := errors.New("vault sealed")
	if _, err := s.Once(ctx, "k2", func(context.Context, queue.Attempt) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the function's error", err)
	}
	if b, err := s.Once(ctx, "k2", fn); err != nil || string(b) != "done" || runs != 2 {
		t.Errorf("a released key: %q, %v, ran %d times; want it run again", b, err, runs)
	}
}
