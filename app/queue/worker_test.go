package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/githubapp"
)

// processor is a hand-written Processor: Fn decides each call's outcome;
// calls are counted per delivery.
type processor struct {
	Fn func(ctx context.Context, ev githubapp.Event, call int) error

	mu    sync.Mutex
	calls map[string]int
}

func (p *processor) Process(ctx context.Context, ev githubapp.Event) error {
	p.mu.Lock()
	if p.calls == nil {
		p.calls = map[string]int{}
	}
	p.calls[ev.DeliveryID]++
	n := p.calls[ev.DeliveryID]
	p.mu.Unlock()
	return p.Fn(ctx, ev, n)
}

func (p *processor) Calls(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[id]
}

// runWorkers runs workers over q until the test ends.
func runWorkers(t *testing.T, q *queue.Queue, p queue.Processor, m *serve.Metrics, count int) *queuetest.SyncBuffer {
	t.Helper()
	log, logs := queuetest.Logger()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		queue.NewWorkers(q, p, log, m, count, 5*time.Second).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return logs
}

func enqueue(t *testing.T, q *queue.Queue, id, event string) {
	t.Helper()
	if _, err := q.Enqueue(context.Background(), githubapp.Event{
		DeliveryID: id, Event: event, InstallationID: 9, Repo: "acme/shop", SHA: "0123abcd", Payload: []byte(`{"n":1}`),
	}); err != nil {
		t.Fatal(err)
	}
}

func drained(t *testing.T, q *queue.Queue) func() bool {
	return func() bool {
		d, err := q.Depth(context.Background())
		return err == nil && d.Pending == 0 && d.InFlight == 0
	}
}

