package githubapp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
)

// observer is a hand-written CallObserver.
type observer struct {
	mu        sync.Mutex
	calls     []string
	remaining map[string]int
	waits     []string
}

func (o *observer) GitHubCall(method string, status int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, method+" "+strconv.Itoa(status))
}

func (o *observer) RateLimitRemaining(resource string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.remaining == nil {
		o.remaining = map[string]int{}
	}
	o.remaining[resource] = n
}

func (o *observer) RateLimitWait(kind string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits = append(o.waits, kind)
}

// limited answers the first len(first) requests with those responses, then
// 200 echoing the request body.
func limited(t *testing.T, first ...func(w http.ResponseWriter)) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var bodies []string
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		i := n
		n++
		bodies = append(bodies, string(b))
		mu.Unlock()
		if i < len(first) {
			first[i](w)
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "4999")
		w.WriteHeader(200)
		fmt.Fprint(w, string(b))
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

// TestRateLimitTransport: a rate-limited answer is returned as a
// RetryLaterError after one request (never retried in the caller); a 403
// that is not a rate limit comes back as it is, body intact.
func TestRateLimitTransport(t *testing.T) {
	tests := []struct {
		name  string
		first func(w http.ResponseWriter)
		kind  string // "": not a rate limit
		after time.Duration
	}{
		{"secondary limit with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(403)
		}, "secondary", 7 * time.Second},
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}, "secondary", 7 * time.Second},
		{"429 without headers", func(w http.ResponseWriter) {
			w.WriteHeader(429)
		}, "secondary", 0},
		{"403 whose message names a secondary limit", func(w http.ResponseWriter) {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation."}`)
		}, "secondary", 0},
		{"primary limit until reset", func(w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
			w.Header().Set("X-RateLimit-Resource", "core")
			w.WriteHeader(403)
		}, "primary", time.Hour},
		{"403 that is not a rate limit", func(w http.ResponseWriter) {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
		}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, bodies := limited(t, tt.first)
			obs := &observer{}
			c := &http.Client{Transport: &githubapp.RateLimitTransport{Observer: obs}}
			resp, err := c.Post(srv.URL, "application/json", strings.NewReader(`{"title":"pushvault"}`))
			if len(*bodies) != 1 {
				t.Errorf("%d requests, want 1: nothing is retried in the caller", len(*bodies))
			}
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 403 || !strings.Contains(string(b), "Resource not accessible") {
					t.Errorf("status %d body %q, want GitHub's 403 as it was", resp.StatusCode, b)
				}
				if len(obs.waits) != 0 {
					t.Errorf("waits %v for a permission error", obs.waits)
				}
				return
			}
			var rl *githubapp.RetryLaterError
			if !errors.As(err, &rl) || rl.Kind != tt.kind {
				t.Fatalf("err = %v, want a %s RetryLaterError", err, tt.kind)
			}
			if d := rl.After - tt.after; d < -2*time.Second || d > 2*time.Second {
				t.Errorf("after %s, want %s", rl.After, tt.after)
			}
			if fmt.Sprint(obs.waits) != "["+tt.kind+"]" || len(obs.calls) != 1 {
				t.Errorf("waits %v calls %v", obs.waits, obs.calls)
			}
		})
	}
}

