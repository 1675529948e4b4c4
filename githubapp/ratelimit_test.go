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

func TestRateLimitTransport(t *testing.T) {
	tests := []struct {
		name   string
		first  func(w http.ResponseWriter)
		status int
		tries  int
		waits  []string
	}{
		{"secondary limit with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(403)
		}, 200, 2, []string{"secondary"}},
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
		}, 200, 2, []string{"secondary"}},
		{"primary limit until reset", func(w http.ResponseWriter) {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Unix(), 10))
			w.Header().Set("X-RateLimit-Resource", "core")
			w.WriteHeader(403)
		}, 200, 2, []string{"primary"}},
		{"403 that is not a rate limit", func(w http.ResponseWriter) {
			w.WriteHeader(403)
			fmt.Fprint(w, `{"message":"Resource not accessible by integration"}`)
		}, 403, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, bodies := limited(t, tt.first)
			obs := &observer{}
			c := &http.Client{Transport: &githubapp.RateLimitTransport{Observer: obs}}
			resp, err := c.Post(srv.URL, "application/json", strings.NewReader(`{"title":"pushvault"}`))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if len(*bodies) != tt.tries {
				t.Errorf("%d requests, want %d", len(*bodies), tt.tries)
			}
			for i, got := range *bodies {
				if got != `{"title":"pushvault"}` {
					t.Errorf("request %d body %q: not replayed", i+1, got)
				}
			}
			if tt.status == 200 && string(b) != `{"title":"pushvault"}` {
				t.Errorf("response body %q", b)
			}
			if fmt.Sprint(obs.waits) != fmt.Sprint(tt.waits) {
				t.Errorf("waits %v, want %v", obs.waits, tt.waits)
			}
			if len(obs.calls) != tt.tries {
				t.Errorf("calls observed %v", obs.calls)
			}
		})
	}
}

func TestRateLimitTransportStopsWithTheContext(t *testing.T) {
	srv, bodies := limited(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(403)
	})
	ctx, cancel := context.WithCancel(context.Background())
	obs := &observer{}
	tr := &githubapp.RateLimitTransport{Observer: obs}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := (&http.Client{Transport: tr}).Do(req)
		errc <- err
	}()
	for {
		obs.mu.Lock()
		n := len(obs.waits)
		obs.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if len(*bodies) != 1 {
		t.Errorf("%d requests, want 1", len(*bodies))
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
