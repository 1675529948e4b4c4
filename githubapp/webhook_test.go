package githubapp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pushvault/pushvault/githubapp"
)

// queue is a hand-written Enqueuer.
type queue struct {
	Err    error
	events []githubapp.Event
}

func (q *queue) Enqueue(_ context.Context, ev githubapp.Event) (bool, error) {
	if q.Err != nil {
		return false, q.Err
	}
	for _, e := range q.events {
		if e.DeliveryID == ev.DeliveryID {
			return true, nil
		}
	}
	q.events = append(q.events, ev)
	return false, nil
}

func post(t *testing.T, h http.Handler, event string, body []byte) *http.Response {
	req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", "d-1")
	req.Header.Set("X-Hub-Signature-256", githubapp.Sign([]byte("k"), body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestWebhookHandlerEvent(t *testing.T) {
	q := &queue{}
	h := &githubapp.WebhookHandler{Secret: []byte("k"), Events: map[string]bool{"push": true, "check_run": true, "pull_request": true}, Queue: q,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	body := []byte(`{"ref":"refs/heads/main","after":"a1b2","installation":{"id":99},"repository":{"full_name":"acme/shop"}}`)
	if r := post(t, h, "push", body); r.StatusCode != 202 {
		t.Fatalf("status %d", r.StatusCode)
	}
	want := githubapp.Event{DeliveryID: "d-1", Event: "push", InstallationID: 99, Repo: "acme/shop", SHA: "a1b2", Payload: body}
	if len(q.events) != 1 || q.events[0].DeliveryID != want.DeliveryID || q.events[0].SHA != want.SHA ||
		q.events[0].InstallationID != 99 || q.events[0].Repo != want.Repo || !bytes.Equal(q.events[0].Payload, body) {
		t.Errorf("enqueued %+v, want %+v", q.events, want)
	}
	q.events = nil
	if r := post(t, h, "check_run", []byte(`{"action":"rerequested","check_run":{"head_sha":"c3"}}`)); r.StatusCode != 202 || q.events[0].SHA != "c3" || q.events[0].Action != "rerequested" {
		t.Errorf("check_run: %d %+v", r.StatusCode, q.events)
	}
	q.events = nil
	if r := post(t, h, "pull_request", []byte(`{"action":"closed","pull_request":{"head":{"sha":"d4"}}}`)); r.StatusCode != 202 || q.events[0].SHA != "d4" {
		t.Errorf("pull_request: %d %+v", r.StatusCode, q.events)
	}
	q.Err = errors.New("nats: no responders")
	if r := post(t, h, "push", []byte(`{"after":"x"}`)); r.StatusCode != 503 {
		t.Errorf("queue down: status %d, want 503", r.StatusCode)
	}
	get := httptest.NewRecorder()
	h.ServeHTTP(get, httptest.NewRequest("GET", "/webhook", nil))
	if get.Code != 405 {
		t.Errorf("GET: %d, want 405", get.Code)
	}
}
