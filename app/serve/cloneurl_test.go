package serve_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/gittest"
)

// elsewhere is a host a forged payload names: it records every request.
type elsewhere struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // method, path and Authorization of each request
}

func newElsewhere(t *testing.T) *elsewhere {
	e := &elsewhere{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.reqs = append(e.reqs, r.Method+" "+r.URL.String()+" auth="+r.Header.Get("Authorization"))
		e.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`) // ask git for the token
		http.Error(w, "credentials, please", http.StatusUnauthorized)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *elsewhere) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.reqs...)
}

// A signed push whose clone_url (and every other URL in it) names another
// host is fetched from github.web_url: git never contacts that host and
// the installation token is never sent there; the push's check run
// completes on the configured GitHub. Owner and repository names that
// would build another URL or path are refused for good.
func TestPushIsFetchedFromTheConfiguredGitHub(t *testing.T) {
	e := startServe(t)
	evil := newElsewhere(t)
	if err := e.gh.CreateRepo("acme", "shop", map[string]string{"README.md": "shop\n"}); err != nil {
		t.Fatal(err)
	}
	inst := e.gh.Install("acme")
	token, _, err := e.gh.Token(inst)
	if err != nil {
		t.Fatal(err)
	}
	work := gittest.Clone(t, e.gh.AuthCloneURL("acme", "shop", token))
	head := work.Commit("", "docs", map[string]string{"README.md": "shop, now with docs\n"})
	work.Git("push", "-q", "origin", "HEAD:refs/heads/main")
	push := forgedPush(t, e.gh, head, func(repo map[string]any) {
		for _, k := range []string{"clone_url", "git_url", "html_url", "url", "ssh_url", "svn_url", "mirror_url"} {
			repo[k] = evil.URL + "/acme/shop.git"
		}
	})
	if code := deliver(t, e.srv.URL, e.app.WebhookSecret, "forged-clone-url", recording{event: "push", payload: push}); code != http.StatusAccepted {
		t.Fatalf("delivery answered %d", code)
	}
	waitDone(t, e, "forged-clone-url")
	if err := e.got.of("forged-clone-url"); err != nil {
		t.Errorf("the push failed: %v", err)
	}
	if run := checkRunFor(e.gh, head); run == nil || run.Status != "completed" {
		t.Errorf("no completed check run on the configured GitHub for %s: %+v", head, run)
	}

	if !scopedTokenAsked(e.gh, "acme/shop") {
		t.Errorf("git's token was not asked for acme/shop alone with contents: write: %+v", e.gh.TokenRequests())
	}

	for i, trick := range []struct{ owner, name string }{
		{"acme", ".."}, {"acme", "../../evil"}, {"acme/../evil", "shop"}, {"acme", "shop%2f..%2fevil"},
		{"acme", "shop.git?x="}, {"..", "shop"}, {"acme", "shop@" + strings.TrimPrefix(evil.URL, "http://")},
	} {
		delivery := "forged-name-" + string(rune('a'+i))
		forged := forgedPush(t, e.gh, head, func(repo map[string]any) {
			repo["name"], repo["full_name"] = trick.name, trick.owner+"/"+trick.name
			repo["owner"].(map[string]any)["login"], repo["owner"].(map[string]any)["name"] = trick.owner, trick.owner
		})
		if code := deliver(t, e.srv.URL, e.app.WebhookSecret, delivery, recording{event: "push", payload: forged}); code != http.StatusAccepted {
			t.Fatalf("%s/%s: delivery answered %d", trick.owner, trick.name, code)
		}
		waitDone(t, e, delivery)
		if err := e.got.of(delivery); err == nil || !strings.Contains(err.Error(), "not a GitHub") {
			t.Errorf("%s/%s: %v, want the name refused", trick.owner, trick.name, err)
		}
	}
	if reqs := evil.requests(); len(reqs) > 0 {
		t.Errorf("the host the payload named was contacted %d times:\n%s", len(reqs), strings.Join(reqs, "\n"))
	}
}

// forgedPush is the stand-in's push delivery for head, its repository
// changed by edit.
func forgedPush(t *testing.T, gh *githubtest.Server, head string, edit func(repo map[string]any)) map[string]any {
	t.Helper()
	for _, d := range gh.Deliveries() {
		var p map[string]any
		if d.Event != "push" || json.Unmarshal(d.Payload, &p) != nil || p["after"] != head {
			continue
		}
		edit(p["repository"].(map[string]any))
		return p
	}
	t.Fatalf("the stand-in sent no push delivery for %s", head)
	return nil
}

// waitDone waits for the dispatcher to have returned for delivery.
func waitDone(t *testing.T, e *served, delivery string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		e.got.mu.Lock()
		_, done := e.got.by[delivery]
		e.got.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s not processed within 60s", delivery)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkRunFor(gh *githubtest.Server, sha string) *githubtest.CheckRun {
	for _, r := range gh.CheckRuns() {
		if r.HeadSHA == sha {
			return &r
		}
	}
	return nil
}

// scopedTokenAsked reports whether a token was asked for the one
// repository full, with contents: write as its only permission.
func scopedTokenAsked(gh *githubtest.Server, full string) bool {
	for _, r := range gh.TokenRequests() {
		if len(r.Repositories) == 1 && r.Repositories[0] == full && len(r.Permissions) == 1 && r.Permissions["contents"] == "write" {
			return true
		}
	}
	return false
}
