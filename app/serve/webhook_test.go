package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/githubapp"
)

const testSecret = "whsec-3c1f0e9a7b5d"

// TestWebhookEndpoint posts through the real handler into a real queue and
// counts what the stream holds after each request.
func TestWebhookEndpoint(t *testing.T) {
	q := queuetest.Open(t, queuetest.Config())
	m := serve.NewMetrics(q.Depth)
	log, logs := queuetest.Logger()
	h := &githubapp.WebhookHandler{
		Secret: []byte(testSecret), Events: map[string]bool{"installation_repositories": true, "push": true},
		Queue: q, Log: log, Observer: m, MaxBody: 4096,
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	good := []byte(`{"action":"added","installation":{"id":7},"repository":{"full_name":"acme/shop"}}`)
	big := []byte(`{"pad":"` + strings.Repeat("x", 5000) + `"}`)
	tests := []struct {
		name      string
		event     string
		delivery  string
		body      []byte
		signature string // "" signs the body with testSecret; "-" sends none
		status    int
		stored    uint64 // messages in the stream after the request
		outcome   string
	}{
		{"good signature", "installation_repositories", "d-1", good, "", 202, 1, "accepted"},
		{"same delivery again", "installation_repositories", "d-1", good, "", 202, 1, "duplicate"},
		{"bad signature", "installation_repositories", "d-2", good, githubapp.Sign([]byte("other"), good), 401, 1, "bad_signature"},
		{"missing signature", "installation_repositories", "d-3", good, "-", 401, 1, "bad_signature"},
		{"signature not hex", "installation_repositories", "d-4", good, "sha256=zz", 401, 1, "bad_signature"},
		{"malformed JSON", "installation_repositories", "d-5", []byte(`{"action":`), "", 400, 1, "malformed"},
		{"JSON but not an object", "installation_repositories", "d-6", []byte(`[1,2]`), "", 400, 1, "malformed"},
		{"oversize body", "installation_repositories", "d-7", big, "", 413, 1, "too_large"},
		{"unknown event", "star", "d-8", []byte(`{"action":"created"}`), "", 202, 1, "ignored"},
		{"missing delivery id", "push", "", good, "", 400, 1, "malformed"},
		{"second delivery", "push", "d-9", []byte(`{"after":"abc","repository":{"full_name":"acme/shop"}}`), "", 202, 2, "accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			label := tt.event
			if label != "push" && label != "installation_repositories" {
				label = "other" // arbitrary header values never become labels
			}
			before := queuetest.Metric(t, m.Registry, "pushvault_webhooks_total", map[string]string{"event": label, "outcome": tt.outcome})
			req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(tt.body))
			req.Header.Set("X-GitHub-Event", tt.event)
			if tt.delivery != "" {
				req.Header.Set("X-GitHub-Delivery", tt.delivery)
			}
			switch tt.signature {
			case "":
				req.Header.Set("X-Hub-Signature-256", githubapp.Sign([]byte(testSecret), tt.body))
			case "-":
			default:
				req.Header.Set("X-Hub-Signature-256", tt.signature)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := queuetest.StreamMsgs(t, q, queue.WebhookStream); got != tt.stored {
				t.Errorf("%d messages in the stream, want %d", got, tt.stored)
			}
			ev := tt.event
			if ev != "push" && ev != "installation_repositories" {
				ev = "other"
			}
			if after := queuetest.Metric(t, m.Registry, "pushvault_webhooks_total", map[string]string{"event": ev, "outcome": tt.outcome}); after != before+1 {
				t.Errorf("pushvault_webhooks_total{event=%q,outcome=%q} went %v -> %v, want +1", ev, tt.outcome, before, after)
			}
		})
	}
	if strings.Contains(logs.String(), testSecret) {
		t.Error("the webhook secret is in the logs")
	}
	// Every log line is JSON and names the delivery.
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if _, ok := rec["delivery_id"]; !ok {
			t.Errorf("log line without delivery_id: %s", line)
		}
	}
	if !strings.Contains(logs.String(), `"installation_id":7`) || !strings.Contains(logs.String(), `"repo":"acme/shop"`) {
		t.Errorf("logs lack installation_id or repo:\n%s", logs)
	}
}

// BenchmarkWebhookEnqueue measures one signed delivery through the handler
// into the embedded server's file-backed stream (the webhook's 202 path).
func BenchmarkWebhookEnqueue(b *testing.B) {
	log, _ := queuetest.Logger()
	q, err := queue.Open(context.Background(), log, queuetest.Config(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	h := &githubapp.WebhookHandler{Secret: []byte(testSecret), Events: map[string]bool{"push": true}, Queue: q, Log: log}
	body := []byte(`{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567","installation":{"id":7},"repository":{"full_name":"acme/shop"}}`)
	sig := githubapp.Sign([]byte(testSecret), body)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", i))
		req.Header.Set("X-Hub-Signature-256", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 202 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