func TestWorkersSettle(t *testing.T) {
	q := queuetest.Open(t, queuetest.Config())
	m := serve.NewMetrics(q.Depth)
	var once sync.Once
	p := &processor{Fn: func(ctx context.Context, ev githubapp.Event, call int) error {
		switch ev.DeliveryID {
		case "ok":
			return nil
		case "flaky":
			if call < 3 {
				return fmt.Errorf("GitHub answered 502 (call %d)", call)
			}
			return nil
		case "panics":
			if call == 1 {
				once.Do(func() { panic("nil map somewhere") })
			}
			return nil
		case "broken":
			return errors.New("always fails")
		case "permanent":
			return queue.Permanent(errors.New("repository is gone"))
		}
		return fmt.Errorf("unexpected delivery %s", ev.DeliveryID)
	}}
	logs := runWorkers(t, q, p, m, 3)
	for _, id := range []string{"ok", "flaky", "panics", "broken", "permanent"} {
		enqueue(t, q, id, "push")
	}
	queuetest.Eventually(t, "every delivery settled", func() bool {
		return queuetest.Metric(t, m.Registry, "pushvault_events_processed_total", map[string]string{"event": "push", "outcome": "success"}) == 3 &&
			queuetest.Metric(t, m.Registry, "pushvault_dead_letters_total", map[string]string{"event": "push", "reason": "retries_exhausted"}) == 1
	})
	queuetest.Eventually(t, "the queue to drain", drained(t, q))
	queuetest.Eventually(t, "two dead letters", func() bool { return queuetest.StreamMsgs(t, q, queue.DeadLetterStream) == 2 })

	want := map[string]int{"ok": 1, "flaky": 3, "panics": 2, "broken": 3, "permanent": 1}
	for id, n := range want {
		if got := p.Calls(id); got != n {
			t.Errorf("%s: processed %d times, want %d", id, got, n)
		}
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_events_processed_total", map[string]string{"event": "push", "outcome": "success"}); got != 3 {
		t.Errorf("successes %v, want 3", got)
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_events_processed_total", map[string]string{"event": "push", "outcome": "retry"}); got != 5 {
		t.Errorf("retries %v, want 5 (flaky 2, panics 1, broken 2)", got)
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_redeliveries_total", map[string]string{"event": "push"}); got != 5 {
		t.Errorf("redeliveries %v, want 5 (flaky 2, panics 1, broken 2)", got)
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_dead_letters_total", map[string]string{"event": "push", "reason": "retries_exhausted"}); got != 1 {
		t.Errorf("dead letters (retries_exhausted) %v, want 1", got)
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_dead_letters_total", map[string]string{"event": "push", "reason": "permanent"}); got != 1 {
		t.Errorf("dead letters (permanent) %v, want 1", got)
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_dead_letter_messages", nil); got != 2 {
		t.Errorf("pushvault_dead_letter_messages %v, want 2", got)
	}

	// The dead letters keep the delivery and say why.
	s, err := q.JetStream().Stream(context.Background(), queue.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for seq := uint64(1); seq <= 2; seq++ {
		msg, err := s.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if string(msg.Data) != `{"n":1}` || msg.Header.Get("Pushvault-Repo") != "acme/shop" {
			t.Errorf("dead letter %d lost the delivery: %q %v", seq, msg.Data, msg.Header)
		}
		reasons[msg.Header.Get("Pushvault-Delivery")] = msg.Header.Get("Pushvault-Dead-Reason") + " / attempts " + msg.Header.Get("Pushvault-Dead-Attempts")
	}
	if r := reasons["broken"]; r != "retries_exhausted: failed 3 times, last: always fails / attempts 3" {
		t.Errorf("broken: %q", r)
	}
	if r := reasons["permanent"]; r != "permanent: repository is gone / attempts 1" {
		t.Errorf("permanent: %q", r)
	}
	var deadLine string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"event dead-lettered"`) && strings.Contains(line, `"delivery_id":"broken"`) {
			deadLine = line
		}
	}
	if deadLine == "" || !strings.Contains(deadLine, `"repo":"acme/shop"`) || !strings.Contains(deadLine, `"installation_id":9`) || !strings.Contains(deadLine, `"sha":"0123abcd"`) {
		t.Errorf("no dead-letter log line with delivery_id, repo, installation_id and sha:\n%s", logs)
	}
	if !strings.Contains(logs.String(), `"processor panicked"`) {
		t.Error("the panic was not logged")
	}
}

// TestWorkersInProgress runs a job three times as long as the ack wait: the
// in-progress acknowledgements keep it from being redelivered.
func TestWorkersInProgress(t *testing.T) {
	cfg := queuetest.Config()
	cfg.AckWait = time.Second
	q := queuetest.Open(t, cfg)
	p := &processor{Fn: func(ctx context.Context, ev githubapp.Event, call int) error {
		time.Sleep(3 * cfg.AckWait) // the long job itself
		return nil
	}}
	m := serve.NewMetrics(q.Depth)
	runWorkers(t, q, p, m, 2)
	enqueue(t, q, "long", "push")
	queuetest.Eventually(t, "the job to finish", func() bool {
		return queuetest.Metric(t, m.Registry, "pushvault_events_processed_total", map[string]string{"event": "push", "outcome": "success"}) == 1
	})
	queuetest.Eventually(t, "the queue to drain", drained(t, q))
	if got := p.Calls("long"); got != 1 {
		t.Errorf("the long job ran %d times, want 1", got)
	}
}

// TestWorkersDeadLetterAnUnfinishedLastAttempt: a delivery whose last
// attempt never settled (its worker died) is dead-lettered by the next
// worker instead of being stranded.
func TestWorkersDeadLetterAnUnfinishedLastAttempt(t *testing.T) {
	cfg := queuetest.Config()
	cfg.AckWait = time.Second
	cfg.MaxAttempts = 1
	q := queuetest.Open(t, cfg)
	enqueue(t, q, "orphan", "push")
	// A worker that takes the delivery and dies: fetch it and never settle.
	c, err := q.JetStream().Consumer(context.Background(), queue.WebhookStream, queue.WorkerConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(jetstream.FetchMaxWait(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	p := &processor{Fn: func(context.Context, githubapp.Event, int) error { return nil }}
	m := serve.NewMetrics(q.Depth)
	runWorkers(t, q, p, m, 1)
	queuetest.Eventually(t, "a dead letter", func() bool { return queuetest.StreamMsgs(t, q, queue.DeadLetterStream) == 1 })
	queuetest.Eventually(t, "the queue to drain", drained(t, q))
	if got := p.Calls("orphan"); got != 0 {
		t.Errorf("processed %d times after its last attempt, want 0", got)
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_dead_letters_total", map[string]string{"event": "push", "reason": "unfinished"}); got != 1 {
		t.Errorf("dead letters (unfinished) %v, want 1", got)
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_redeliveries_total", map[string]string{"event": "push"}); got != 1 {
		t.Errorf("redeliveries %v, want 1 (the dead worker's delivery)", got)
	}
}

// TestWorkersDeliveryTimeout: a delivery that would run forever is cut off
// at queue.delivery_timeout, retried with backoff and dead-lettered after
// max_attempts, saying why; in the meantime the single worker goes on to
// the next delivery, and progress signals keep the long attempts (longer
// than the ack wait) from being handed to another worker.
func TestWorkersDeliveryTimeout(t *testing.T) {
	cfg := queuetest.Config()
	cfg.AckWait = time.Second
	cfg.DeliveryTimeout = 2 * time.Second
	cfg.MaxAttempts = 2
	q := queuetest.Open(t, cfg)
	var mu sync.Mutex
	running, overlapped := 0, false
	p := &processor{Fn: func(ctx context.Context, ev githubapp.Event, call int) error {
		if ev.DeliveryID != "stuck" {
			return nil
		}
		mu.Lock()
		running++
		overlapped = overlapped || running > 1
		mu.Unlock()
		defer func() { mu.Lock(); running--; mu.Unlock() }()
		<-ctx.Done() // a host that accepts and never answers
		return fmt.Errorf("rotate: %w", ctx.Err())
	}}
	m := serve.NewMetrics(q.Depth)
	runWorkers(t, q, p, m, 1)
	enqueue(t, q, "stuck", "push")
	enqueue(t, q, "next", "push")
	queuetest.Eventually(t, "the stuck delivery dead-lettered", func() bool {
		return queuetest.Metric(t, m.Registry, "pushvault_dead_letters_total", map[string]string{"event": "push", "reason": "retries_exhausted"}) == 1
	})
	queuetest.Eventually(t, "the next delivery processed", func() bool {
		return queuetest.Metric(t, m.Registry, "pushvault_events_processed_total", map[string]string{"event": "push", "outcome": "success"}) == 1
	})
	queuetest.Eventually(t, "the queue to drain", drained(t, q))
	if got := p.Calls("stuck"); got != 2 {
		t.Errorf("the stuck delivery ran %d times, want 2 (max_attempts)", got)
	}
	mu.Lock()
	if overlapped {
		t.Error("an attempt was redelivered while it still ran: the ack wait was not kept alive")
	}
	mu.Unlock()
	s, err := q.JetStream().Stream(context.Background(), queue.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := "retries_exhausted: failed 2 times, last: delivery timed out after queue.delivery_timeout (2s): rotate: context deadline exceeded"
	if got := msg.Header.Get("Pushvault-Dead-Reason"); got != want {
		t.Errorf("dead letter reason\n got %q\nwant %q", got, want)
	}
}
