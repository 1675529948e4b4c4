package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
)

// MaxCredentialsPerRequest is how many credentials POST /credentials/revoke
// takes at once (GitHub's OpenAPI description: maxItems 1000).
const MaxCredentialsPerRequest = 1000

// RevokeRequestsPerHour is GitHub's limit on POST /credentials/revoke: 60
// requests per hour (unauthenticated on github.com, authenticated on GitHub
// Enterprise Server).
const RevokeRequestsPerHour = 60

// Clock is the time source the limiter waits on; tests inject a fake.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Limiter is a token bucket: capacity tokens, one more every interval.
// Safe for concurrent use.
type Limiter struct {
	clock    Clock
	capacity float64
	interval time.Duration

	mu     sync.Mutex
	tokens float64
	last   time.Time
	until  time.Time // no request before this (a Retry-After from GitHub)
}

// NewLimiter returns a full bucket of perHour tokens refilled evenly over
// the hour.
func NewLimiter(perHour int, clock Clock) *Limiter {
	if clock == nil {
		clock = realClock{}
	}
	return &Limiter{clock: clock, capacity: float64(perHour), interval: time.Hour / time.Duration(perHour),
		tokens: float64(perHour), last: clock.Now()}
}

// Wait takes a token, waiting for one (and for any pause GitHub asked for)
// until ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.clock.Now()
		l.tokens += float64(now.Sub(l.last)) / float64(l.interval)
		if l.tokens > l.capacity {
			l.tokens = l.capacity
		}
		l.last = now
		var wait time.Duration
		switch {
		case now.Before(l.until):
			wait = l.until.Sub(now)
		case l.tokens >= 1:
			l.tokens--
			l.mu.Unlock()
			return nil
		default:
			wait = time.Duration((1 - l.tokens) * float64(l.interval))
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.clock.After(wait):
		}
	}
}

// PauseUntil holds every request until t (GitHub's Retry-After or rate
// limit reset) and empties the bucket: GitHub says we are out.
func (l *Limiter) PauseUntil(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.until) {
		l.until = t
	}
	l.tokens = 0
	l.last = l.clock.Now()
}

// Revoker revokes GitHub credentials through POST /credentials/revoke
// (which go-github v60 has no method for: the request is built with the
// client's NewRequest), in batches of at most
// MaxCredentialsPerRequest, within RevokeRequestsPerHour. The client it is
// made with must be an unauthenticated one (github.NewClient(nil) with the
// instance's API URL): github.com refuses authenticated revocations (403),
// and TokenWorks sends the leaked token as the only credential. GitHub
// Enterprise Server documents the endpoint as authenticated instead: see
// ForInstallation. Safe for concurrent use.
type Revoker struct {
	client *github.Client
	// sender sends the revocations: client, or on GHES an installation's
	// client (ForInstallation).
	sender  *github.Client
	limiter *Limiter
	// budget, when set (WithBudget), replaces limiter: shared, and never
	// waited on.
	budget   RevokeBudget
	clock    Clock
	batch    int
	attempts int
}

// RevokerOption configures a Revoker.
type RevokerOption func(*Revoker)

// WithClock sets the clock the rate limiter and retries wait on.
func WithClock(c Clock) RevokerOption { return func(r *Revoker) { r.clock = c } }

// WithBatchSize sets how many credentials go in one request (at most
// MaxCredentialsPerRequest).
func WithBatchSize(n int) RevokerOption {
	return func(r *Revoker) {
		if n > 0 && n <= MaxCredentialsPerRequest {
			r.batch = n
		}
	}
}

// RevokeBudget is GitHub's hourly revocation budget, shared by every
// revoker that spends it (every replica of serve). Implementations are
// safe for concurrent use.
type RevokeBudget interface {
	// Take spends one request when the budget has one now (0); otherwise
	// it spends nothing and returns how long until one is free.
	Take(ctx context.Context) (time.Duration, error)
	// PauseUntil holds every request until t: GitHub said the budget is
	// spent.
	PauseUntil(ctx context.Context, t time.Time) error
}

// WithBudget makes the revoker spend b instead of a budget of its own, and
// never wait on it: when b is spent, Revoke returns a *RevokeDeferredError
// saying how long until it is not, for the caller to try again then (the
// queue requeues the delivery) instead of holding a worker.
func WithBudget(b RevokeBudget) RevokerOption { return func(r *Revoker) { r.budget = b } }

// RevokeDeferredError is a revocation not sent because the shared budget
// (WithBudget) is spent: try again after After. The queue honours it by
// requeueing the delivery after Defer(), without counting the attempt.
type RevokeDeferredError struct{ After time.Duration }

