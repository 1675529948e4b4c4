package rotate_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// githubTokens answers POST /credentials/revoke and GET /user the way
// GitHub's description says, for a set of live tokens. (The proof against
// the GitHub stand-in, githubapp/githubtest, is added with it.)
type githubTokens struct {
	mu      sync.Mutex
	live    map[string]bool
	revokes int
}

func (g *githubTokens) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v3/credentials/revoke" && r.Header.Get("Authorization") == "":
		var body struct{ Credentials []string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Credentials) == 0 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		g.revokes++
		for _, c := range body.Credentials {
			delete(g.live, c)
		}
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v3/user":
		if g.live[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			w.Write([]byte(`{"login":"octocat"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Bad credentials"}`))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestGitHubTokenRevoked(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	leaked := "ghp_" + strings.Repeat("Zq7", 12)
	gh := &githubTokens{live: map[string]bool{leaked: true}}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	client, err := github.NewClient(nil).WithEnterpriseURLs(srv.URL, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rev := githubapp.NewRevoker(client)
	tg := vaultSecret(t, c, "github_token", "Github", rotate.Data{"value": leaked})
	rec := &recorder{}
	res, err := rotate.NewRunner(c, rotate.Settings{}, rec, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(rev, rev))).Run(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if works, _ := rev.TokenWorks(ctx, leaked); works {
		t.Fatal("after: the leaked token still works")
	}
	if res.State != rotate.StateRotated || !res.ExposedDead || !res.ExposedDestroyed || gh.revokes != 1 {
		t.Errorf("result %+v, %d revoke requests", res, gh.revokes)
	}
	want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())

	// A token GitHub does not revoke (a server-to-server ghs_ token) is
	// left to a person.
	tg2 := vaultSecret(t, c, "installation_token", "Github", rotate.Data{"value": "ghs_" + strings.Repeat("x", 36)})
	res, err = rotate.NewRunner(c, rotate.Settings{}, rec, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(rev, rev))).Run(ctx, tg2)
	if err != nil || res.State != rotate.StateManual || res.Guide != "https://howtorotate.com/docs/tutorials/github/" {
		t.Errorf("ghs_ token: %+v %v", res, err)
	}
	noLeak(t, []string{leaked}, res, rec.events)
}
