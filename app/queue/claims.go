package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Store remembers which side effects were performed, in a JetStream KV
// bucket shared by every `pushvault serve` that shares the NATS server, so
// that each is performed once and its result is returned to whoever asks
// again: a redelivered webhook, a worker restarted after a crash, another
// replica. Coordination is only the bucket's revision check-and-set
// (Create, Update with the last revision); there is no other lock.
//
// A key is first claimed (Create), then, while its function runs, the claim
// is renewed every lease/3 (Update at the last revision), and finally
// replaced by the result (Update). Someone who finds a claim waits: for the
// result, or for the claim to go unrenewed for a whole lease (its holder
// died), and then takes the claim over with Update at the revision it saw,
// so only one taker wins. Safe for concurrent use.
type Claims struct {
	kv    jetstream.KeyValue
	lease time.Duration
	owner string
}

// DefaultClaimLease is how long a claim may go unrenewed before it is
// considered abandoned.
const DefaultClaimLease = 30 * time.Second

// ErrClaimLost means another process took a claim over while its function
// ran (this process failed to renew it for a whole lease); what the
// function did must be reconciled by the taker (Attempt.Resumed).
var ErrClaimLost = errors.New("idempotency claim lost to another process")

// NewStore returns a store over kv; lease <= 0 means DefaultClaimLease.
func NewClaims(kv jetstream.KeyValue, lease time.Duration) *Claims {
	if lease <= 0 {
		lease = DefaultClaimLease
	}
	host, _ := os.Hostname()
	return &Claims{kv: boundKV(kv), lease: lease, owner: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())}
}

// Attempt tells a Once function how it is being run.
type Attempt struct {
	// Resumed is true when an earlier run of this key was abandoned (its
	// process died or lost its claim) after it started: the side effect may
	// already have happened, so the function must look before it acts (a
	// PR on the branch, a record in the ledger, a version in Vault) and
	// return what it finds.
	Resumed bool
}

type onceRecord struct {
	State  string    `json:"state"` // claimed or done
	Owner  string    `json:"owner,omitempty"`
	Result []byte    `json:"result,omitempty"`
	At     time.Time `json:"at"`
}

const (
	stateClaimed = "claimed"
	stateDone    = "done"
)

// Once runs fn for key unless it has completed before, here or in another
// process, and returns its result; a completed key returns the stored
// result without running fn. While another process runs fn for key, Once
// waits for its result (or for its claim to be abandoned, and then runs fn
// itself with Attempt.Resumed). When fn fails, its claim is released and
// its error returned: a later Once runs it again. The context given to fn
// is cancelled with ErrClaimLost as its cause when the claim is lost.
// Results are stored in the bucket: they must never hold a secret value.
func (s *Claims) Once(ctx context.Context, key string, fn func(ctx context.Context, a Attempt) ([]byte, error)) ([]byte, error) {
	k, err := kvKey(key)
	if err != nil {
		return nil, err
	}
	for {
		// Claim first: nearly every key is new (one per side effect), so
		// this is one request where a Get before the Create was two; a
		// key already taken (a redelivery, a retry) costs two more.
		rev, err := s.kv.Create(ctx, k, s.claim())
		switch {
		case err == nil:
			return s.run(ctx, key, k, rev, Attempt{}, fn)
		case !errors.Is(err, jetstream.ErrKeyExists):
			return nil, fmt.Errorf("state %s: claim: %w", key, err)
		}
		e, err := s.kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			continue // released (a failed run) since the Create: claim it
		case err != nil:
			return nil, fmt.Errorf("state %s: %w", key, err)
		}
		var rec onceRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return nil, fmt.Errorf("state %s: undecodable record at revision %d: %w", key, e.Revision(), err)
		}
		if rec.State == stateDone {
			return rec.Result, nil
		}
		stale, err := s.waitForChange(ctx, k, e.Revision())
		if err != nil {
			return nil, fmt.Errorf("state %s: waiting for %s: %w", key, rec.Owner, err)
		}
		if !stale {
			continue
		}
		rev, err = s.kv.Update(ctx, k, s.claim(), e.Revision())
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			continue // another taker won, or the holder woke up
		}
		if err != nil {
			return nil, fmt.Errorf("state %s: take over an abandoned claim: %w", key, err)
		}
		return s.run(ctx, key, k, rev, Attempt{Resumed: true}, fn)
	}
}

func (s *Claims) claim() []byte {
	b, _ := json.Marshal(onceRecord{State: stateClaimed, Owner: s.owner, At: time.Now().UTC()})
	return b
}

// waitForChange waits until k's revision is no longer rev (false) or a whole
// lease passes without a change (true: the claim is abandoned).
func (s *Claims) waitForChange(ctx context.Context, k string, rev uint64) (bool, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.kv.Watch(wctx, k, jetstream.IncludeHistory())
	if err != nil {
		return false, err
	}
	defer w.Stop()
	t := time.NewTimer(s.lease)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
			return true, nil
		case e, ok := <-w.Updates():
			if !ok {
				return false, errors.New("watch closed")
			}
			if e != nil && e.Revision() > rev {
				return false, nil
			}
		}
	}
}

