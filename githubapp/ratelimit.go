package githubapp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// CallObserver records GitHub API calls (metrics).
type CallObserver interface {
	// GitHubCall counts one response (status 0: no response, a transport error).
	GitHubCall(method string, status int)
	// RateLimitRemaining records X-RateLimit-Remaining for a resource (core, search, graphql...).
	RateLimitRemaining(resource string, remaining int)
	// RateLimitWait records a wait for a rate limit: kind is primary or secondary.
	RateLimitWait(kind string, d time.Duration)
}

// secondaryWait is how long to wait on a secondary rate limit that names no
// Retry-After: GitHub asks for at least a minute, then exponentially longer.
const secondaryWait = time.Minute

// RateLimitTransport waits out GitHub's rate limits instead of failing:
//
//   - a 403 or 429 with Retry-After (secondary limit) is retried after that
//     many seconds;
//   - a 403 or 429 with X-RateLimit-Remaining: 0 (primary limit) is retried
//     after X-RateLimit-Reset, and requests made before then wait for it
//     first instead of spending calls that would be refused;
//   - a 429 with neither is retried after one minute, doubling each time.
//
// Waits end early with the request's context (its error is returned). A
// request whose body cannot be replayed (no GetBody) is not retried: its
// rate-limited response is returned as is. A 403 without rate-limit headers
// is a permission error and is returned as is. Safe for concurrent use.
type RateLimitTransport struct {
	Base     http.RoundTripper // http.DefaultTransport when nil
	Observer CallObserver      // may be nil
	Log      *slog.Logger      // may be nil

	mu           sync.Mutex
	blockedUntil time.Time
}

func (t *RateLimitTransport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t *RateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	backoff := secondaryWait
	for attempt := 0; ; attempt++ {
		t.mu.Lock()
		until := t.blockedUntil
		t.mu.Unlock()
		if d := time.Until(until); d > 0 {
			t.wait(ctx, "primary", d)
			if err := sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("waiting for GitHub's rate limit to reset: %w", err)
			}
		}
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.base().RoundTrip(r)
		if err != nil {
			t.call(req.Method, 0)
			return nil, err
		}
		t.call(req.Method, resp.StatusCode)
		remaining, hasRemaining := headerInt(resp.Header, "X-RateLimit-Remaining")
		if hasRemaining && t.Observer != nil {
			resource := resp.Header.Get("X-RateLimit-Resource")
			if resource == "" {
				resource = "core"
			}
			t.Observer.RateLimitRemaining(resource, int(remaining))
		}
		reset, hasReset := headerInt(resp.Header, "X-RateLimit-Reset")
		if hasRemaining && remaining == 0 && hasReset {
			t.mu.Lock()
			if u := time.Unix(reset, 0).Add(time.Second); u.After(t.blockedUntil) {
				t.blockedUntil = u
			}
			t.mu.Unlock()
		}
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
			return resp, nil
		}
		var d time.Duration
		kind := "secondary"
		switch retryAfter, ok := headerInt(resp.Header, "Retry-After"); {
		case ok:
			d = time.Duration(retryAfter) * time.Second
		case hasRemaining && remaining == 0 && hasReset:
			kind = "primary"
			d = time.Until(time.Unix(reset, 0).Add(time.Second))
		case resp.StatusCode == http.StatusTooManyRequests:
			d = backoff
			backoff *= 2
		default:
			return resp, nil // a 403 that is not a rate limit
		}
		if req.Body != nil && req.GetBody == nil {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if kind == "secondary" {
			t.wait(ctx, kind, d)
			if err := sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("waiting out GitHub's secondary rate limit: %w", err)
			}
		}
		// primary: the loop's first step waits for blockedUntil.
	}
}

func (t *RateLimitTransport) call(method string, status int) {
	if t.Observer != nil {
		t.Observer.GitHubCall(method, status)
	}
}

func (t *RateLimitTransport) wait(ctx context.Context, kind string, d time.Duration) {
	if t.Observer != nil {
		t.Observer.RateLimitWait(kind, d)
	}
	log := t.Log
	if log == nil {
		log = Logger(ctx)
	}
	log.Warn("GitHub rate limit: waiting", slog.String("kind", kind), slog.Duration("wait", d))
}

func headerInt(h http.Header, name string) (int64, bool) {
	v := h.Get(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// sleep waits d or until ctx is done, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
