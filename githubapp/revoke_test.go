package githubapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
)

// fakeClock advances only when waited on, and records every wait.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// revokeServer checks every request the way GitHub's description says
// POST /credentials/revoke must look, and answers with answer(n) for the
// n-th request (0-based).
func revokeServer(t *testing.T, answer func(n int, w http.ResponseWriter)) (*github.Client, *[][]string) {
	t.Helper()
	var mu sync.Mutex
	var got [][]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v3/credentials/revoke" {
			t.Errorf("request %s %s, want POST /api/v3/credentials/revoke", r.Method, r.URL.Path)
		}
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("Authorization %q: the endpoint takes unauthenticated requests only", a)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if acc := r.Header.Get("Accept"); !strings.Contains(acc, "application/vnd.github") {
			t.Errorf("Accept %q", acc)
		}
		body, _ := io.ReadAll(r.Body)
		var req map[string][]string
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || len(req) != 1 || len(req["credentials"]) == 0 || len(req["credentials"]) > 1000 {
			t.Errorf("body %.200s: want {\"credentials\": [1..1000 strings]} (%v)", body, err)
		}
		mu.Lock()
		n := len(got)
		got = append(got, req["credentials"])
		mu.Unlock()
		answer(n, w)
	}))
	t.Cleanup(srv.Close)
	c, err := github.NewClient(nil).WithEnterpriseURLs(srv.URL, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

func accepted(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }

func tokens(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("ghp_%036d", i)
	}
	return out
}

func TestRevokeBatches(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		sizes []int
	}{
		{"one token", 1, []int{1}},
		{"exactly one full batch", 1000, []int{1000}},
		{"two and a half batches", 2500, []int{1000, 1000, 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, got := revokeServer(t, accepted)
			clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
			creds := tokens(tc.n)
			if err := githubapp.NewRevoker(c, githubapp.WithClock(clock)).Revoke(context.Background(), creds); err != nil {
				t.Fatal(err)
			}
			var sizes []int
			var all []string
			for _, b := range *got {
				sizes = append(sizes, len(b))
				all = append(all, b...)
			}
			if d := cmp.Diff(tc.sizes, sizes); d != "" {
				t.Errorf("batch sizes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(creds, all); d != "" {
				t.Errorf("credentials sent (-want +got):\n%s", d)
			}
			if len(clock.waits) != 0 {
				t.Errorf("waited %v within the hourly allowance", clock.waits)
			}
		})
	}
}

// TestRevokeRateLimit: 60 requests go at once, the 61st waits for the
// bucket to refill one token (a minute), measured on the fake clock.
func TestRevokeRateLimit(t *testing.T) {
	c, got := revokeServer(t, accepted)
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	r := githubapp.NewRevoker(c, githubapp.WithClock(clock), githubapp.WithBatchSize(1))
	if err := r.Revoke(context.Background(), tokens(62)); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 62 {
		t.Fatalf("%d requests, want 62", len(*got))
	}
	if d := cmp.Diff([]time.Duration{time.Minute, time.Minute}, clock.waits); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}
}

func TestRevokeRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		wait   time.Duration
	}{
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		}, 120 * time.Second},
		{"403 secondary rate limit", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "30")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
		}, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, got := revokeServer(t, func(n int, w http.ResponseWriter) {
				if n == 0 {
					tc.answer(w)
					return
				}
				w.WriteHeader(http.StatusAccepted)
			})
			clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
			if err := githubapp.NewRevoker(c, githubapp.WithClock(clock)).Revoke(context.Background(), tokens(3)); err != nil {
				t.Fatal(err)
			}
			if len(*got) != 2 {
				t.Errorf("%d requests, want 2 (the limited one and its retry)", len(*got))
			}
			if len(clock.waits) == 0 || clock.waits[0] != tc.wait {
				t.Errorf("waits %v, want %v first", clock.waits, tc.wait)
			}
		})
	}
}

func TestRevokeRetryAfterHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, got := revokeServer(t, func(_ int, w http.ResponseWriter) {
		cancel() // the caller gives up while told to wait an hour
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	// The real clock: the wait must end with the context, not in an hour.
	err := githubapp.NewRevoker(c).Revoke(ctx, tokens(1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(*got) != 1 {
		t.Errorf("%d requests, want 1", len(*got))
	}
}

func TestRevokeRefused(t *testing.T) {
	c, _ := revokeServer(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"message":"Internal Server Error","documentation_url":"https://docs.github.com/rest"}`)
	})
	creds := tokens(2)
	err := githubapp.NewRevoker(c).Revoke(context.Background(), creds)
	if !errors.Is(err, githubapp.ErrRevoke) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("got %v, want ErrRevoke with the status", err)
	}
	for _, cr := range creds {
		if strings.Contains(err.Error(), cr) {
			t.Errorf("the error holds a credential: %v", err)
		}
	}
}

// TestRevokeUnavailable: an instance without the endpoint (404) is said
// so, in a type the rotator turns into a manual rotation, after one request.
func TestRevokeUnavailable(t *testing.T) {
	c, got := revokeServer(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
	})
	err := githubapp.NewRevoker(c).Revoke(context.Background(), tokens(2))
	var none *githubapp.RevokeUnavailableError
	if !errors.As(err, &none) || len(*got) != 1 {
		t.Errorf("err = %v after %d requests, want RevokeUnavailableError after 1", err, len(*got))
	}
}

// TestRevokeBudgetSpent: the stand-in answers 422 with the limit's reset,
// as GitHub does once the hour's revocation requests are spent; the revoker
// waits for the reset (on its clock) and sends again instead of failing,
// and after its attempts says it was limited, not refused.
func TestRevokeBudgetSpent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		count   int
		wantErr error
	}{
		{"spent once", 1, nil},
		{"spent for every attempt", 3, githubapp.ErrRevokeLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := githubtest.New(t)
			tok, err := srv.UserToken("octocat", "ghp_")
			if err != nil {
				t.Fatal(err)
			}
			srv.Fault(githubtest.Fault{Operation: "credentials/revoke", Kind: githubtest.RevocationBudget, RetryAfter: 20 * time.Minute, Count: tc.count})
			// github.com's root path: there the revocation is unauthenticated.
			c := github.NewClient(nil)
			c.BaseURL, _ = url.Parse(srv.URL + "/")
			clock := &fakeClock{now: time.Now()}
			err = githubapp.NewRevoker(c, githubapp.WithClock(clock)).Revoke(context.Background(), []string{tok})
			if !errors.Is(err, tc.wantErr) || errors.Is(err, githubapp.ErrRevoke) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if len(clock.waits) == 0 || clock.waits[0] < 19*time.Minute || clock.waits[0] > 21*time.Minute {
				t.Errorf("waits %v, want the first until the reset (20m)", clock.waits)
			}
			if revoked := srv.RevokedCredentials(); (tc.wantErr == nil) != (len(revoked) == 1) {
				t.Errorf("%d credentials revoked", len(revoked))
			}
		})
	}
}

func TestTokenWorks(t *testing.T) {
	live := "ghp_" + strings.Repeat("a", 36)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v3/user" {
			t.Errorf("request %s %s, want GET /api/v3/user", r.Method, r.URL.Path)
		}
		if r.Header.Get("Authorization") != "Bearer "+live {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Bad credentials"}`)
			return
		}
		fmt.Fprint(w, `{"login":"octocat"}`)
	}))
	defer srv.Close()
	c, _ := github.NewClient(nil).WithEnterpriseURLs(srv.URL, srv.URL)
	r := githubapp.NewRevoker(c)
	for tok, want := range map[string]bool{live: true, "ghp_" + strings.Repeat("b", 36): false} {
		got, err := r.TokenWorks(context.Background(), tok)
		if err != nil || got != want {
			t.Errorf("TokenWorks = %v, %v; want %v", got, err, want)
		}
	}
}

// TestRevokerForInstallation: on GitHub Enterprise Server (API under
// /api/v3) the revocation goes with the installation's token and is
// accepted; on github.com's root path the revoker stays unauthenticated.
// Either way TokenWorks sends the leaked token alone: a dead token is dead
// even though the installation's token would authenticate.
func TestRevokerForInstallation(t *testing.T) {
	for _, tc := range []struct {
		name, apiPath string
		enterprise    bool
	}{
		{"github.com", "/", false},
		{"GitHub Enterprise Server", "/api/v3/", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := githubtest.New(t, githubtest.WithRevocationDelay(0))
			inst := srv.Install("acme")
			c, err := githubapp.NewClients(githubapp.ClientsConfig{AppID: srv.App().ID, PrivateKey: srv.App().PrivateKeyPEM, APIURL: srv.URL + tc.apiPath})
			if err != nil {
				t.Fatal(err)
			}
			gh, err := c.Installation(inst)
			if err != nil {
				t.Fatal(err)
			}
			anon := github.NewClient(nil)
			anon.BaseURL, _ = url.Parse(srv.URL + tc.apiPath)
			rev := githubapp.NewRevoker(anon).ForInstallation(gh)
			tok, err := srv.UserToken("octocat", "ghp_")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if works, err := rev.TokenWorks(ctx, tok); err != nil || !works {
				t.Fatalf("before: TokenWorks = %v, %v", works, err)
			}
			if err := rev.Revoke(ctx, []string{tok}); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			want := githubtest.Revocation{Credential: tok, Enterprise: tc.enterprise}
			if tc.enterprise {
				want.InstallationID = inst
			}
			if got := srv.Revocations(); len(got) != 1 || got[0] != want {
				t.Errorf("%d revocations, want the token once (enterprise %v, by installation %d)", len(got), want.Enterprise, want.InstallationID)
			}
			if works, err := rev.TokenWorks(ctx, tok); err != nil || works {
				t.Errorf("after: TokenWorks = %v, %v; want false (the leaked token alone)", works, err)
			}
			if githubapp.IsEnterprise(anon.BaseURL) != tc.enterprise {
				t.Errorf("IsEnterprise(%s) = %v", anon.BaseURL, !tc.enterprise)
			}
		})
	}
}