// run runs fn holding the claim at rev, renewing it, and stores the result.
func (s *Claims) run(ctx context.Context, key, k string, rev uint64, a Attempt, fn func(context.Context, Attempt) ([]byte, error)) ([]byte, error) {
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	lost := false
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(s.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-fctx.Done():
				return
			case <-t.C:
			}
			mu.Lock()
			cur := rev
			mu.Unlock()
			next, err := s.kv.Update(fctx, k, s.claim(), cur)
			if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
				mu.Lock()
				lost = true
				mu.Unlock()
				cancel(ErrClaimLost)
				return
			}
			if err == nil {
				mu.Lock()
				rev = next
				mu.Unlock()
			}
			// Other errors: try again at the next tick; the lease is
			// three ticks long.
		}
	}()
	res, ferr := fn(fctx, a)
	close(stop)
	<-stopped
	mu.Lock()
	cur, wasLost := rev, lost
	mu.Unlock()
	if wasLost {
		return nil, fmt.Errorf("state %s: %w", key, ErrClaimLost)
	}
	// Finishing touches must happen even when ctx was just cancelled.
	fin, finCancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer finCancel()
	if ferr != nil {
		// Release the claim so that a retry runs fn again at once.
		_ = s.kv.Delete(fin, k, jetstream.LastRevision(cur))
		return nil, ferr
	}
	b, _ := json.Marshal(onceRecord{State: stateDone, Owner: s.owner, Result: res, At: time.Now().UTC()})
	if _, err := s.kv.Update(fin, k, b, cur); err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("state %s: %w", key, ErrClaimLost)
		}
		return nil, fmt.Errorf("state %s: store the result: %w", key, err)
	}
	return res, nil
}

// Get returns the result stored for key by a completed Once; ok is false
// when key has not completed (never run, running, or failed).
func (s *Claims) Get(ctx context.Context, key string) (result []byte, ok bool, err error) {
	k, err := kvKey(key)
	if err != nil {
		return nil, false, err
	}
	e, err := s.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("state %s: %w", key, err)
	}
	var rec onceRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return nil, false, fmt.Errorf("state %s: undecodable record at revision %d: %w", key, e.Revision(), err)
	}
	if rec.State != stateDone {
		return nil, false, nil
	}
	return rec.Result, true, nil
}

// Record is Once for a fn that only returns result (a note, a record of
// what was made): result is stored for key unless a result is stored
// already, and the stored one is returned. Where nothing holds key, as
// nearly always, that is one write where Once's claim and its completion
// are two; otherwise it is Once (a claim another process holds on key is
// waited for, a stored result returned).
func (s *Claims) Record(ctx context.Context, key string, result []byte) ([]byte, error) {
	k, err := kvKey(key)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(onceRecord{State: stateDone, Owner: s.owner, Result: result, At: time.Now().UTC()})
	_, err = s.kv.Create(ctx, k, b)
	switch {
	case err == nil:
		return result, nil
	case !errors.Is(err, jetstream.ErrKeyExists):
		return nil, fmt.Errorf("state %s: record: %w", key, err)
	}
	return s.Once(ctx, key, func(context.Context, Attempt) ([]byte, error) { return result, nil })
}

// RecordJSON is Record for a JSON-encodable result.
func RecordJSON[T any](ctx context.Context, s *Claims, key string, v T) (T, error) {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		return out, fmt.Errorf("state %s: %w", key, err)
	}
	if b, err = s.Record(ctx, key, b); err != nil {
		return out, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("state %s: stored result: %w", key, err)
	}
	return out, nil
}

// OnceJSON is Once for a JSON-encodable result.
func OnceJSON[T any](ctx context.Context, s *Claims, key string, fn func(ctx context.Context, a Attempt) (T, error)) (T, error) {
	var out T
	b, err := s.Once(ctx, key, func(ctx context.Context, a Attempt) ([]byte, error) {
		v, err := fn(ctx, a)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	})
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("state %s: stored result: %w", key, err)
	}
	return out, nil
}

// kvKey spells an arbitrary key in the characters a KV key allows: letters,
// digits, '-', '_' and '/' stand for themselves, every other byte is "=XX".
func kvKey(key string) (string, error) {
	if key == "" {
		return "", errors.New("state: empty key")
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('=')
			s := strconv.FormatUint(uint64(c), 16)
			if len(s) == 1 {
				b.WriteByte('0')
			}
			b.WriteString(strings.ToUpper(s))
		}
	}
	return b.String(), nil
}

// callTimeout bounds one request to a bucket (the claims', the backfill
// state's, the shared budgets'; boundedKV) or one publish. A request sent
// while a leader is being elected (a NATS node lost) can go unanswered;
// without a bound of its own it would wait as long as the caller's
// context — a whole delivery — holding its worker: in the cluster test
// every push worker of three replicas stood so for minutes after the
// stream's leader was killed. Bounded, the attempt fails and the queue
// retries it.
const callTimeout = 10 * time.Second

// bounded runs one request with callTimeout.
func bounded[T any](ctx context.Context, req func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return req(ctx)
}

// boundedKV is a bucket whose every read and write is one request
// bounded by callTimeout, whatever the caller's context allows: a request
// sent while the bucket's leader is being elected can go unanswered, and
// waiting for it on a delivery's context held a worker for the whole
// delivery. Bounded, the attempt fails and is retried.
type boundedKV struct{ jetstream.KeyValue }

func boundKV(kv jetstream.KeyValue) jetstream.KeyValue {
	if _, ok := kv.(boundedKV); ok || kv == nil {
		return kv
	}
	return boundedKV{kv}
}

func (b boundedKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	return bounded(ctx, func(ctx context.Context) (jetstream.KeyValueEntry, error) { return b.KeyValue.Get(ctx, key) })
}

func (b boundedKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	return bounded(ctx, func(ctx context.Context) (uint64, error) { return b.KeyValue.Put(ctx, key, value) })
}

func (b boundedKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	return bounded(ctx, func(ctx context.Context) (uint64, error) { return b.KeyValue.Create(ctx, key, value, opts...) })
}

func (b boundedKV) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	return bounded(ctx, func(ctx context.Context) (uint64, error) { return b.KeyValue.Update(ctx, key, value, revision) })
}

func (b boundedKV) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	_, err := bounded(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, b.KeyValue.Delete(ctx, key, opts...) })
	return err
}
