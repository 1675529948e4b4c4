package webhookload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/pause"
)

// Slowloris is a client holding connections open by sending each request
// one byte at a time. HeaderConns connections stall in their headers;
// BodyConns send complete, plausible webhook headers (a well-formed but
// wrong signature, a Content-Length of BodyBytes) and stall in the body.
type Slowloris struct {
	Addr        string // host:port of the server
	HeaderConns int
	BodyConns   int
	BodyBytes   int64         // the Content-Length the body connections claim
	Every       time.Duration // between two bytes
	// Opened counts connections made; HeaderCut and BodyCut those of each
	// kind the server closed or answered (each cut connection is replaced
	// by a new one).
	Opened, HeaderCut, BodyCut atomic.Int64
}

// Run holds the connections until ctx ends.
func (s *Slowloris) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < s.HeaderConns+s.BodyConns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				body := i >= s.HeaderConns
				cut := &s.HeaderCut
				if body {
					cut = &s.BodyCut
				}
				s.hold(ctx, s.prefix(i, n, body), cut)
			}
		}(i)
	}
	wg.Wait()
}

// prefix is what connection i sends the n-th time before an endless run of
// "x": headers ending in an endless header value, or complete headers
// and the start of an endless body.
func (s *Slowloris) prefix(i, n int, body bool) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "POST /webhook HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\n", s.Addr)
	fmt.Fprintf(&b, "X-GitHub-Delivery: slowloris-%d-%d\r\nX-Hub-Signature-256: sha256=%064x\r\n", i, n, n)
	if body {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n{\"pad\":\"", s.BodyBytes)
	} else {
		b.WriteString("X-Pad: ")
	}
	return []byte(b.String())
}

// hold sends prefix and then "x" for ever, a byte at a time, until the
// server cuts the connection (closes it, or answers: counted in cuts) or
// ctx ends.
func (s *Slowloris) hold(ctx context.Context, prefix []byte, cuts *atomic.Int64) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		_ = pause.For(ctx, s.Every)
		return
	}
	defer conn.Close()
	s.Opened.Add(1)
	cut := make(chan struct{})
	go func() {
		defer close(cut)
		_, _ = conn.Read(make([]byte, 1)) // an answer, EOF or a reset: the server is done with it
	}()
	tick := time.NewTicker(s.Every)
	defer tick.Stop()
	for sent := 0; ; sent++ {
		select {
		case <-ctx.Done():
			return
		case <-cut:
			cuts.Add(1)
			return
		case <-tick.C:
		}
		c := byte('x')
		if sent < len(prefix) {
			c = prefix[sent]
		}
		if _, err := conn.Write([]byte{c}); err != nil {
			cuts.Add(1)
			return
		}
	}
}

// Flood is clients posting bodies of Bytes bytes to URL as fast as they
// are answered, each with Header. Statuses counts the answers; Errors the
// requests that got none (the server may close the connection before
// reading a refused body).
type Flood struct {
	URL     string
	Clients int
	Bytes   int
	Header  http.Header

	mu       sync.Mutex
	statuses map[int]int
	errors   int
}

// Run floods until ctx ends.
func (f *Flood) Run(ctx context.Context) {
	body := bytes.Repeat([]byte("x"), f.Bytes) // shared: each request reads it, none copies it
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: f.Clients}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for i := 0; i < f.Clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				f.note(f.post(ctx, client, body))
			}
		}()
	}
	wg.Wait()
}

func (f *Flood) post(ctx context.Context, client *http.Client, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header = f.Header.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (f *Flood) note(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == 0 {
		f.errors++
		return
	}
	if f.statuses == nil {
		f.statuses = map[int]int{}
	}
	f.statuses[status]++
}

// Answers returns how many requests got each status, and how many got no
// answer.
func (f *Flood) Answers() (map[int]int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]int{}
	for k, v := range f.statuses {
		out[k] = v
	}
	return out, f.errors
}

// Ping posts a signed ping delivery (an event every App handles) with id
// delivery to url, and returns the status and how long the answer took.
func Ping(ctx context.Context, client *http.Client, url string, secret []byte, delivery string) (int, time.Duration, error) {
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", githubapp.Sign(secret, body))
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("ping %s: %w", delivery, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
}

// Unsigned is the headers of a flood the endpoint must refuse on its
// headers alone: a push without X-Hub-Signature-256.
func Unsigned() http.Header {
	return http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"push"}, "X-Github-Delivery": {"flood"}}
}

// Forged is the headers of a flood whose signature is well formed but
// wrong: the endpoint must read each body to refuse it.
func Forged() http.Header {
	h := Unsigned()
	h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	return h
}