func (e *RevokeDeferredError) Error() string {
	return fmt.Sprintf("github's revocation budget (%d requests an hour) is spent: not sent; try again in %s",
		RevokeRequestsPerHour, e.After.Round(time.Second))
}

// Defer is how long to wait before trying again.
func (e *RevokeDeferredError) Defer() time.Duration { return e.After }

// NewRevoker returns a revoker on an unauthenticated client. Make one per
// process and GitHub instance: its limiter is the instance's hourly budget
// (unless WithBudget gives it one shared with other processes).
func NewRevoker(client *github.Client, opts ...RevokerOption) *Revoker {
	r := &Revoker{client: client, sender: client, clock: realClock{}, batch: MaxCredentialsPerRequest, attempts: 3}
	for _, o := range opts {
		o(r)
	}
	r.limiter = NewLimiter(RevokeRequestsPerHour, r.clock)
	return r
}

// ForInstallation returns the revoker to use on behalf of an installation
// whose client is installation. On GitHub Enterprise Server (an API URL
// ending in /api/v3/), which documents POST /credentials/revoke as an
// authenticated endpoint, that is a revoker sending the revocations
// through installation while sharing r's limiter (the one hourly budget);
// TokenWorks stays on r's unauthenticated client, whose only credential is
// the token asked about (an installation transport would overwrite it).
// Elsewhere (github.com, which answers authenticated revocations 403) it
// is r itself.
func (r *Revoker) ForInstallation(installation *github.Client) *Revoker {
	if !IsEnterprise(r.client.BaseURL) {
		return r
	}
	on := *r
	on.sender = installation
	return &on
}

// IsEnterprise reports whether api, a REST API base URL, is a GitHub
// Enterprise Server's: https://HOST/api/v3/ (github.com's is
// https://api.github.com/).
func IsEnterprise(api *url.URL) bool {
	return api != nil && strings.HasSuffix(strings.TrimSuffix(api.Path, "/")+"/", "/api/v3/")
}

// ErrRevoke is a revocation GitHub did not accept (a 4xx other than a
// limit; 5xx).
var ErrRevoke = errors.New("github did not accept the revocation")

// RevokeUnavailableError is the instance answering POST /credentials/revoke
// with 404: it offers no credential revocation. github.com does; none of
// the GHES descriptions pinned for tests (ghes-3.17 to ghes-3.19 in
// @octokit/openapi 23.0.2) documents the endpoint.
type RevokeUnavailableError struct{}

func (*RevokeUnavailableError) Error() string {
	return "this GitHub instance offers no credential revocation (POST credentials/revoke: 404)"
}

// RevocationUnavailable marks the error for consumers that must not import
// this package (rotate.GitHub).
func (*RevokeUnavailableError) RevocationUnavailable() {}

// ErrRevokeLimited is a revocation still refused for a rate limit (403 or
// 429 with Retry-After, an exhausted rate limit, or 422: the hourly
// revocation budget spent) after the revoker's attempts: retry later.
var ErrRevokeLimited = errors.New("github's revocation rate limit")

// Revoke submits credentials for revocation. It returns nil once GitHub
// accepted every batch (202); on a rate limit answer (403 or 429 with
// Retry-After, an exhausted rate limit, or 422 for a spent revocation
// budget) it waits as told and retries, up to 3 attempts per batch, then
// returns an error wrapping ErrRevokeLimited; it stops at the first batch that fails, and
// the batches before it stay submitted. With a shared budget (WithBudget)
// it waits for nothing: a budget spent, or paused by such an answer, is a
// *RevokeDeferredError. Errors never hold a credential.
func (r *Revoker) Revoke(ctx context.Context, credentials []string) error {
	for start := 0; start < len(credentials); start += r.batch {
		end := min(start+r.batch, len(credentials))
		if err := r.revokeBatch(ctx, credentials[start:end]); err != nil {
			return fmt.Errorf("revoking credentials %d-%d of %d: %w", start+1, end, len(credentials), err)
		}
	}
	return nil
}

