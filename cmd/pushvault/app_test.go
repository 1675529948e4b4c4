package main_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
	vaultapi "github.com/hashicorp/vault/api"
	"github.com/joho/godotenv"
	"github.com/nats-io/nats-server/v2/server"
	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/scanner"
)

// appEnv is the GitHub App's world for a test: the GitHub stand-in with an
// installed repository acme/shop, a Vault dev server, and `pushvault
// serve` (the built binary) receiving the stand-in's webhooks.
type appEnv struct {
	srv   *githubtest.Server
	vault *vaulttest.Server
	inst  int64
	gh    *github.Client // as the installation
	serve *serveProc
	data  string
	// serveVault is how serve reaches Vault: vault itself, or a proxy
	// the test can take down.
	serveVault *vaulttest.Server
	// config is more of serve.yml (top-level keys, one per line).
	config string
}

func newAppEnv(t *testing.T) *appEnv {
	t.Helper()
	return newAppEnvConfig(t, "")
}

// newAppEnvConfig is newAppEnv with more of serve.yml.
func newAppEnvConfig(t *testing.T, config string) *appEnv {
	t.Helper()
	e := newStandIn(t)
	e.config = config
	e.start(t, "")
	return e
}

// newStandIn is the stand-in with acme/shop installed, a Vault dev server
// and a client as the installation; serve is not started yet.
func newStandIn(t *testing.T) *appEnv {
	t.Helper()
	needBinary(t) // before building the stand-in it would not use
	srv := githubtest.New(t)
	if err := srv.CreateRepo("acme", "shop", map[string]string{"README.md": "shop\n"}); err != nil {
		t.Fatal(err)
	}
	e := &appEnv{srv: srv, vault: vaulttest.Start(t), inst: srv.Install("acme"), data: t.TempDir()}
	e.serveVault = e.vault
	app := srv.App()
	tr, err := ghinstallation.New(http.DefaultTransport, app.ID, e.inst, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = srv.URL
	e.gh = github.NewClient(&http.Client{Transport: tr})
	e.gh.BaseURL, _ = url.Parse(srv.URL + "/")
	return e
}

// start runs pushvault serve as the stand-in's App on e's data directory,
// with the queue settings given, and sends the stand-in's webhooks to it.
func (e *appEnv) start(t *testing.T, queue string) {
	t.Helper()
	e.serve = startApp(t, e.srv, e.serveVault, e.data, queue, e.config)
	e.srv.SetWebhookURL("http://" + e.serve.addr + "/webhook")
}

// startApp runs pushvault serve as srv's App, reaching Vault as v says,
// with config added to its serve.yml and env (PUSHVAULT_* settings) to its
// environment.
func startApp(t *testing.T, srv *githubtest.Server, v *vaulttest.Server, dataDir, queue, config string, env ...string) *serveProc {
	t.Helper()
	app := srv.App()
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, app.PrivateKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	se := &serveEnv{vault: v}
	return se.startWith(t, dataDir, fmt.Sprintf("github:\n  app_id: %d\n  api_url: %s/\n  web_url: %s/\n%s", app.ID, srv.URL, srv.URL, config), queue,
		append([]string{"PUSHVAULT_GITHUB_PRIVATE_KEY_FILE=" + keyFile, "PUSHVAULT_GITHUB_WEBHOOK_SECRET=" + app.WebhookSecret}, env...)...)
}

// clone clones acme/shop with a fresh installation token.
// githubTexts is every text pushvault wrote to GitHub: check runs and their
// annotations, pull requests, comments and issues.
func (e *appEnv) githubTexts() []string {
	var outputs []string
	for _, r := range e.srv.CheckRuns() {
		outputs = append(outputs, r.Title, r.Summary, r.Text)
		for _, a := range r.Annotations {
			outputs = append(outputs, fmt.Sprint(a))
		}
		for _, a := range r.Actions {
			outputs = append(outputs, a.Label, a.Description, a.Identifier)
		}
	}
	for _, p := range e.srv.PullRequests() {
		outputs = append(outputs, p.Title, p.Body)
	}
	for _, c := range e.srv.Comments() {
		outputs = append(outputs, c.Body)
	}
	for _, is := range e.srv.Issues() {
		outputs = append(outputs, is.Title, is.Body)
	}
	return outputs
}

func (e *appEnv) clone(t *testing.T) *gittest.Repo {
	t.Helper()
	tok, _, err := e.srv.Token(e.inst)
	if err != nil {
		t.Fatal(err)
	}
	return gittest.Clone(t, e.srv.AuthCloneURL("acme", "shop", tok))
}

func (e *appEnv) checkRun(sha string) *githubtest.CheckRun {
	for _, r := range e.srv.CheckRuns() {
		if r.HeadSHA == sha && r.Name == "pushvault" {
			return &r
		}
	}
	return nil
}

// TestAppEndToEnd: a push with planted secrets → check run completed with
// an annotation per location → a fix PR whose tree holds no planted value
// and whose files parse → the values in Vault, the GitHub token revoked →
// a comment on the offending commit and a rotation issue → the PR merged →
// the findings closed and the ledger verified. Nothing secret is printed
// anywhere on the way.
func TestAppEndToEnd(t *testing.T) {
	e := newAppEnv(t)
	g := secrettest.New(7)
	stripe, sendgrid := g.Stripe(), g.SendGrid()
	ghToken, err := e.srv.UserToken("acme", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	planted := []string{stripe, sendgrid, ghToken}

	work := e.clone(t)
	head := work.Commit("dev <dev@acme.test>", "add payment config", map[string]string{
		"config/payments.yml": "payments:\n  provider: stripe\n  stripe_api_key: " + stripe + "\n",
		".env":                "SENDGRID_API_KEY=" + sendgrid + "\n",
		"deploy.py":           "import os\n\nGITHUB_TOKEN = \"" + ghToken + "\"\n\nprint(len(GITHUB_TOKEN))\n",
	})
	work.Git("push", "origin", "HEAD:main")

	var run *githubtest.CheckRun
	waitFor(t, "the check run completes", func() bool {
		run = e.checkRun(head)
		return run != nil && run.Status == "completed"
	})
	if run.Conclusion != "action_required" {
		t.Fatalf("check run concluded %q, want action_required:\n%s\n%s", run.Conclusion, run.Summary, e.serve.logs)
	}
	if len(run.Annotations) != 3 {
		t.Errorf("%d annotations, want one per location (3)", len(run.Annotations))
	}
	var prs []githubtest.PullRequest
	for _, pr := range e.srv.PullRequests() {
		if pr.Head == "pushvault/fix-"+head[:7] && pr.Base == "main" {
			prs = append(prs, pr)
		}
	}
	if len(prs) != 1 {
		t.Fatalf("%d fix pull requests, want 1", len(prs))
	}
	pr := prs[0]
	t.Logf("check run summary:\n%s\nPR #%d body:\n%s", run.Summary, pr.Number, pr.Body)

	// The fix branch: no planted value, every changed file parses.
	fix := e.clone(t)
	fix.Git("checkout", "-q", "origin/"+pr.Head)
	if out, err := exec.Command("git", "-C", fix.Dir, "grep", "-n", "-F", "-e", stripe, "-e", sendgrid, "-e", ghToken).CombinedOutput(); err == nil {
		t.Errorf("the fix branch still holds a planted value:\n%s", out)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(readFile(t, fix.Dir, "config/payments.yml"), &cfg); err != nil {
		t.Errorf("config/payments.yml does not parse: %v", err)
	}
	if _, err := godotenv.Unmarshal(string(readFile(t, fix.Dir, ".env"))); err != nil {
		t.Errorf(".env does not parse: %v", err)
	}
	if out, err := exec.Command("python3", "-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())", filepath.Join(fix.Dir, "deploy.py")).CombinedOutput(); err != nil {
		t.Errorf("deploy.py does not parse: %v\n%s", err, out)
	}
	vaultEnv, err := godotenv.Unmarshal(string(readFile(t, fix.Dir, "vault.env")))
	if err != nil {
		t.Fatalf("vault.env: %v", err)
	}

	// The values are in Vault where the references say.
	vc := e.vault.Client(t)
	for _, want := range []struct{ path, value string }{
		{"pushvault/acme/shop/stripe_api_key", stripe},
		{"pushvault/acme/shop/sendgrid_api_key", sendgrid},
	} {
		s, err := vc.KVv2("secret").GetVersion(context.Background(), want.path, 1)
		if err != nil {
			t.Errorf("vault %s: %v", want.path, err)
			continue
		}
		if s.Data["value"] != want.value {
			t.Errorf("vault %s version 1 does not hold the planted value", want.path)
		}
	}
	if !strings.Contains(vaultEnv["GITHUB_TOKEN"], "vault:secret/data/pushvault/acme/shop/") {
		t.Errorf("vault.env GITHUB_TOKEN = %q, want a vault reference", vaultEnv["GITHUB_TOKEN"])
	}

	// The GitHub token was revoked and is dead.
	if got := e.srv.RevokedCredentials(); len(got) != 1 || got[0] != ghToken {
		t.Errorf("revoked %d credentials, want the leaked GitHub token", len(got))
	}
	if err := exec.Command("git", "-c", "http.extraHeader=Authorization: Basic "+basicAuth(ghToken), "ls-remote", e.srv.CloneURL("acme", "shop")).Run(); err == nil {
		t.Error("the leaked GitHub token still opens the repository")
	}

	// A comment on the offending commit links the PR; the SendGrid key
	// (no rotator) got an issue with the steps.
	var comments int
	for _, c := range e.srv.Comments() {
		if c.Kind == "commit" && c.CommitSHA == head && strings.Contains(c.Body, fmt.Sprintf("#%d", pr.Number)) {
			comments++
		}
	}
	if comments != 1 {
		t.Errorf("%d commit comments linking the PR, want 1", comments)
	}
	var issues int
	for _, is := range e.srv.Issues() {
		if strings.Contains(is.Title, "SendGrid") {
			issues++
		}
	}
	if issues != 1 {
		t.Errorf("%d SendGrid rotation issues, want 1", issues)
	}
	// Opened once by its claim, without reading every issue of the
	// repository (pages of them on a busy one) to look for an earlier one.
	if n := e.srv.Calls("issues/list-for-repo"); n != 0 {
		t.Errorf("the push listed the repository's issues %d times, want none", n)
	}

	// Merge: the findings close.
	if _, _, err := e.gh.PullRequests.Merge(context.Background(), "acme", "shop", pr.Number, "", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the check run notes the merge", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Title == githubapp.TitleClosed
	})
	// What operators see.
	_, metrics := e.serve.get(t, "/metrics")
	for _, m := range []struct {
		series string
		min    float64
	}{
		{`pushvault_findings_total{detector="Stripe"}`, 1},
		{`pushvault_findings_total{detector="SendGrid"}`, 1},
		{`pushvault_remediations_total{outcome="vaulted"}`, 3},
		{`pushvault_remediations_total{outcome="rotated"}`, 1},
		{`pushvault_remediations_total{outcome="rotation_manual"}`, 2},
		{`pushvault_scan_bytes_total`, 1},
		{`pushvault_scan_duration_seconds_count`, 1},
		{`pushvault_events_processed_total{event="push",outcome="success"}`, 1},
		{`pushvault_events_processed_total{event="pull_request",outcome="success"}`, 1},
	} {
		if got := series(metrics, m.series); got < m.min {
			t.Errorf("%s = %v, want at least %v", m.series, got, m.min)
		}
	}
	if !strings.Contains(metrics, "pushvault_github_rate_limit_remaining") || !strings.Contains(metrics, "pushvault_queue_pending") {
		t.Error("/metrics lacks the GitHub rate limit or the queue depth")
	}
	e.serve.stop(t)
	recs := exportLedger(t, e.vault, "--data-dir", e.data)
	closed := 0
	for _, r := range recs {
		if r.Transition == evidence.Closed {
			closed++
			if r.Actor == "" || r.Links["pull_request"] == "" {
				t.Errorf("closed record without actor or PR link: %+v", r)
			}
		}
	}
	if closed != 3 {
		t.Errorf("%d closed records, want 3", closed)
	}
	// The SendGrid key's manual rotation, marked done by a person in the
	// server's ledger, as its issue says.
	var sendgridID, manual string
	for _, r := range recs {
		if r.Transition == evidence.Vaulted && r.Detail["detector"] == "SendGrid" {
			sendgridID = r.FindingID
		}
		if r.Transition == evidence.RotationManual && r.FindingID == sendgridID {
			manual = r.FindingID
		}
	}
	if manual == "" {
		t.Fatal("no rotation_manual record for the SendGrid key")
	}
	env := []string{"VAULT_ADDR=" + e.vault.Addr, "VAULT_TOKEN=" + e.vault.Token}
	if res := runBinary(t, t.TempDir(), env, "rotated", manual, "--actor", "alice", "--data-dir", e.data); res.code != 0 {
		t.Fatalf("pushvault rotated: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	recs = exportLedger(t, e.vault, "--data-dir", e.data)
	if last := recs[len(recs)-1]; last.Transition != evidence.MarkedRotated || last.Actor != "alice" || last.FindingID != manual {
		t.Errorf("last record %s by %s for %s, want marked_rotated by alice", last.Transition, last.Actor, last.FindingID)
	}

	// Nothing secret anywhere: check run, PR, comments, issues, logs, ledger.
	noPlantedValue(t, planted, recs, append(e.githubTexts(), e.serve.logs.String()))
}

// noPlantedValue fails t for each planted value in an output or a ledger
// record.
func noPlantedValue(t *testing.T, planted []string, recs []evidence.Record, outputs []string) {
	t.Helper()
	for _, r := range recs {
		b, _ := json.Marshal(r)
		outputs = append(outputs, string(b))
	}
	for _, o := range outputs {
		for _, v := range planted {
			if strings.Contains(o, v) {
				t.Errorf("a planted secret reached an output: %.120s…", o)
			}
		}
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func basicAuth(token string) string {
	return base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
}

// exportLedger reads the server's ledger through the CLI after verifying it.
func exportLedger(t *testing.T, v *vaulttest.Server, source ...string) []evidence.Record {
	t.Helper()
	env := []string{"VAULT_ADDR=" + v.Addr, "VAULT_TOKEN=" + v.Token}
	dir := t.TempDir()
	ver := runBinary(t, dir, env, append([]string{"evidence", "verify"}, source...)...)
	if ver.code != 0 || !strings.Contains(ver.stdout, "chain and signatures verified") {
		t.Errorf("evidence verify: exit %d\n%s%s", ver.code, ver.stdout, ver.stderr)
	}
	exp := runBinary(t, dir, env, append([]string{"evidence", "export"}, source...)...)
	if exp.code != 0 {
		t.Fatalf("evidence export: exit %d\n%s", exp.code, exp.stderr)
	}
	var out []evidence.Record
	for _, line := range strings.Split(strings.TrimSpace(exp.stdout), "\n") {
		var r evidence.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("export line: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// newAppEnvWith is newAppEnv with Vault reached through a proxy the test
// can take down, and the queue settings given.
func newAppEnvWith(t *testing.T, queue string) (*appEnv, *tcpProxy) {
	t.Helper()
	e := newStandIn(t)
	proxy := newTCPProxy(t, strings.TrimPrefix(e.vault.Addr, "http://"))
	e.serveVault = &vaulttest.Server{Addr: "http://" + proxy.addr, Token: e.vault.Token}
	e.start(t, queue)
	return e, proxy
}

// pushSecrets commits two planted secrets to main and pushes; it returns
// the head and the values.
func (e *appEnv) pushSecrets(t *testing.T, seed uint64) (string, []string) {
	t.Helper()
	g := secrettest.New(seed)
	stripe, sendgrid := g.Stripe(), g.SendGrid()
	head := e.pushFiles(t, map[string]string{
		"config/payments.yml": "stripe_api_key: " + stripe + "\n",
		".env":                "SENDGRID_API_KEY=" + sendgrid + "\n",
	})
	return head, []string{stripe, sendgrid}
}

// pushFiles commits files to main (as dev) and pushes; it returns the head.
func (e *appEnv) pushFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	work := e.clone(t)
	head := work.Commit("dev <dev@acme.test>", "config", files)
	work.Git("push", "origin", "HEAD:main")
	return head
}

// exactlyOnce checks one completed check run on head with one annotation
// per planted value, one fix PR, and version 1 as the only version of each
// vaulted secret.
func (e *appEnv) exactlyOnce(t *testing.T, head string, secrets int) {
	t.Helper()
	var runs []githubtest.CheckRun
	for _, r := range e.srv.CheckRuns() {
		if r.HeadSHA == head && r.Name == "pushvault" {
			runs = append(runs, r)
		}
	}
	if len(runs) != 1 || runs[0].Status != "completed" || len(runs[0].Annotations) != secrets {
		t.Errorf("check runs on the head: %d; want one completed with %d annotations: %+v", len(runs), secrets, runs)
	}
	e.remediatedOnce(t, head)
}

// remediatedOnce checks one fix PR for head and version 1 as the only
// version of each secret pushSecrets plants.
func (e *appEnv) remediatedOnce(t *testing.T, head string) {
	t.Helper()
	e.remediatedOnceWith(t, head, map[string]int{"stripe_api_key": 1, "sendgrid_api_key": 1})
}

// TestAppRecoversFromFaults: GitHub answering 502, a secondary and a
// primary rate limit, and Vault down for a while: the push is finished once
// they pass, with nothing lost or done twice.
func TestAppRecoversFromFaults(t *testing.T) {
	e, proxy := newAppEnvWith(t, "  max_attempts: 30\n  backoff: [300ms]\n")
	e.srv.Fault(githubtest.Fault{Operation: "checks/create", Kind: githubtest.ServerError, Status: 502, Count: 2})
	e.srv.Fault(githubtest.Fault{Operation: "pulls/create", Kind: githubtest.SecondaryRateLimit, RetryAfter: time.Second, Count: 1})
	e.srv.Fault(githubtest.Fault{Operation: "repos/create-commit-comment", Kind: githubtest.PrimaryRateLimit, RetryAfter: 2 * time.Second, Count: 1})
	proxy.setUp(false)
	head, planted := e.pushSecrets(t, 11)
	waitFor(t, "a failed attempt while Vault is down", func() bool {
		return strings.Contains(e.serve.logs.String(), `"outcome":"retry"`) || strings.Contains(e.serve.logs.String(), "will be retried") ||
			strings.Count(e.serve.logs.String(), `"attempt":2`) > 0
	})
	proxy.setUp(true)
	waitFor(t, "the check run completes after recovery", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Status == "completed"
	})
	waitFor(t, "the commit comment", func() bool {
		for _, c := range e.srv.Comments() {
			if c.CommitSHA == head {
				return true
			}
		}
		return false
	})
	if r := e.checkRun(head); r.Conclusion != "action_required" {
		t.Errorf("after recovery: conclusion %q\n%s", r.Conclusion, r.Summary)
	}
	e.exactlyOnce(t, head, 2)
	if n := e.srv.FaultHits(); n < 4 {
		t.Errorf("%d faults served, want all 4 hit", n)
	}
	logs := e.serve.logs.String()
	for _, v := range planted {
		if strings.Contains(logs, v) {
			t.Error("a planted secret reached serve's log")
		}
	}
}

// TestAppRequeuesSecondaryRateLimit: GitHub answers the check run's
// creation with a secondary rate limit and no Retry-After. The delivery is
// handed back to the queue for a minute (GitHub: wait at least one), not
// retried on the queue's short backoff nor failed.
func TestAppRequeuesSecondaryRateLimit(t *testing.T) {
	e, _ := newAppEnvWith(t, "  max_attempts: 3\n  backoff: [100ms]\n")
	e.srv.Fault(githubtest.Fault{Operation: "checks/create", Kind: githubtest.SecondaryRateLimit, OmitRetryAfter: true})
	head, _ := e.pushSecrets(t, 14)
	e.waitFor(t, "the delivery handed back for GitHub's rate limit", func() bool {
		return strings.Contains(e.serve.logs.String(), `"retry_in":60000000000`)
	})
	time.Sleep(2 * time.Second) // ten of the queue's own backoffs
	logs := e.serve.logs.String()
	if strings.Contains(logs, `"attempt":2`) {
		t.Error("the delivery was tried again before GitHub's minute passed")
	}
	if r := e.checkRun(head); r != nil && r.Status == "completed" {
		t.Errorf("check run completed %s while GitHub asked to wait:\n%s", r.Conclusion, r.Summary)
	}
	_, body := e.serve.get(t, "/metrics")
	if n := series(body, `pushvault_events_processed_total{event="push",outcome="retry"}`); n != 1 {
		t.Errorf("%v push attempts handed back, want 1", n)
	}
	if strings.Contains(body, `pushvault_dead_letters_total{event="push"`) {
		t.Errorf("the push was dead-lettered:\n%s", grepLines(body, "dead_letters"))
	}
}

// TestAppDeadLettersAndSaysSo: Vault stays down; after the last attempt the
// push goes to the dead-letter stream and its check run says failure with
// the reason.
func TestAppDeadLettersAndSaysSo(t *testing.T) {
	e, proxy := newAppEnvWith(t, "  max_attempts: 3\n  backoff: [100ms]\n")
	proxy.setUp(false)
	head, _ := e.pushSecrets(t, 12)
	waitFor(t, "the check run fails", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Status == "completed"
	})
	r := e.checkRun(head)
	if r.Conclusion != "failure" || !strings.Contains(r.Summary, "gave up on this push") || !strings.Contains(r.Summary, "retries_exhausted") {
		t.Errorf("check run %s/%s:\n%s", r.Status, r.Conclusion, r.Summary)
	}
	if code, body := e.serve.get(t, "/metrics"); code != 200 || series(body, `pushvault_dead_letters_total{event="push",reason="retries_exhausted"}`) != 1 {
		t.Errorf("metrics do not count the dead letter:\n%s", grepLines(body, "dead_letters"))
	}
	if len(e.srv.PullRequests()) != 0 {
		t.Error("a fix PR was opened without Vault")
	}
}

// TestAppPushesThatAddNothing: a branch created at an existing commit, a
// branch deletion and tag pushes are handled without work lost or made up.
func TestAppPushesThatAddNothing(t *testing.T) {
	e := newAppEnv(t)
	work := e.clone(t)
	base := work.Head()
	work.Git("push", "origin", "HEAD:refs/heads/feature")
	waitFor(t, "the empty push's check run", func() bool {
		r := e.checkRun(base)
		return r != nil && r.Status == "completed"
	})
	if r := e.checkRun(base); r.Conclusion != "success" || len(r.Annotations) != 0 {
		t.Errorf("empty push: %s with %d annotations", r.Conclusion, len(r.Annotations))
	}
	work.Git("push", "origin", ":refs/heads/feature")
	work.Git("tag", "v1")
	work.Git("tag", "-a", "v2", "-m", "release")
	work.Git("push", "origin", "v1", "v2")
	deliveries := len(e.srv.Deliveries())
	waitFor(t, "every delivery handled", func() bool {
		_, body := e.serve.get(t, "/metrics")
		return pushesHandled(body) >= 4
	})
	_, body := e.serve.get(t, "/metrics")
	if n := series(body, `pushvault_webhooks_total{event="push",outcome="accepted"}`); n != 3 {
		t.Errorf("%v push deliveries queued, want 3 (of %d deliveries)", n, deliveries)
	}
	if n := series(body, `pushvault_webhooks_total{event="push",outcome="ignored"}`); n != 1 {
		t.Errorf("%v push deliveries answered at the webhook, want 1 (the branch deletion)", n)
	}
	if n := series(body, `pushvault_dead_letters_total{event="push",reason="permanent"}`); n != 0 {
		t.Errorf("%v pushes dead-lettered", n)
	}
	runs := 0
	for _, r := range e.srv.CheckRuns() {
		if r.Name == "pushvault" {
			runs++
		}
	}
	if runs != 1 || len(e.srv.PullRequests()) != 0 {
		t.Errorf("%d check runs and %d PRs, want only the empty push's check run", runs, len(e.srv.PullRequests()))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// tcpProxy forwards connections to target while up; while down it refuses
// them (closes at once) and cuts the ones open: a server going away.
type tcpProxy struct {
	ln     net.Listener
	addr   string
	target string
	mu     sync.Mutex
	up     bool
	conns  map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, addr: ln.Addr().String(), target: target, up: true, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.setUp(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *tcpProxy) serve(c net.Conn) {
	p.mu.Lock()
	if !p.up {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

func (p *tcpProxy) setUp(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if !up {
		for c := range p.conns {
			c.Close()
		}
	}
}

// fanOut forwards every webhook to each of targets (as GitHub's redelivery
// reaching another replica would) and answers with the first answer.
func fanOut(t *testing.T, targets ...string) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		codes := make([]int, len(targets))
		var wg sync.WaitGroup
		for i, target := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", target, strings.NewReader(string(body)))
				req.Header = r.Header.Clone()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					codes[i] = 502
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		w.WriteHeader(codes[0])
	})
	s := httptestServer(t, h)
	return s
}

// TestAppTwoServesBurst: two `pushvault serve` on one NATS server, every
// webhook delivered to both; a burst of 200 pushes over 20 repositories
// (one secret in each repository's first push) is processed once each: one
// check run per push, one fix PR and one commit comment per secret, one
// vault version per secret.
func TestAppTwoServesBurst(t *testing.T) {
	needBinary(t) // before building its 20 repositories
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	defer ns.Shutdown()
	srv := githubtest.New(t)
	const repos, pushes = 20, 200
	for i := range repos {
		if err := srv.CreateRepo("acme", fmt.Sprintf("repo-%02d", i), map[string]string{"README.md": "r\n"}); err != nil {
			t.Fatal(err)
		}
	}
	inst := srv.Install("acme")
	v := vaulttest.Start(t)
	queue := "  url: " + ns.ClientURL() + "\n"
	var procs []*serveProc
	for range 2 {
		procs = append(procs, startApp(t, srv, v, t.TempDir(), queue, ""))
	}
	srv.SetWebhookURL(fanOut(t, "http://"+procs[0].addr+"/webhook", "http://"+procs[1].addr+"/webhook"))

	tok, _, err := srv.Token(inst)
	if err != nil {
		t.Fatal(err)
	}
	clones := make([]*gittest.Repo, repos)
	for i := range repos {
		clones[i] = gittest.Clone(t, srv.AuthCloneURL("acme", fmt.Sprintf("repo-%02d", i), tok))
	}
	heads := map[string]bool{}
	var planted []string
	for i := range pushes {
		files := map[string]string{fmt.Sprintf("notes/%03d.txt", i): fmt.Sprintf("push %d\n", i)}
		if i < repos {
			s := secrettest.New(uint64(100 + i)).Stripe()
			planted = append(planted, s)
			files["config/payments.yml"] = "stripe_api_key: " + s + "\n"
		}
		c := clones[i%repos]
		heads[c.Commit("dev <dev@acme.test>", fmt.Sprintf("push %d", i), files)] = true
		c.Git("push", "-q", "origin", "HEAD:main")
	}
	waitFor(t, "every push's check run to complete", func() bool {
		done := 0
		for _, r := range srv.CheckRuns() {
			if r.Name == "pushvault" && heads[r.HeadSHA] && r.Status == "completed" {
				done++
			}
		}
		return done >= pushes
	})
	perHead := map[string]int{}
	for _, r := range srv.CheckRuns() {
		if r.Name == "pushvault" {
			perHead[r.HeadSHA]++
		}
	}
	for h, n := range perHead {
		if n != 1 || !heads[h] {
			t.Errorf("head %s: %d check runs (a pushed head: %v)", h[:7], n, heads[h])
		}
	}
	waitFor(t, "the commit comments", func() bool { return len(srv.Comments()) >= repos })
	prs := map[string]int{}
	for _, pr := range srv.PullRequests() {
		prs[pr.Repo+" "+pr.Head]++
	}
	if len(prs) != repos {
		t.Errorf("%d fix PRs, want %d", len(prs), repos)
	}
	for k, n := range prs {
		if n != 1 {
			t.Errorf("%s: %d PRs", k, n)
		}
	}
	if n := len(srv.Comments()); n != repos {
		t.Errorf("%d commit comments, want %d", n, repos)
	}
	vc := v.Client(t)
	for i := range repos {
		md, err := vc.KVv2("secret").GetMetadata(context.Background(), fmt.Sprintf("pushvault/acme/repo-%02d/stripe_api_key", i))
		if err != nil || md.CurrentVersion != 1 || len(md.Versions) != 1 {
			t.Errorf("repo-%02d: vault versions %v (%v)", i, md, err)
		}
	}
	var processed [2]float64
	for i, p := range procs {
		_, body := p.get(t, "/metrics")
		processed[i] = series(body, `pushvault_events_processed_total{event="push",outcome="success"}`)
	}
	t.Logf("pushes processed by each process: %v", processed)
	for i, p := range procs {
		for _, s := range planted {
			if strings.Contains(p.logs.String(), s) {
				t.Errorf("process %d logged a planted secret", i+1)
			}
		}
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// TestAppCheckRunActions: "False positive" closes the run's findings with
// the actor; "Re-run" scans the push again under a check run of its own
// without a second vault version or PR; an invalid settings file fails the
// check run with the file, line and problem.
func TestAppCheckRunActions(t *testing.T) {
	e := newAppEnv(t)
	head, _ := e.pushSecrets(t, 21)
	waitFor(t, "the check run completes", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Status == "completed"
	})
	first := e.checkRun(head)
	// Trust model: "False positive" needs the server's role (default
	// maintain), asked of GitHub for whoever presses; write is not enough.
	setRoles(t, e.srv, map[string]string{"wes": "write", "octocat": "maintain"})
	if _, err := e.srv.TriggerCheckRunAs(first.ID, "requested_action", "false_positive", "wes"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the refused press noted on the check run", func() bool {
		r := e.checkRun(head)
		return r != nil && strings.Contains(r.Summary, "**False positive refused**: wes holds the write role on acme/shop, and this server lets only maintain or above use it")
	})
	if r := e.checkRun(head); r.Title == githubapp.TitleClosed || r.Conclusion != "action_required" {
		t.Errorf("after a refused press: %q, %s", r.Title, r.Conclusion)
	}
	if _, err := e.srv.TriggerCheckRun(first.ID, "requested_action", "false_positive"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the false positive noted on the check run", func() bool {
		r := e.checkRun(head)
		return r != nil && strings.Contains(r.Summary, "Closed as false positive")
	})
	if _, err := e.srv.TriggerCheckRun(first.ID, "rerequested", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the re-run's own check run completes", func() bool {
		n := 0
		for _, r := range e.srv.CheckRuns() {
			if r.HeadSHA == head && r.Status == "completed" {
				n++
			}
		}
		return n == 2
	})
	if n := len(e.srv.PullRequests()); n != 1 {
		t.Errorf("%d PRs after the re-run, want still 1", n)
	}

	// Trust model: settings the push adds do not govern its own scan. A
	// push that allowlists everything and leaks is still found.
	work := e.clone(t)
	leak := secrettest.New(22).Stripe()
	sneaky := work.Commit("dev <dev@acme.test>", "quiet", map[string]string{
		".github/pushvault.yml": "allowlist:\n  paths: [\"**\"]\nscan:\n  max_file_size: 1B\n",
		"billing/keys.env":      "STRIPE_KEY=" + leak + "\n",
	})
	work.Git("push", "origin", "HEAD:main")
	done := func(sha string) func() bool {
		return func() bool { r := e.checkRun(sha); return r != nil && r.Status == "completed" }
	}
	waitFor(t, "the check run of the push that allowlists itself", done(sneaky))
	if r := e.checkRun(sneaky); r.Conclusion != "action_required" || len(r.Annotations) != 1 ||
		!strings.Contains(r.Summary, "Settings: the defaults (no .github/pushvault.yml on the default branch)") {
		t.Errorf("push with its own allowlist: %s, %d annotations\n%s", r.Conclusion, len(r.Annotations), r.Summary)
	}

	// A broken settings file: it governs the next push, whose check run
	// fails and says where.
	bad := work.Commit("dev <dev@acme.test>", "settings", map[string]string{".github/pushvault.yml": "allowlist:\n  pathz: [\"docs/**\"]\n"})
	work.Git("push", "origin", "HEAD:main")
	waitFor(t, "the settings push's check run", done(bad))
	if r := e.checkRun(bad); r.Conclusion != "success" || !strings.Contains(r.Summary, "Settings: acme/shop@"+sneaky[:7]+":.github/pushvault.yml") {
		t.Errorf("the push of new settings, under the old ones: %s\n%s", r.Conclusion, r.Summary)
	}
	next := work.Commit("dev <dev@acme.test>", "docs", map[string]string{"docs/a.md": "a\n"})
	work.Git("push", "origin", "HEAD:main")
	waitFor(t, "the invalid-settings check run", done(next))
	if r := e.checkRun(next); r.Conclusion != "failure" || !strings.Contains(r.Summary, "pushvault.yml:2") {
		t.Errorf("invalid settings: %s\n%s", r.Conclusion, r.Summary)
	}

	e.serve.stop(t)
	var closed, refused []evidence.Record
	for _, r := range exportLedger(t, e.vault, "--data-dir", e.data) {
		switch r.Transition {
		case evidence.Closed:
			closed = append(closed, r)
		case evidence.ActionRefused:
			refused = append(refused, r)
		}
	}
	if len(closed) != 2 {
		t.Fatalf("%d closed records, want the 2 findings", len(closed))
	}
	for _, r := range closed {
		if r.Actor != "github:octocat" || r.Detail["role"] != "maintain" || !strings.Contains(r.Detail["reason"], "false positive") {
			t.Errorf("closed record: actor %q role %q reason %q", r.Actor, r.Detail["role"], r.Detail["reason"])
		}
	}
	if len(refused) != 2 {
		t.Fatalf("%d action_refused records, want one per finding of the run", len(refused))
	}
	for _, r := range refused {
		want := map[string]string{"action": "false_positive", "role": "write", "required": "maintain"}
		if r.Actor != "github:wes" || r.Fingerprint == "" || r.Detail["action"] != want["action"] || r.Detail["role"] != want["role"] || r.Detail["required"] != want["required"] {
			t.Errorf("refused record: actor %q fingerprint %q detail %v", r.Actor, r.Fingerprint, r.Detail)
		}
	}
}

// setRoles gives each login its role on acme/shop.
func setRoles(t *testing.T, srv *githubtest.Server, roles map[string]string) {
	t.Helper()
	for login, role := range roles {
		if err := srv.SetRole("acme", "shop", login, role); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAppApproveRotation: with rotation.approval: required, a leaked Vault
// token is vaulted but stays live, and the check run offers "Approve
// rotation"; approved, it is revoked (a lookup fails) and the approver is
// on record.
func TestAppApproveRotation(t *testing.T) {
	// Approval is the server's to set; this server lets repositories.
	e := newAppEnvConfig(t, "repository_may_set: [rotation.approval]\n")
	vc := e.vault.Client(t)
	sec, err := vc.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"default"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	leaked := sec.Auth.ClientToken
	works := func() bool {
		c, err := vc.Clone()
		if err != nil {
			t.Fatal(err)
		}
		c.SetToken(leaked)
		_, err = c.Auth().Token().LookupSelf()
		return err == nil
	}
	// The settings land first: a push's own settings do not govern it.
	work := e.clone(t)
	settings := work.Commit("dev <dev@acme.test>", "settings", map[string]string{".github/pushvault.yml": "rotation:\n  approval: required\n"})
	work.Git("push", "origin", "HEAD:main")
	waitFor(t, "the settings push's check run", func() bool {
		r := e.checkRun(settings)
		return r != nil && r.Status == "completed"
	})
	head := work.Commit("dev <dev@acme.test>", "ci", map[string]string{"ci/env.sh": "export VAULT_TOKEN=" + leaked + "\n"})
	work.Git("push", "origin", "HEAD:main")
	waitFor(t, "the check run completes", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Status == "completed"
	})
	r := e.checkRun(head)
	var approve bool
	for _, a := range r.Actions {
		approve = approve || a.Identifier == "approve_rotation"
	}
	if !approve || !strings.Contains(r.Summary, "waits for approval") {
		t.Fatalf("check run without an Approve rotation action (%+v):\n%s", r.Actions, r.Summary)
	}
	if !works() {
		t.Fatal("the token was revoked before anyone approved")
	}
	// A collaborator with write (the pusher's own access) cannot approve:
	// nothing rotates, the attempt is noted and on record.
	setRoles(t, e.srv, map[string]string{"wes": "write", "octocat": "maintain"})
	if _, err := e.srv.TriggerCheckRunAs(r.ID, "requested_action", "approve_rotation", "wes"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the refused approval noted on the check run", func() bool {
		return strings.Contains(e.checkRun(head).Summary, "**Approve rotation refused**: wes holds the write role")
	})
	runs := 0
	for _, c := range e.srv.CheckRuns() {
		if c.HeadSHA == head {
			runs++
		}
	}
	if !works() || runs != 1 {
		t.Fatalf("after a refused approval: token works %v, %d check runs on the head (want 1: nothing re-run)", works(), runs)
	}
	if _, err := e.srv.TriggerCheckRun(r.ID, "requested_action", "approve_rotation"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the approved run completes", func() bool {
		n := 0
		for _, c := range e.srv.CheckRuns() {
			if c.HeadSHA == head && c.Status == "completed" {
				n++
			}
		}
		return n == 2
	})
	if works() {
		t.Fatal("approved: the leaked Vault token still works")
	}
	e.serve.stop(t)
	var approvedBy string
	var presses []string
	for _, rec := range exportLedger(t, e.vault, "--data-dir", e.data) {
		switch rec.Transition {
		case evidence.Rotated:
			approvedBy = rec.Actor
		case evidence.ActionRefused, evidence.RotationApproved:
			presses = append(presses, fmt.Sprintf("%s by %s (%s)", rec.Transition, rec.Actor, rec.Detail["role"]))
		}
	}
	if !strings.Contains(approvedBy, "approved by octocat") {
		t.Errorf("rotated by %q, want the approver on record", approvedBy)
	}
	if want := []string{"action_refused by github:wes (write)", "rotation_approved by github:octocat (maintain)"}; !slices.Equal(presses, want) {
		t.Errorf("button presses on record: %q, want %q", presses, want)
	}
}

// TestAppInlineAllow: an inline "pushvault:allow" comment follows the
// server's inline_allow. record (the default): the push succeeds, the
// check run lists the line with the pusher, the ledger holds one
// inline_allowed record per marked location, nothing is vaulted. honour:
// the same, unrecorded and unlisted. ignore: a finding like any other,
// vaulted with a fix PR. No planted value reaches any output.
func TestAppInlineAllow(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("values from secrettest.New(%d)", seed)
	g := secrettest.New(seed)
	e := newAppEnv(t)
	var logs []string
	planted := map[string]string{} // mode -> value
	// pushMarked pushes a fresh value on a marked line under mode and
	// waits for its check run.
	pushMarked := func(mode, path string) (string, githubtest.CheckRun) {
		t.Helper()
		if mode != "record" {
			logs = append(logs, e.serve.logs.String())
			e.serve.stop(t)
			e.serve = startApp(t, e.srv, e.serveVault, e.data, "", "", "PUSHVAULT_INLINE_ALLOW="+mode)
			e.srv.SetWebhookURL("http://" + e.serve.addr + "/webhook")
		}
		planted[mode] = g.Stripe()
		work := e.clone(t)
		head := work.Commit("dev <dev@acme.test>", "fixture under "+mode, map[string]string{
			path: "import os\n\nSTRIPE_TEST_KEY = \"" + planted[mode] + "\"  # pushvault:allow fixture for the billing tests\n",
		})
		work.Git("push", "origin", "HEAD:main")
		e.waitFor(t, "the check run under inline_allow: "+mode, func() bool {
			r := e.checkRun(head)
			return r != nil && r.Status == "completed"
		})
		return head, *e.checkRun(head)
	}

	recHead, rec := pushMarked("record", "billing/fixture_test.py")
	if rec.Conclusion != "success" || len(rec.Annotations) != 0 ||
		!strings.Contains(rec.Summary, "### Let through by inline allow comments") ||
		!strings.Contains(rec.Summary, "in the push by pushvault[bot] was honoured and recorded") ||
		!strings.Contains(rec.Summary, "| `billing/fixture_test.py:3` ("+recHead[:7]+") | Stripe |") {
		t.Errorf("record: %s, %d annotations:\n%s", rec.Conclusion, len(rec.Annotations), rec.Summary)
	}
	_, hon := pushMarked("honour", "billing/other_test.py")
	if hon.Conclusion != "success" || len(hon.Annotations) != 0 || strings.Contains(hon.Summary, "inline") {
		t.Errorf("honour: %s, %d annotations:\n%s", hon.Conclusion, len(hon.Annotations), hon.Summary)
	}
	_, ign := pushMarked("ignore", "billing/third_test.py")
	if ign.Conclusion != "action_required" || len(ign.Annotations) != 1 || ign.Annotations[0].Path != "billing/third_test.py" || strings.Contains(ign.Summary, "inline") {
		t.Errorf("ignore: %s, %d annotations:\n%s", ign.Conclusion, len(ign.Annotations), ign.Summary)
	}
	logs = append(logs, e.serve.logs.String())
	e.serve.stop(t)

	recs := exportLedger(t, e.vault, "--data-dir", e.data)
	var inline []evidence.Record
	var vaulted []string
	for _, r := range recs {
		switch r.Transition {
		case evidence.InlineAllowed:
			inline = append(inline, r)
		case evidence.Vaulted:
			vaulted = append(vaulted, r.Detail["path"])
		}
	}
	if len(inline) != 1 {
		t.Fatalf("%d inline_allowed records, want 1 (the push under record): %+v", len(inline), inline)
	}
	want := map[string]string{"detector": "Stripe", "commit": recHead, "path": "billing/fixture_test.py", "line": "3",
		"occurrence": scanner.LocationID("Stripe", recHead, "billing/fixture_test.py", 3)}
	if r := inline[0]; r.Actor != "github:pushvault[bot]" || r.Repository != "acme/shop" || !strings.HasPrefix(r.Fingerprint, "hmac-vault:") || !maps.Equal(r.Detail, want) {
		t.Errorf("inline_allowed record: actor %q repository %q fingerprint %q detail %v", r.Actor, r.Repository, r.Fingerprint, r.Detail)
	}
	if !slices.Equal(vaulted, []string{"billing/third_test.py"}) {
		t.Errorf("vaulted %v, want only the finding under inline_allow: ignore", vaulted)
	}

	noPlantedValue(t, slices.Collect(maps.Values(planted)), recs, append(e.githubTexts(), logs...))
}

// waitFor is waitFor that shows serve's last log lines when it gives up.
func (e *appEnv) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			lines := strings.Split(strings.TrimSpace(e.serve.logs.String()), "\n")
			t.Fatalf("gave up waiting: %s; serve's last log lines:\n%s", what, strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAppRepositoryCannotSteerRotation: a settings file that maps every
// host to another team's Vault database connection and keeps exposed
// versions lands on the default branch; the next push leaks a database password.
// The repository's rotation keys are the server's, so nothing is created
// under database/static-roles, the secret is vaulted and fixed as usual,
// and the check run says which keys were ignored.
func TestAppRepositoryCannotSteerRotation(t *testing.T) {
	e := newAppEnv(t)
	vc := e.vault.Client(t)
	if err := vc.Sys().Mount("database", &vaultapi.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Logical().Write("database/config/other-team", map[string]any{
		"plugin_name": "postgresql-database-plugin", "allowed_roles": "*", "verify_connection": false,
		"connection_url": "postgresql://{{username}}:{{password}}@127.0.0.1:1/app", "username": "vault", "password": "vault",
	}); err != nil {
		t.Fatal(err)
	}
	// An AWS mount the repository's file maps an account to: the server
	// maps none, so a leaked key of that account is no rotator's.
	w := newAWSWorld(t, vc)
	work := e.clone(t)
	settings := work.Commit("dev <dev@acme.test>", "settings", map[string]string{".github/pushvault.yml": `rotation:
  destroy_exposed: false
  databases:
    - match: {host: "*"}
      vault_connection: other-team
  aws:
    - account: "` + w.aw.Account() + `"
      vault_credentials_role: pushvault-keys
`})
	work.Git("push", "origin", "HEAD:main")
	done := func(sha string) func() bool {
		return func() bool { r := e.checkRun(sha); return r != nil && r.Status == "completed" }
	}
	e.waitFor(t, "the settings push's check run", done(settings))
	pass := secrettest.New(51).PostgresPassword()
	keysBefore := w.keys(t)
	head := work.Commit("dev <dev@acme.test>", "db", map[string]string{
		"deploy/.env":    "DATABASE_URL=postgres://dbadmin:" + pass + "@db.other.internal:5432/app\n",
		"deploy/aws.env": "AWS_ACCESS_KEY_ID=" + w.leaked.AccessKeyID + "\nAWS_SECRET_ACCESS_KEY=" + w.leaked.SecretAccessKey + "\n",
	})
	work.Git("push", "origin", "HEAD:main")
	e.waitFor(t, "the leak's check run", done(head))
	r := e.checkRun(head)
	if r.Conclusion != "action_required" || len(r.Annotations) != 2 ||
		!strings.Contains(r.Summary, "ignored, the server's to set: rotation.destroy_exposed, rotation.databases, rotation.aws") {
		t.Errorf("check run: %s, %d annotations\n%s", r.Conclusion, len(r.Annotations), r.Summary)
	}
	for _, kind := range []string{"Postgres", "AWS"} {
		if !strings.Contains(r.Summary, "manual rotation needed: no rotator handles "+kind+" credentials here") {
			t.Errorf("the check run does not say the %s credential needs a person:\n%s", kind, r.Summary)
		}
	}
	if awsRoles := awsStaticRoles(t, vc); len(awsRoles) > 0 {
		t.Errorf("AWS static roles created from a repository's mapping: %v", awsRoles)
	}
	if got := w.keys(t); !maps.Equal(got, keysBefore) {
		t.Errorf("svc-app's keys %v after a repository mapped its account, want them unchanged: %v", got, keysBefore)
	}
	if calls := w.aw.Calls(); len(calls) > 0 {
		t.Errorf("the AWS stand-in was called %d times (first: %s %s); the repository's mapping must not reach AWS", len(calls), calls[0].Service, calls[0].Operation)
	}
	roles, err := vc.Logical().List("database/static-roles")
	if err != nil {
		t.Fatal(err)
	}
	if roles != nil && len(roles.Data["keys"].([]any)) > 0 {
		t.Errorf("static roles created from a repository's mapping: %v", roles.Data["keys"])
	}
	if n := len(e.srv.PullRequests()); n != 1 {
		t.Errorf("%d fix PRs, want 1", n)
	}
	for _, out := range append(e.githubTexts(), e.serve.logs.String()) {
		if strings.Contains(out, pass) || strings.Contains(out, w.leaked.SecretAccessKey) {
			t.Fatalf("a leaked secret is in an output:\n%s", out)
		}
	}
}
