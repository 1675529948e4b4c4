package serve_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/internal/webhookload"
)

// TestWebhookUnderSlowAndLargeRequests runs serve's real HTTP server (the
// http.Server Run serves, with its timeouts) while a slowloris client holds
// connections in their headers and in their bodies, and floods post
// 25 MiB bodies, unsigned and with a forged signature. Meanwhile every
// signed delivery must be acked (202) well within GitHub's 10 s, every slow
// connection must be cut by the server's timeouts, and the live heap must
// stay within max_concurrent bodies (plus the floods' own two bodies and
// some slack) of what it was before.
func TestWebhookUnderSlowAndLargeRequests(t *testing.T) {
	const (
		maxConcurrent = 4
		ackBudget     = 5 * time.Second // half GitHub's 10 s: room for a loaded machine; the heap bound is what the old code fails
		pings         = 40
	)
	maxBody := serve.DefaultServeConfig().Webhook.MaxBodyBytes
	e := startServe(t, func(c *serve.ServeConfig) {
		c.HTTP.ReadHeaderTimeout, c.HTTP.ReadTimeout = time.Second, 2*time.Second
		c.Webhook.MaxConcurrent = maxConcurrent
	})
	addr := serveHTTP(t, e.s.HTTPServer())
	url := "http://" + addr + "/webhook"

	base := liveHeap()
	peak := watchLiveHeap(t)
	ctx, stop := context.WithCancel(context.Background())
	slow := &webhookload.Slowloris{Addr: addr, HeaderConns: 40, BodyConns: maxConcurrent - 2, BodyBytes: maxBody, Every: 50 * time.Millisecond}
	unsigned := &webhookload.Flood{URL: url, Clients: 12, Bytes: int(maxBody), Header: webhookload.Unsigned()}
	forged := &webhookload.Flood{URL: url, Clients: 1, Bytes: int(maxBody), Header: webhookload.Forged()}
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){slow.Run, unsigned.Run, forged.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	defer func() { stop(); wg.Wait() }()

	client := &http.Client{Timeout: 10 * time.Second}
	var slowest time.Duration
	for i := 0; i < pings; i++ {
		status, took, err := webhookload.Ping(ctx, client, url, []byte(e.app.WebhookSecret), fmt.Sprintf("signed-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusAccepted {
			t.Errorf("signed delivery %d: status %d, want 202", i, status)
		}
		slowest = max(slowest, took)
		time.Sleep(50 * time.Millisecond)
	}
	if slowest > ackBudget {
		t.Errorf("slowest signed delivery acked after %v, want under %v", slowest, ackBudget)
	}
	// Every slow connection is cut within its timeout; the client replaces
	// each, so one cut per connection of each kind (within three read
	// timeouts) proves it.
	cutAll := func() bool {
		return slow.HeaderCut.Load() >= int64(slow.HeaderConns) && slow.BodyCut.Load() >= int64(slow.BodyConns)
	}
	for deadline := time.Now().Add(3 * 2 * time.Second); !cutAll() && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if !cutAll() {
		t.Errorf("the server cut %d of %d connections slow in their headers and %d of %d slow in their bodies within 3 read timeouts",
			slow.HeaderCut.Load(), slow.HeaderConns, slow.BodyCut.Load(), slow.BodyConns)
	}
	stop()
	wg.Wait()
	answers, unanswered := unsigned.Answers()
	if answers[http.StatusAccepted] > 0 {
		t.Errorf("unsigned bodies accepted: %v", answers)
	}
	forgedAnswers, _ := forged.Answers()
	t.Logf("slowest ack %v; slowloris opened %d, cut %d+%d; unsigned flood %v (+%d unanswered); forged flood %v; live heap %d MiB, peak %d MiB",
		slowest, slow.Opened.Load(), slow.HeaderCut.Load(), slow.BodyCut.Load(), answers, unanswered, forgedAnswers, base>>20, peak()>>20)
	bound := uint64(maxConcurrent+2)*uint64(maxBody) + 32<<20
	if grew := peak() - base; peak() > base && grew > bound {
		t.Errorf("the live heap grew by %d MiB, want at most %d MiB (%d bodies read at once, the floods' two, 32 MiB slack)",
			grew>>20, bound>>20, maxConcurrent)
	}
}

// serveHTTP serves srv on a loopback port until the test ends.
func serveHTTP(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// liveHeap is the heap that survived the last garbage collection, after
// forcing one.
func liveHeap() uint64 {
	runtime.GC()
	return readLiveHeap()
}

func readLiveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watchLiveHeap samples the live heap every 10 ms until the test ends; the
// function it returns is the largest sample so far.
func watchLiveHeap(t *testing.T) func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
	)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			v := readLiveHeap()
			mu.Lock()
			peak = max(peak, v)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { close(done); <-stopped })
	return func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