// TestRateLimitTransportShortWaitInline: a wait GitHub names of at most
// MaxInlineWait is taken in place, once, and the request (body replayed)
// sent again.
func TestRateLimitTransportShortWaitInline(t *testing.T) {
	srv, bodies := limited(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(429)
	})
	c := &http.Client{Transport: &githubapp.RateLimitTransport{}}
	resp, err := c.Post(srv.URL, "application/json", strings.NewReader(`{"title":"pushvault"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || fmt.Sprint(*bodies) != `[{"title":"pushvault"} {"title":"pushvault"}]` {
		t.Errorf("status %d, requests %q", resp.StatusCode, *bodies)
	}
}

func testKey(t *testing.T) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// TestClientsCacheInstallationTokens: the token endpoint is called once for
// many requests of one installation, and requests carry the token.
func TestClientsCacheInstallationTokens(t *testing.T) {
	var mu sync.Mutex
	tokenCalls := map[string]int{}
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/api/v3/app/installations/") && strings.HasSuffix(r.URL.Path, "/access_tokens"):
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				t.Errorf("token request without the app's JWT")
			}
			tokenCalls[r.URL.Path]++
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(201)
			json.NewEncoder(w).Encode(map[string]any{"token": "ghs_" + strings.Split(r.URL.Path, "/")[5], "expires_at": time.Now().Add(time.Hour)})
		case r.Method == "GET" && r.URL.Path == "/api/v3/repos/acme/shop":
			auths = append(auths, r.Header.Get("Authorization"))
			w.Header().Set("X-RateLimit-Remaining", "4321")
			w.Header().Set("X-RateLimit-Resource", "core")
			fmt.Fprint(w, `{"full_name":"acme/shop","default_branch":"main"}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	obs := &observer{}
	c, err := githubapp.NewClients(githubapp.ClientsConfig{AppID: 42, PrivateKey: testKey(t), APIURL: srv.URL + "/api/v3/", Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		for _, id := range []int64{7, 8} {
			gc, err := c.Installation(id)
			if err != nil {
				t.Fatal(err)
			}
			var repo *github.Repository
			if repo, _, err = gc.Repositories.Get(ctx, "acme", "shop"); err != nil {
				t.Fatal(err)
			}
			if repo.GetDefaultBranch() != "main" {
				t.Errorf("repo %+v", repo)
			}
		}
	}
	want := map[string]int{"/api/v3/app/installations/7/access_tokens": 1, "/api/v3/app/installations/8/access_tokens": 1}
	if fmt.Sprint(tokenCalls) != fmt.Sprint(want) {
		t.Errorf("token requests %v, want one per installation", tokenCalls)
	}
	if auths[0] != "token ghs_7" || auths[1] != "token ghs_8" {
		t.Errorf("Authorization headers %v", auths)
	}
	if obs.remaining["core"] != 4321 {
		t.Errorf("rate limit remaining %v", obs.remaining)
	}
}

func TestNewClientsRejects(t *testing.T) {
	for name, cfg := range map[string]githubapp.ClientsConfig{
		"no app id":   {PrivateKey: testKey(t)},
		"not PEM":     {AppID: 1, PrivateKey: []byte("not-a-key-3f9a")},
		"bad api url": {AppID: 1, PrivateKey: testKey(t), APIURL: "ftp://x"},
	} {
		_, err := githubapp.NewClients(cfg)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "3f9a") {
			t.Errorf("%s: the key is in the error: %v", name, err)
		}
	}
}

// TestRateLimitVariantsFromTheStandIn: every rate-limit answer GitHub
// documents, served by the stand-in through an installation client, comes
// back as a RetryLaterError with the wait GitHub asks for, and none is
// waited out in the caller.
func TestRateLimitVariantsFromTheStandIn(t *testing.T) {
	tests := []struct {
		name      string
		fault     githubtest.Fault
		kind      string
		status    int
		after     time.Duration // 0: GitHub named no wait
		wantDelay []time.Duration
	}{
		{"403 secondary without Retry-After", githubtest.Fault{Kind: githubtest.SecondaryRateLimit, OmitRetryAfter: true},
			"secondary", 403, 0, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}},
		{"429 secondary without Retry-After", githubtest.Fault{Kind: githubtest.SecondaryRateLimit, Status: 429, OmitRetryAfter: true},
			"secondary", 429, 0, []time.Duration{time.Minute, 2 * time.Minute}},
		{"429 secondary with Retry-After", githubtest.Fault{Kind: githubtest.SecondaryRateLimit, Status: 429, RetryAfter: 90 * time.Second},
			"secondary", 429, 90 * time.Second, []time.Duration{90 * time.Second, 90 * time.Second}},
		{"403 secondary with Retry-After", githubtest.Fault{Kind: githubtest.SecondaryRateLimit, RetryAfter: 75 * time.Second},
			"secondary", 403, 75 * time.Second, []time.Duration{75 * time.Second}},
		{"403 primary until the reset", githubtest.Fault{Kind: githubtest.PrimaryRateLimit, RetryAfter: 20 * time.Minute},
			"primary", 403, 20 * time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := githubtest.New(t)
			if err := srv.CreateRepo("acme", "shop", nil); err != nil {
				t.Fatal(err)
			}
			inst := srv.Install("acme")
			app := srv.App()
			obs := &observer{}
			c, err := githubapp.NewClients(githubapp.ClientsConfig{AppID: app.ID, PrivateKey: app.PrivateKeyPEM, APIURL: srv.URL + "/api/v3/", Observer: obs})
			if err != nil {
				t.Fatal(err)
			}
			gh, err := c.Installation(inst)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); err != nil { // the token, before the fault
				t.Fatal(err)
			}
			tt.fault.Operation = "repos/get"
			srv.Fault(tt.fault)
			start := time.Now()
			_, _, err = gh.Repositories.Get(ctx, "acme", "shop")
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("the call took %s: the rate limit was waited out in the caller", took)
			}
			var rl *githubapp.RetryLaterError
			if !errors.As(err, &rl) {
				t.Fatalf("err = %v, want a RetryLaterError", err)
			}
			if rl.Kind != tt.kind || rl.Status != tt.status {
				t.Errorf("kind %s status %d, want %s %d", rl.Kind, rl.Status, tt.kind, tt.status)
			}
			if tt.kind == "primary" {
				if rl.After < tt.after-time.Minute || rl.After > tt.after+time.Minute {
					t.Errorf("after %s, want about %s (the reset)", rl.After, tt.after)
				}
			} else if rl.After != tt.after {
				t.Errorf("after %s, want %s", rl.After, tt.after)
			}
			for i, want := range tt.wantDelay {
				if got := rl.Delay(i + 1); got != want {
					t.Errorf("delay after attempt %d = %s, want %s", i+1, got, want)
				}
			}
			if fmt.Sprint(obs.waits) != "["+tt.kind+"]" {
				t.Errorf("waits recorded %v", obs.waits)
			}
			if tt.kind == "primary" {
				// Until the reset, nothing more is sent with this token.
				sent := len(obs.calls)
				_, _, err = gh.Repositories.Get(ctx, "acme", "shop")
				if !errors.As(err, &rl) || rl.Status != 0 || len(obs.calls) != sent {
					t.Errorf("before the reset: err %v, %d requests sent", err, len(obs.calls)-sent)
				}
			}
		})
	}
}
