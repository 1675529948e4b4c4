package githubapp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

// TestWebhookHandlerForms: a webhook set to application/x-www-form-urlencoded
// is verified over the raw form body and queued as the JSON of its payload
// field; a form without one is malformed.
func TestWebhookHandlerForms(t *testing.T) {
	q := &queue{}
	h := &githubapp.WebhookHandler{Secret: []byte("k"), Events: map[string]bool{"push": true}, Queue: q,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	payload := `{"ref":"refs/heads/main","after":"a1b2","installation":{"id":99}}`
	tests := []struct {
		name     string
		body     string
		signOver string // what the signature covers
		status   int
	}{
		{"payload field", url.Values{"payload": {payload}}.Encode(), "", 202},
		{"signature over the JSON, not the body", url.Values{"payload": {payload}}.Encode(), payload, 401},
		{"no payload field", url.Values{"other": {payload}}.Encode(), "", 400},
		{"two payload fields", url.Values{"payload": {payload, payload}}.Encode(), "", 400},
		{"payload not JSON", url.Values{"payload": {"ref=main"}}.Encode(), "", 400},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q.events = nil
			signed := tt.body
			if tt.signOver != "" {
				signed = tt.signOver
			}
			req := httptest.NewRequest("POST", "/webhook", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprint("form-", i))
			req.Header.Set("X-Hub-Signature-256", githubapp.Sign([]byte("k"), []byte(signed)))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status == 202 && (len(q.events) != 1 || string(q.events[0].Payload) != payload || q.events[0].InstallationID != 99) {
				t.Errorf("enqueued %+v, want the payload field's JSON", q.events)
			}
		})
	}
}
