package githubtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"
	ghgithub "github.com/google/go-github/v69/github"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func refused(t *testing.T, srv *Server, token string) {
	t.Helper()
	if st, _ := rawRequest(t, srv, token, "GET", "/repos/acme/shop", ""); st != 401 {
		t.Errorf("REST status = %d, want 401", st)
	}
	if token != "" {
		if st, _ := rawRequest(t, srv, token, "GET", "/rate_limit", ""); st != 401 {
			t.Errorf("GET /rate_limit status = %d, want 401", st)
		}
	}
	if _, err := gitCmd(t.TempDir(), "ls-remote", srv.AuthCloneURL("acme", "shop", token)); err == nil {
		t.Error("git ls-remote succeeded")
	}
}

func TestTokenExpires(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	f := newFixture(t, WithClock(clock.Now), WithTokenTTL(10*time.Minute))
	tok := f.token(t)
	exp, _, err := f.tr.Expiry()
	if err != nil || exp.Sub(clock.Now()) > 10*time.Minute || exp.Sub(clock.Now()) < 9*time.Minute {
		t.Fatalf("expiry = %v (%v)", exp, err)
	}
	if st, _ := rawRequest(t, f.srv, tok, "GET", "/repos/acme/shop", ""); st != 200 {
		t.Fatalf("fresh token: status %d", st)
	}
	if _, err := gitCmd(t.TempDir(), "ls-remote", f.srv.AuthCloneURL("acme", "shop", tok)); err != nil {
		t.Fatalf("fresh token refused by git: %v", err)
	}
	clock.Advance(10*time.Minute + time.Second)
	refused(t, f.srv, tok)
}

func TestWrongTokenRefused(t *testing.T) {
	f := newFixture(t)
	f.token(t)
	refused(t, f.srv, "ghs_"+randAlnum(36))
	refused(t, f.srv, "")
	// A live token for another installation does not open this repository.
	if err := f.srv.CreateRepo("other", "repo", map[string]string{"x": "x"}); err != nil {
		t.Fatal(err)
	}
	other, _, err := f.srv.Token(f.srv.Install("other"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := rawRequest(t, f.srv, other, "GET", "/repos/acme/shop", ""); st != 404 {
		t.Errorf("other installation's token: status %d, want 404", st)
	}
	if _, err := gitCmd(t.TempDir(), "ls-remote", f.srv.AuthCloneURL("acme", "shop", other)); err == nil {
		t.Error("git accepted another installation's token")
	}
}

// TestJWTChecked: only a JWT signed with the App's key, for its id, not
// expired, gets a token.
func TestJWTChecked(t *testing.T) {
	f := newFixture(t)
	app := f.srv.App()
	key, err := jwt.ParseRSAPrivateKeyFromPEM(app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sign := func(k *rsa.PrivateKey, iss string, iat, exp time.Time) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
			Issuer: iss, IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp)}).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	id := strconv.FormatInt(app.ID, 10)
	cases := []struct {
		name string
		jwt  string
		want int
	}{
		{"valid", sign(key, id, now.Add(-30*time.Second), now.Add(5*time.Minute)), 201},
		{"expired", sign(key, id, now.Add(-20*time.Minute), now.Add(-10*time.Minute)), 401},
		{"other key", sign(otherKey, id, now, now.Add(5*time.Minute)), 401},
		{"other app", sign(key, "999", now, now.Add(5*time.Minute)), 401},
		{"too long lived", sign(key, id, now, now.Add(time.Hour)), 401},
		{"garbage", "not.a.jwt", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", f.srv.URL+"/app/installations/"+strconv.FormatInt(f.inst, 10)+"/access_tokens", nil)
			req.Header.Set("Authorization", "Bearer "+tc.jwt)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	// An installation token is not an App JWT.
	gh := client(t, f.srv, &tokenTransport{f.token(t)})
	_, _, err = gh.Apps.Get(context.Background(), "")
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 401 {
		t.Errorf("GET /app with an installation token: %v", err)
	}
}

// TestTokenLimitedToRepositories: a token asked for some repositories
// opens only those; asking for one outside the installation is a 422.
func TestTokenLimitedToRepositories(t *testing.T) {
	srv := New(t)
	for _, r := range []string{"shop", "two"} {
		if err := srv.CreateRepo("acme", r, map[string]string{"x": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	inst := srv.Install("acme")
	app := srv.App()
	tr, err := ghinstallation.New(http.DefaultTransport, app.ID, inst, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = srv.URL
	tr.InstallationTokenOptions = &ghgithub.InstallationTokenOptions{Repositories: []string{"shop"}}
	tok, err := tr.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := rawRequest(t, srv, tok, "GET", "/repos/acme/shop", ""); st != 200 {
		t.Errorf("acme/shop: %d", st)
	}
	if st, _ := rawRequest(t, srv, tok, "GET", "/repos/acme/two", ""); st != 404 {
		t.Errorf("acme/two: %d, want 404", st)
	}
	missing, err := ghinstallation.New(http.DefaultTransport, app.ID, inst, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	missing.BaseURL = srv.URL
	missing.InstallationTokenOptions = &ghgithub.InstallationTokenOptions{Repositories: []string{"missing"}}
	var he *ghinstallation.HTTPError
	if _, err := missing.Token(context.Background()); !errors.As(err, &he) || he.Response.StatusCode != 422 {
		t.Errorf("token for a missing repository: %v", err)
	}
}
