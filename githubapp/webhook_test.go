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
	"sync"
	"testing"
	"time"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/webhookload"
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

// An event Ignore names a reason for is answered 202 and not queued, after
// the signature is checked; one it passes (""), is queued.
func TestWebhookHandlerIgnore(t *testing.T) {
	q := &queue{}
	var asked []string
	h := &githubapp.WebhookHandler{Secret: []byte("k"), Events: map[string]bool{"push": true}, Queue: q,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ignore: func(_ context.Context, ev githubapp.Event) string {
			asked = append(asked, ev.SHA)
			if ev.SHA == "own" {
				return "pushvault's own fix commit"
			}
			return ""
		}}
	if r := post(t, h, "push", []byte(`{"ref":"refs/heads/pushvault/fix-1","after":"own"}`)); r.StatusCode != 202 || len(q.events) != 0 {
		t.Errorf("ignored push: status %d, %d queued", r.StatusCode, len(q.events))
	}
	if r := post(t, h, "push", []byte(`{"ref":"refs/heads/main","after":"theirs"}`)); r.StatusCode != 202 || len(q.events) != 1 {
		t.Errorf("other push: status %d, %d queued", r.StatusCode, len(q.events))
	}
	body := []byte(`{"after":"own"}`)
	req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "d-2")
	req.Header.Set("X-Hub-Signature-256", githubapp.Sign([]byte("not k"), body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 401 || len(asked) != 2 {
		t.Errorf("badly signed: status %d, Ignore asked %d times, want 401 and not asked", rec.Code, len(asked))
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

// countingBody is a request body that counts the bytes read from it.
type countingBody struct {
	r    io.Reader
	read int
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

// TestWebhookHandlerRefusesOnHeaders: what the headers alone condemn is
// answered without reading a byte of the body, and the connection is closed
// rather than drained.
func TestWebhookHandlerRefusesOnHeaders(t *testing.T) {
	q := &queue{}
	h := &githubapp.WebhookHandler{Secret: []byte("k"), Events: map[string]bool{"push": true}, Queue: q, MaxBody: 4096,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	body := []byte(`{"ref":"refs/heads/main","after":"a1b2","installation":{"id":99}}`)
	signed := githubapp.Sign([]byte("k"), body)
	tests := []struct {
		name   string
		header map[string]string // over a signed JSON push delivery; "" removes the header
		length int64             // the Content-Length declared; 0: the body's
		status int
	}{
		{"no signature", map[string]string{"X-Hub-Signature-256": ""}, 0, 401},
		{"signature not sha256=", map[string]string{"X-Hub-Signature-256": "sha1=" + strings.Repeat("0", 40)}, 0, 401},
		{"signature too short", map[string]string{"X-Hub-Signature-256": "sha256=abcd"}, 0, 401},
		{"signature not hex", map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("z", 64)}, 0, 401},
		{"no delivery id", map[string]string{"X-GitHub-Delivery": ""}, 0, 400},
		{"no event", map[string]string{"X-GitHub-Event": ""}, 0, 400},
		{"text/plain", map[string]string{"Content-Type": "text/plain"}, 0, 415},
		{"multipart", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 0, 415},
		{"declared over the limit", nil, 4097, 413},
		{"event nothing handles", map[string]string{"X-GitHub-Event": "star"}, 0, 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &countingBody{r: bytes.NewReader(body)}
			req := httptest.NewRequest("POST", "/webhook", b)
			req.ContentLength = int64(len(body))
			if tt.length != 0 {
				req.ContentLength = tt.length
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-GitHub-Delivery", "d-1")
			req.Header.Set("X-Hub-Signature-256", signed)
			for k, v := range tt.header {
				req.Header.Del(k)
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if b.read != 0 {
				t.Errorf("%d bytes of the body read, want none", b.read)
			}
			if rec.Header().Get("Connection") != "close" {
				t.Errorf("Connection: %q, want close (the unread body is not drained)", rec.Header().Get("Connection"))
			}
			if len(q.events) != 0 {
				t.Errorf("enqueued %+v", q.events)
			}
		})
	}
}

// TestWebhookHandlerConcurrencyCap: while MaxConcurrent bodies are being
// read (here: clients sending theirs slowly), one more delivery waits
// SlotWait and is answered 503 with Retry-After; once they are gone,
// deliveries are taken again.
func TestWebhookHandlerConcurrencyCap(t *testing.T) {
	q := &lockedQueue{}
	h := &githubapp.WebhookHandler{Secret: []byte("k"), Events: map[string]bool{"ping": true, "push": true}, Queue: q, MaxConcurrent: 2,
		SlotWait: 100 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := srv.URL + "/webhook"
	slow := &webhookload.Slowloris{Addr: srv.Listener.Addr().String(), BodyConns: 2, BodyBytes: 1 << 20, Every: 20 * time.Millisecond}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); slow.Run(ctx) }()
	defer func() { stop(); <-done }() // before srv.Close, which waits for the slow connections

	busy := waitForStatus(t, url, http.StatusServiceUnavailable)
	if got := busy.Header.Get("Retry-After"); got == "" {
		t.Error("503 without Retry-After")
	}
	stop()
	<-done
	waitForStatus(t, url, http.StatusAccepted)
}

// TestWebhookHandlerBurstIsQueuedNotRefused: GitHub sends a burst of
// deliveries at once and redelivers none on its own; many more than
// MaxConcurrent signed deliveries at once each wait for a place and are
// all taken (202), none refused.
func TestWebhookHandlerBurstIsQueuedNotRefused(t *testing.T) {
	q := &lockedQueue{}
	h := &githubapp.WebhookHandler{Secret: []byte("k"), Events: map[string]bool{"ping": true}, Queue: q, MaxConcurrent: 2,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(h)
	defer srv.Close()
	const burst = 40
	codes := make(chan int, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(`{"zen":"` + strings.Repeat("z", 2<<20) + `","hook_id":1}`) // long enough to be read at once
			req, _ := http.NewRequest("POST", srv.URL+"/webhook", bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "ping")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprint("burst-", i))
			req.Header.Set("X-Hub-Signature-256", githubapp.Sign([]byte("k"), body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	if got[http.StatusAccepted] != burst {
		t.Errorf("answers %v, want all %d accepted", got, burst)
	}
}

// lockedQueue is queue for concurrent requests.
type lockedQueue struct {
	mu sync.Mutex
	q  queue
}

func (l *lockedQueue) Enqueue(ctx context.Context, ev githubapp.Event) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.q.Enqueue(ctx, ev)
}

// waitForStatus sends signed pings until one is answered status (for at
// most 10 s) and returns that answer.
func waitForStatus(t *testing.T, url string, status int) *http.Response {
	t.Helper()
	var got []int
	for i := 0; i < 200; i++ {
		body := []byte(`{"zen":"z","hook_id":1}`)
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "ping")
		req.Header.Set("X-GitHub-Delivery", fmt.Sprint("wait-", status, "-", i))
		req.Header.Set("X-Hub-Signature-256", githubapp.Sign([]byte("k"), body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == status {
			return resp
		}
		got = append(got, resp.StatusCode)
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %d in 200 tries: %v", status, got)
	return nil
}
