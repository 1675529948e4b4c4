package main_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
	"github.com/joho/godotenv"
	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/evidence"
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
}

func newAppEnv(t *testing.T) *appEnv {
	t.Helper()
	srv := githubtest.New(t)
	if err := srv.CreateRepo("acme", "shop", map[string]string{"README.md": "shop\n"}); err != nil {
		t.Fatal(err)
	}
	e := &appEnv{srv: srv, vault: vaulttest.Start(t), inst: srv.Install("acme"), data: t.TempDir()}
	app := srv.App()
	tr, err := ghinstallation.New(http.DefaultTransport, app.ID, e.inst, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = srv.URL
	e.gh = github.NewClient(&http.Client{Transport: tr})
	e.gh.BaseURL, _ = url.Parse(srv.URL + "/")
	e.start(t)
	return e
}

// start runs pushvault serve as the stand-in's App.
func (e *appEnv) start(t *testing.T) {
	t.Helper()
	app := e.srv.App()
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, app.PrivateKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := &serveEnv{vault: e.vault}
	e.serve = env.startWith(t, e.data, fmt.Sprintf("github:\n  app_id: %d\n  api_url: %s/\n  web_url: %s/\n", app.ID, e.srv.URL, e.srv.URL), "",
		"PUSHVAULT_GITHUB_PRIVATE_KEY_FILE="+keyFile, "PUSHVAULT_GITHUB_WEBHOOK_SECRET="+app.WebhookSecret)
	e.srv.SetWebhookURL("http://" + e.serve.addr + "/webhook")
}

// clone clones acme/shop with a fresh installation token.
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

	// Merge: the findings close.
	if _, _, err := e.gh.PullRequests.Merge(context.Background(), "acme", "shop", pr.Number, "", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the check run notes the merge", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Title == "Findings closed"
	})
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

	// Nothing secret anywhere: check run, PR, comments, issues, logs, ledger.
	var outputs []string
	for _, r := range e.srv.CheckRuns() {
		outputs = append(outputs, r.Title, r.Summary, r.Text)
		for _, a := range r.Annotations {
			outputs = append(outputs, fmt.Sprint(a))
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
	outputs = append(outputs, e.serve.logs.String())
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
