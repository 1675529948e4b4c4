package main_test

import (
	"encoding/json"
	"testing"
)

// TestAppRedeliverRunsADeadLetterAgain: a push dead-lettered while Vault
// is down, redelivered from GitHub (same X-GitHub-Delivery) once Vault is
// back, is processed: its check run completes with the findings and the
// fix PR is opened. Redelivered again once finished, it is answered 202 and
// changes nothing: one check run, one PR, one vault version per secret.
func TestAppRedeliverRunsADeadLetterAgain(t *testing.T) {
	e, proxy := newAppEnvWith(t, "  max_attempts: 2\n  backoff: [100ms]\n")
	proxy.setUp(false)
	head, planted := e.pushSecrets(t, 21)
	waitFor(t, "the push is dead-lettered and its check run fails", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Status == "completed"
	})
	if r := e.checkRun(head); r.Conclusion != "failure" {
		t.Fatalf("with Vault down: %s\n%s", r.Conclusion, r.Summary)
	}
	id := e.pushDelivery(t, head)

	proxy.setUp(true)
	e.redeliver(t, id)
	waitFor(t, "the redelivered push completes its check run", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Conclusion == "action_required"
	})
	e.exactlyOnce(t, head, 2)
	// Two pushes are handled: the redelivered one, and the App's own push
	// of the fix branch (recognised and not scanned, by a worker or at the
	// webhook). Wait for both before redelivering again, so the count below
	// sees only the redelivery.
	waitFor(t, "the fix branch's push handled", func() bool {
		_, body := e.serve.get(t, "/metrics")
		return pushesHandled(body) == 2
	})

	e.redeliver(t, id)
	_, body := e.serve.get(t, "/metrics")
	if n := series(body, `pushvault_webhooks_total{event="push",outcome="duplicate"}`); n != 1 {
		t.Errorf("the finished push's redelivery: %v duplicates counted, want 1", n)
	}
	if n := pushesHandled(body); n != 2 {
		t.Errorf("pushes handled %v times, want 2 (the push once, its fix branch once)", n)
	}
	e.exactlyOnce(t, head, 2)
	noPlantedValue(t, planted, nil, append(e.githubTexts(), e.serve.logs.String()))
}

// pushesHandled counts, from serve's /metrics body, the push deliveries
// done with: processed successfully by a worker, or answered at the
// webhook as needing nothing (a ref deletion, the App's own fix commit).
func pushesHandled(metrics string) float64 {
	return series(metrics, `pushvault_events_processed_total{event="push",outcome="success"}`) +
		series(metrics, `pushvault_webhooks_total{event="push",outcome="ignored"}`)
}

// pushDelivery is the id of the push delivery whose head is head.
func (e *appEnv) pushDelivery(t *testing.T, head string) string {
	t.Helper()
	for _, d := range e.srv.Deliveries() {
		var p struct {
			After string `json:"after"`
		}
		if d.Event == "push" && json.Unmarshal(d.Payload, &p) == nil && p.After == head {
			return d.ID
		}
	}
	t.Fatalf("no push delivery for %s", head)
	return ""
}