func (r *Revoker) revokeBatch(ctx context.Context, batch []string) error {
	var lastErr error
	for attempt := 0; attempt < r.attempts; attempt++ {
		if err := r.take(ctx); err != nil {
			return err
		}
		req, err := r.sender.NewRequest(http.MethodPost, "credentials/revoke", struct {
			Credentials []string `json:"credentials"`
		}{batch})
		if err != nil {
			return err
		}
		// Sent through the client's http.Client, typed by github.CheckResponse:
		// client.Do would also keep go-github's own secondary-rate-limit
		// memory, on the wall clock, which this limiter already owns.
		resp, err := r.sender.Client().Do(req.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("POST credentials/revoke: %w", err)
		}
		err = github.CheckResponse(resp)
		resp.Body.Close()
		var accepted *github.AcceptedError
		var abuse *github.AbuseRateLimitError
		var rate *github.RateLimitError
		var er *github.ErrorResponse
		switch {
		case errors.As(err, &accepted):
			return nil // 202: GitHub took the batch
		case err == nil:
			return fmt.Errorf("%w: status %d (want 202)", ErrRevoke, resp.StatusCode)
		case errors.As(err, &abuse):
			wait := time.Minute
			if abuse.RetryAfter != nil {
				wait = *abuse.RetryAfter
			}
			r.pause(ctx, r.clock.Now().Add(wait))
			lastErr = fmt.Errorf("%w (status %d, retry after %s)", ErrRevokeLimited, abuse.Response.StatusCode, wait)
		case errors.As(err, &rate):
			r.pause(ctx, rate.Rate.Reset.Time)
			lastErr = fmt.Errorf("%w until %s", ErrRevokeLimited, rate.Rate.Reset.Time.UTC().Format(time.RFC3339))
		case errors.As(err, &er) && er.Response.StatusCode == http.StatusUnprocessableEntity:
			// GitHub documents this 422 as "Validation failed, or the endpoint
			// has been spammed". Every batch sent here is valid (1 to
			// MaxCredentialsPerRequest strings), so it is the hour's
			// revocation budget spent: a limit, waited for like the others.
			until := r.clock.Now().Add(time.Hour)
			if reset, ok := headerInt(er.Response.Header, "X-RateLimit-Reset"); ok {
				until = time.Unix(reset, 0)
			}
			r.pause(ctx, until)
			lastErr = fmt.Errorf("%w: revocation budget spent (status 422) until %s", ErrRevokeLimited, until.UTC().Format(time.RFC3339))
		case errors.As(err, &er) && retryAfter(er.Response) > 0:
			wait := retryAfter(er.Response)
			r.pause(ctx, r.clock.Now().Add(wait))
			lastErr = fmt.Errorf("%w (status %d, retry after %s)", ErrRevokeLimited, er.Response.StatusCode, wait)
		case errors.As(err, &er) && er.Response.StatusCode == http.StatusNotFound:
			return &RevokeUnavailableError{}
		case errors.As(err, &er):
			// The message is GitHub's; the body we sent is not in it.
			return fmt.Errorf("%w: status %d: %s", ErrRevoke, er.Response.StatusCode, er.Message)
		default:
			return fmt.Errorf("POST credentials/revoke: %w", err)
		}
	}
	return lastErr
}

// take spends one request of the budget: from the shared one without
// waiting (a *RevokeDeferredError when it is spent), else from the
// revoker's own, waiting for it.
func (r *Revoker) take(ctx context.Context) error {
	if r.budget == nil {
		return r.limiter.Wait(ctx)
	}
	wait, err := r.budget.Take(ctx)
	if err != nil {
		return fmt.Errorf("revocation budget: %w", err)
	}
	if wait > 0 {
		return &RevokeDeferredError{After: wait}
	}
	return nil
}

// pause holds the budget until t (GitHub said it is spent). A shared
// budget that cannot record it is left as it is: GitHub refuses the next
// request again, and says so again.
func (r *Revoker) pause(ctx context.Context, t time.Time) {
	if r.budget == nil {
		r.limiter.PauseUntil(t)
		return
	}
	_ = r.budget.PauseUntil(ctx, t)
}

// retryAfter reads a 403 or 429 answer's Retry-After (seconds); 0 when
// absent or another status.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusForbidden) {
		return 0
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// TokenWorks reports whether token authenticates on this GitHub instance:
// GET /user answers a live token with 200 (a user's) or 403 (a token that
// authenticates but is no user's), and one it does not accept with 401 Bad
// credentials, whatever the token's scopes. GET /rate_limit is no proof on
// GHES: with rate limiting off (its default) it answers 404. A 401 says
// only that this instance does not accept the token, not that the token is
// dead where it was issued (see rotate.GitHub).
func (r *Revoker) TokenWorks(ctx context.Context, token string) (bool, error) {
	req, err := r.client.NewRequest(http.MethodGet, "user", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.client.BareDo(ctx, req)
	if resp != nil {
		resp.Body.Close()
	}
	var er *github.ErrorResponse
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &er) && er.Response.StatusCode == http.StatusUnauthorized:
		return false, nil
	case errors.As(err, &er) && er.Response.StatusCode == http.StatusForbidden:
		return true, nil
	case errors.As(err, &er):
		return false, fmt.Errorf("GET user: status %d: %s", er.Response.StatusCode, er.Message)
	}
	return false, fmt.Errorf("GET user: %w", err)
}
