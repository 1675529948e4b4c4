package githubtest

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// waitRefused waits (up to 10 s) for GET /user to refuse token with 401:
// the stand-in, like GitHub, revokes in the background after its 202.
func waitRefused(t *testing.T, srv *Server, token string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if st, _ := rawRequest(t, srv, token, "GET", "/user", ""); st == http.StatusUnauthorized {
			return
		}
	}
	t.Fatal("the revoked token still authenticates after 10 s")
}

// TestRevocationAuthentication: POST /credentials/revoke on github.com (the
// root path) refuses an authenticated request with 403 and takes an
// unauthenticated one; under GitHub Enterprise Server's /api/v3 prefix,
// where GHES documents the endpoint as authenticated, it answers 401
// without a token and takes one with a live token. Refused requests revoke
// nothing; no answer breaks the contract.
func TestRevocationAuthentication(t *testing.T) {
	f := newFixture(t)
	auth := f.token(t)
	for _, tc := range []struct {
		name, path, token string
		want              int
	}{
		{"github.com, authenticated", "/credentials/revoke", auth, http.StatusForbidden},
		{"github.com, unauthenticated", "/credentials/revoke", "", http.StatusAccepted},
		{"GHES, unauthenticated", "/api/v3/credentials/revoke", "", http.StatusUnauthorized},
		{"GHES, a dead token", "/api/v3/credentials/revoke", "ghp_" + randAlnum(36), http.StatusUnauthorized},
		{"GHES, authenticated", "/api/v3/credentials/revoke", auth, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaked, err := f.srv.UserToken("octocat", "ghp_")
			if err != nil {
				t.Fatal(err)
			}
			before := len(f.srv.RevokedCredentials())
			st, body := rawRequest(t, f.srv, tc.token, "POST", tc.path, `{"credentials":["`+leaked+`"]}`)
			if st != tc.want {
				t.Fatalf("status %d, want %d: %s", st, tc.want, body)
			}
			got := f.srv.RevokedCredentials()[before:]
			if accepted := st == http.StatusAccepted; accepted != slices.Equal(got, []string{leaked}) {
				t.Errorf("answered %d and recorded %d revocations", st, len(got))
			}
		})
	}
	if v := f.srv.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestRevocationIsAsynchronous: GitHub answers 202 and revokes in the
// background; the stand-in's token keeps working for the revocation delay
// and is refused after it. With no delay it is refused at once.
func TestRevocationIsAsynchronous(t *testing.T) {
	for _, delay := range []time.Duration{time.Second, 0} {
		srv := New(t, WithRevocationDelay(delay))
		token, err := srv.UserToken("octocat", "gho_")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if st, body := rawRequest(t, srv, "", "POST", "/credentials/revoke", `{"credentials":["`+token+`"]}`); st != http.StatusAccepted {
			t.Fatalf("revoke: %d %s", st, body)
		}
		st, _ := rawRequest(t, srv, token, "GET", "/user", "")
		if works := st == http.StatusOK; works != (delay > 0) || (works && time.Since(start) >= delay) {
			t.Errorf("delay %s: GET /user right after the 202 answered %d", delay, st)
		}
		waitRefused(t, srv, token)
		if took := time.Since(start); took < delay {
			t.Errorf("delay %s: refused after %s", delay, took)
		}
	}
}
