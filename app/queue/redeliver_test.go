package queue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/githubapp"
)

// TestEnqueueRedelivery: a delivery sent again under its X-GitHub-Delivery
// is stored once while it waits, and once it finished; it is queued again
// when the work queue lost it or when it was dead-lettered, and the second
// run of a dead letter is queued once however often it is redelivered.
func TestEnqueueRedelivery(t *testing.T) {
	q := queuetest.Open(t, queuetest.Config())
	ctx := context.Background()
	again := func(id string) bool {
		t.Helper()
		dup, err := q.Enqueue(ctx, githubapp.Event{DeliveryID: id, Event: "push", Payload: []byte(`{"n":2}`)})
		if err != nil {
			t.Fatal(err)
		}
		return dup
	}

	// No workers yet: a waiting delivery is a duplicate.
	enqueue(t, q, "waiting", "push")
	if !again("waiting") {
		t.Error("a waiting delivery sent again was queued twice")
	}
	// Lost from the work queue before it finished: queued again.
	enqueue(t, q, "lost", "push")
	s, err := q.JetStream().Stream(ctx, queue.WebhookStream)
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.GetLastMsgForSubject(ctx, queue.WebhookSubject+".push")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMsg(ctx, last.Sequence); err != nil {
		t.Fatal(err)
	}
	if again("lost") {
		t.Error("a delivery lost before it finished was not queued again")
	}

	m := serve.NewMetrics(q.Depth)
	p := &processor{Fn: func(_ context.Context, ev githubapp.Event, call int) error {
		if ev.DeliveryID == "dies" && call == 1 {
			return queue.Permanent(errors.New("Vault is sealed"))
		}
		return nil
	}}
	runWorkers(t, q, p, m, 2)
	enqueue(t, q, "dies", "push")
	enqueue(t, q, "ok", "push")
	queuetest.Eventually(t, "the deliveries settled", func() bool {
		return p.Calls("ok") == 1 && queuetest.StreamMsgs(t, q, queue.DeadLetterStream) == 1 && drained(t, q)()
	})
	if !again("ok") {
		t.Error("a finished delivery sent again was queued again")
	}
	if again("dies") {
		t.Error("a dead-lettered delivery sent again was not queued again")
	}
	if !again("dies") {
		t.Error("a dead letter redelivered twice was queued twice")
	}
	queuetest.Eventually(t, "the dead letter's second run", func() bool { return p.Calls("dies") == 2 && drained(t, q)() })
	if !again("dies") {
		t.Error("a dead letter that finished on its second run was queued again")
	}
	queuetest.Eventually(t, "the queue drained", drained(t, q))
	for id, want := range map[string]int{"waiting": 1, "lost": 1, "ok": 1, "dies": 2} {
		if got := p.Calls(id); got != want {
			t.Errorf("%s: processed %d times, want %d", id, got, want)
		}
	}
}
