package queue_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// replicas opens two queues on one NATS server, as two serve replicas
// sharing a cluster would.
func replicas(t *testing.T) (*queue.Queue, *queue.Queue) {
	t.Helper()
	cfg := queuetest.Config()
	cfg.URL = queuetest.StartNATS(t)
	return queuetest.Open(t, cfg), queuetest.Open(t, cfg)
}

// TestRevokeBudgetSharedByReplicas: two replicas' revokers, each with its
// replica's budget over the same NATS, race to revoke 12 leaked tokens
// one request each against the GitHub stand-in: together they send
// exactly the budget's 5 requests; every other revocation is deferred
// (not sent, not waited on) with a wait within the window; once the
// window has passed, the budget allows requests again.
func TestRevokeBudgetSharedByReplicas(t *testing.T) {
	const limit, window = 5, 2 * time.Second
	q1, q2 := replicas(t)
	gh := githubtest.New(t)
	api := github.NewClient(nil)
	u, err := url.Parse(gh.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	api.BaseURL = u
	revokers := []*githubapp.Revoker{
		githubapp.NewRevoker(api, githubapp.WithBudget(q1.RevokeBudget(limit, window))),
		githubapp.NewRevoker(api, githubapp.WithBudget(q2.RevokeBudget(limit, window))),
	}
	gen := secrettest.Fresh(t)
	ctx := context.Background()
	var mu sync.Mutex
	var sent, deferred int
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		tok := gen.GitHub()
		wg.Add(1)
		go func(r *githubapp.Revoker) {
			defer wg.Done()
			err := r.Revoke(ctx, []string{tok})
			var d *githubapp.RevokeDeferredError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				sent++
			case errors.As(err, &d) && d.Defer() > 0 && d.Defer() <= window:
				deferred++
			default:
				t.Errorf("revoke: %v", err)
			}
		}(revokers[i%2])
	}
	wg.Wait()
	if got := len(gh.Revocations()); sent != limit || deferred != 12-limit || got != limit {
		t.Fatalf("sent %d, deferred %d, the stand-in took %d requests; want %d sent (the shared budget), %d deferred",
			sent, deferred, got, limit, 12-limit)
	}
	b := q1.RevokeBudget(limit, window)
	wait, err := b.Take(ctx)
	if err != nil || wait <= 0 {
		t.Fatalf("take from a spent budget: wait %s, %v; want a wait", wait, err)
	}
	time.Sleep(wait)
	if wait, err := q2.RevokeBudget(limit, window).Take(ctx); err != nil || wait != 0 {
		t.Fatalf("take after the window: wait %s, %v; want one at once", wait, err)
	}
	if v := gh.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestRevokeBudgetPause: a pause GitHub asked for (PauseUntil) through one
// replica holds the other's budget too, and lifts at its time.
func TestRevokeBudgetPause(t *testing.T) {
	q1, q2 := replicas(t)
	ctx := context.Background()
	if err := q1.RevokeBudget(5, time.Hour).PauseUntil(ctx, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	b := q2.RevokeBudget(5, time.Hour)
	wait, err := b.Take(ctx)
	if err != nil || wait <= 0 || wait > time.Second {
		t.Fatalf("take during the pause: wait %s, %v; want a wait of at most 1s", wait, err)
	}
	time.Sleep(wait)
	if wait, err := b.Take(ctx); err != nil || wait != 0 {
		t.Fatalf("take after the pause: wait %s, %v; want one at once", wait, err)
	}
}

// budgetProcessor defers each call until the shared budget grants it.
type budgetProcessor struct {
	budget *queue.Budget
}

func (p budgetProcessor) Process(ctx context.Context, ev githubapp.Event) error {
	wait, err := p.budget.Take(ctx)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &githubapp.RevokeDeferredError{After: wait}
	}
	return nil
}

// TestWorkersRequeueADeferredDelivery: with one worker, one attempt
// allowed and a budget of one request per 2 s, three deliveries that each
// need the budget all complete: the ones that meet a spent budget are
// requeued with the budget's wait (the worker is free for the next one
// meanwhile, and a plain delivery enqueued behind them is processed at
// once), and the deferrals do not count as attempts (no dead letter).
func TestWorkersRequeueADeferredDelivery(t *testing.T) {
	cfg := queuetest.Config()
	cfg.MaxAttempts = 1
	q := queuetest.Open(t, cfg)
	budget := q.RevokeBudget(1, 2*time.Second)
	var mu sync.Mutex
	var order []string
	p := &processor{Fn: func(ctx context.Context, ev githubapp.Event, call int) error {
		if ev.Event == "push" {
			if err := (budgetProcessor{budget}).Process(ctx, ev); err != nil {
				return err
			}
		}
		mu.Lock()
		order = append(order, ev.DeliveryID)
		mu.Unlock()
		return nil
	}}
	for _, id := range []string{"leak-1", "leak-2", "leak-3"} {
		enqueue(t, q, id, "push")
	}
	enqueue(t, q, "plain", "ping")
	logs := runWorkers(t, q, p, serve.NewMetrics(q.Depth), 1)
	queuetest.Eventually(t, "every delivery done", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(order) == 4
	})
	queuetest.Eventually(t, "the queue to drain", drained(t, q))
	if n := queuetest.StreamMsgs(t, q, queue.DeadLetterStream); n != 0 {
		t.Fatalf("%d dead letters: deferrals counted as attempts\n%s", n, logs)
	}
	mu.Lock()
	defer mu.Unlock()
	if order[0] != "leak-1" || order[1] != "plain" {
		t.Errorf("order %v: want leak-1 first, then plain while the other leaks wait in the stream", order)
	}
	if p.Calls("leak-2")+p.Calls("leak-3") < 3 {
		t.Errorf("leak-2 and leak-3 were tried %d times in all; want a deferral at least", p.Calls("leak-2")+p.Calls("leak-3"))
	}
}
