package githubapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushvault/pushvault/internal/pause"
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

// Waits GitHub asks for on a secondary rate limit that names none (no
// Retry-After, no exhausted X-RateLimit-Remaining): "wait for at least one
// minute", then "an exponentially increasing amount of time" while it
// persists. The cap keeps a delivery inside the queue's attempts.
const (
	SecondaryMinWait = time.Minute
	SecondaryMaxWait = 15 * time.Minute
)

// RetryLaterError is a request GitHub refused for a rate limit, or one not
// sent because an exhausted primary limit has not reset yet. The work that
// made it is to be retried as a whole after Delay (the queue requeues the
// delivery), not by a goroutine sleeping on it.
type RetryLaterError struct {
	Kind   string        // primary or secondary
	Status int           // GitHub's answer (403 or 429); 0: not sent, the limit has not reset
	After  time.Duration // the wait GitHub named (Retry-After, X-RateLimit-Reset); 0: none
}

func (e *RetryLaterError) Error() string {
	what := fmt.Sprintf("GitHub answered %d", e.Status)
	if e.Status == 0 {
		what = "not sent before the limit resets"
	}
	if e.After > 0 {
		return fmt.Sprintf("GitHub %s rate limit (%s): retry after %s", e.Kind, what, e.After)
	}
	return fmt.Sprintf("GitHub %s rate limit (%s): retry in at least %s, backing off", e.Kind, what, SecondaryMinWait)
}

// Delay is the wait before retrying after the attempt'th try (1-based) was
// limited: the wait GitHub named, else SecondaryMinWait doubled for every
// earlier attempt, up to SecondaryMaxWait.
func (e *RetryLaterError) Delay(attempt int) time.Duration {
	if e.After > 0 {
		return e.After
	}
	d := SecondaryMinWait
	for i := 1; i < attempt && d < SecondaryMaxWait; i++ {
		d *= 2
	}
	return min(d, SecondaryMaxWait)
}

// RateLimitTransport turns GitHub's rate limits into *RetryLaterError
// (wrapped in a *url.Error by http.Client), so that the work is retried
// later instead of a caller waiting minutes; a wait of at most
// MaxInlineWait is taken in place, once, and the request sent again:
//
//   - a 403 or 429 with Retry-After (secondary limit): after that many seconds;
//   - a 403 or 429 with X-RateLimit-Remaining: 0 (primary limit): after
//     X-RateLimit-Reset, and requests with the same credentials before then
//     are not sent at all (they would be refused and spend nothing useful);
//   - a 429 with neither, or a 403 whose body says it is a secondary rate
//     limit (GitHub sometimes sends no header): after SecondaryMinWait,
//     backing off (RetryLaterError.Delay).
//
// Any other 403 is a permission error and is returned as is. Safe for
// concurrent use.
type RateLimitTransport struct {
	Base     http.RoundTripper // http.DefaultTransport when nil
	Observer CallObserver      // may be nil
	Log      *slog.Logger      // may be nil

	mu           sync.Mutex
	blockedUntil map[[32]byte]time.Time // by hash of the Authorization header
}

func (t *RateLimitTransport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// MaxInlineWait is the longest wait GitHub may name that RoundTrip takes
// itself, once per request, before sending again: shorter than re-running a
// whole delivery, and short enough not to hold a worker.
const MaxInlineWait = 5 * time.Second

// RoundTrip implements http.RoundTripper.
func (t *RateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	cred := sha256.Sum256([]byte(req.Header.Get("Authorization")))
	for waited := false; ; waited = true {
		resp, rl, err := t.send(req, cred)
		if rl == nil {
			return resp, err
		}
		t.limited(ctx, rl)
		replayable := req.Body == nil || req.GetBody != nil
		if waited || rl.After == 0 || rl.After > MaxInlineWait || !replayable {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, rl
		}
		if err := pause.For(ctx, rl.After); err != nil {
			return nil, fmt.Errorf("waiting out GitHub's rate limit: %w", err)
		}
		if req, err = rewind(req); err != nil {
			return nil, err
		}
	}
}

// rewind is req again, with a fresh body, to send after a wait.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	return r, nil
}

// send sends req unless its credentials' primary limit has not reset, and
// returns GitHub's answer, or the rate limit it names (the response then
// drained and closed).
func (t *RateLimitTransport) send(req *http.Request, cred [32]byte) (*http.Response, *RetryLaterError, error) {
	if d := t.blocked(cred); d > 0 {
		return nil, &RetryLaterError{Kind: "primary", After: d}, nil
	}
	resp, err := t.base().RoundTrip(req)
	if err != nil {
		t.call(req.Method, 0)
		return nil, nil, err
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
	exhausted := hasRemaining && remaining == 0 && hasReset
	if exhausted {
		t.block(cred, time.Unix(reset, 0).Add(time.Second))
	}
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return resp, nil, nil
	}
	rl := &RetryLaterError{Kind: "secondary", Status: resp.StatusCode}
	switch retryAfter, ok := headerInt(resp.Header, "Retry-After"); {
	case ok:
		rl.After = time.Duration(retryAfter) * time.Second
	case exhausted:
		rl.Kind = "primary"
		rl.After = max(time.Until(time.Unix(reset, 0).Add(time.Second)), time.Second)
	case resp.StatusCode == http.StatusTooManyRequests:
	default:
		var secondary bool
		if resp, secondary = secondaryLimitBody(resp); !secondary {
			return resp, nil, nil // a 403 that is not a rate limit
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil, rl, nil
}

// secondaryLimitBody reports whether a 403 without rate-limit headers is
// GitHub's secondary rate limit, which its documentation says the error
// message names (and whose documentation_url points at), and returns the
// response with its body readable again.
func secondaryLimitBody(resp *http.Response) (*http.Response, bool) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return resp, false
	}
	var e struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	_ = json.Unmarshal(b, &e)
	return resp, strings.Contains(strings.ToLower(e.Message), "secondary rate limit") ||
		strings.Contains(e.DocumentationURL, "secondary-rate-limits")
}

// blocked is how long requests with these credentials must not be sent.
func (t *RateLimitTransport) blocked(cred [32]byte) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return time.Until(t.blockedUntil[cred])
}

func (t *RateLimitTransport) block(cred [32]byte, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.blockedUntil == nil {
		t.blockedUntil = map[[32]byte]time.Time{}
	}
	if until.After(t.blockedUntil[cred]) {
		t.blockedUntil[cred] = until
	}
}

func (t *RateLimitTransport) call(method string, status int) {
	if t.Observer != nil {
		t.Observer.GitHubCall(method, status)
	}
}

// limited records and logs a rate limit.
func (t *RateLimitTransport) limited(ctx context.Context, rl *RetryLaterError) {
	if t.Observer != nil {
		t.Observer.RateLimitWait(rl.Kind, rl.Delay(1))
	}
	log := t.Log
	if log == nil {
		log = Logger(ctx)
	}
	log.Warn("GitHub rate limit", slog.String("kind", rl.Kind),
		slog.Int("status", rl.Status), slog.Duration("retry_after", rl.After))
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
