package githubtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// received is one webhook the test receiver accepted after checking its
// signature with go-github's ValidatePayload.
type received struct {
	Event, Delivery string
	Payload         []byte
}

type receiver struct {
	t    testing.TB
	mu   sync.Mutex
	got  []received
	srv  *httptest.Server
	bad  int // deliveries whose signature failed
	seen map[string]int
}

// newReceiver is a webhook endpoint verifying X-Hub-Signature-256 with the
// App's webhook secret.
func newReceiver(t testing.TB, secret string) *receiver {
	rc := &receiver{t: t, seen: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		payload, err := github.ValidatePayload(r, []byte(secret))
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err != nil {
			rc.bad++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		rc.seen[github.DeliveryID(r)]++
		rc.got = append(rc.got, received{Event: github.WebHookType(r), Delivery: github.DeliveryID(r), Payload: payload})
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// events returns the received payloads of event decoded, in order.
func (rc *receiver) events(event string) []map[string]any {
	var out []map[string]any
	for _, r := range rc.all() {
		if r.Event != event {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			rc.t.Fatalf("webhook payload: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// fixture is a stand-in with repository acme/shop installed and a
// webhook receiver.
type fixture struct {
	srv   *Server
	inst  int64
	rc    *receiver
	tr    *ghinstallation.Transport
	gh    *github.Client
	owner string
	repo  string
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	srv := New(t, opts...)
	if err := srv.CreateRepo("acme", "shop", map[string]string{"README.md": "# shop\n", "app/config.yml": "port: 8080\n"}); err != nil {
		t.Fatal(err)
	}
	inst := srv.Install("acme", "shop")
	app := srv.App()
	rc := newReceiver(t, app.WebhookSecret)
	srv.SetWebhookURL(rc.srv.URL)
	tr, err := ghinstallation.New(http.DefaultTransport, app.ID, inst, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = srv.URL
	return &fixture{srv: srv, inst: inst, rc: rc, tr: tr, gh: client(t, srv, tr), owner: "acme", repo: "shop"}
}

// client is go-github v60 pointed at the stand-in through rt.
func client(t testing.TB, srv *Server, rt http.RoundTripper) *github.Client {
	gh := github.NewClient(&http.Client{Transport: rt})
	u, err := url.Parse(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	gh.BaseURL = u
	return gh
}

func (f *fixture) token(t testing.TB) string {
	t.Helper()
	tok, err := f.tr.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// gitCmd runs git in dir with a clean configuration; it returns stdout and
// the error.
func gitCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(), "GIT_AUTHOR_NAME=Dev One", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev One", "GIT_COMMITTER_EMAIL=dev@example.com")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", &gitError{args: args, err: err, stderr: stderr.String()}
	}
	return strings.TrimSpace(string(out)), nil
}

type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	return "git " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

func mustGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := gitCmd(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// clone clones owner/repo with token into a new temp dir. Under -short it
// skips the test instead: cloning, fetching and pushing over git's HTTP
// protocol runs git processes on both ends and makes these tests the slow
// half of the package (make test runs them).
func clone(t testing.TB, srv *Server, owner, repo, token string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("githubtest: -short skips the tests that clone and push over git HTTP (make test runs them)")
	}
	dir := t.TempDir()
	mustGit(t, dir, "clone", "-q", srv.AuthCloneURL(owner, repo, token), ".")
	return dir
}

func writeFile(t testing.TB, dir, path, content string) {
	t.Helper()
	full := dir + "/" + path
	if i := strings.LastIndex(full, "/"); i > 0 {
		if err := os.MkdirAll(full[:i], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rawRequest sends a REST request with an installation token and returns
// the status and body.
func rawRequest(t testing.TB, srv *Server, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
