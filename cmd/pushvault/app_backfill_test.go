package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppBackfillOnInstall is issue 16's "Must show" through the stand-in.
// Before serve runs, acme holds shop (clean), api (a GitHub token at the
// head of main) and legacy (a Stripe key added then removed on main, a
// GitHub token on the branch old-deploy, a SendGrid key in a commit only
// the tag v0.1 holds). The installation is created: each repository's
// history is backfilled (legacy's in slices of 3 commits). serve is
// killed (SIGKILL) while it opens legacy's "Exposed in history" issue —
// the stand-in holds that request, so the kill follows progress, not a
// timer — and restarted on the same data. Then a repository created later
// is added to the installation. In the end: one fix PR on api and one on
// later, one "Exposed in history" issue on legacy listing the branch and
// the tag, nothing on shop, no check run; every secret vaulted once, each
// GitHub token revoked once; no repository that finished before the kill
// scanned again; `pushvault backfill status` says so; no planted value in
// any output.
func TestAppBackfillOnInstall(t *testing.T) {
	e := newStandIn(t)
	g := secrettest.Fresh(t)
	stripe, sendgrid := g.Stripe(), g.SendGrid()
	apiToken, legacyToken, laterToken := e.userToken(t), e.userToken(t), e.userToken(t)
	planted := []string{stripe, sendgrid, apiToken, legacyToken, laterToken}

	// History made before the App is installed: no webhook goes anywhere.
	api := e.newRepo(t, "api")
	apiHead := api.Commit("dev <dev@acme.test>", "deploy script", map[string]string{
		"deploy.py": "import os\n\nGITHUB_TOKEN = \"" + apiToken + "\"\n\nprint(len(GITHUB_TOKEN))\n",
	})
	api.Git("push", "origin", "HEAD:main")
	legacy := e.newRepo(t, "legacy")
	for i := range 3 {
		legacy.Commit("dev <dev@acme.test>", fmt.Sprintf("docs %d", i), map[string]string{fmt.Sprintf("docs/%d.md", i): "notes\n"})
	}
	legacy.Commit("dev <dev@acme.test>", "payments", map[string]string{"config.env": "STRIPE_API_KEY=" + stripe + "\n"})
	legacy.Git("rm", "-q", "config.env")
	legacy.Git("commit", "-q", "-m", "remove the key")
	legacy.Git("push", "origin", "HEAD:main")
	legacy.Git("checkout", "-q", "-b", "old-deploy")
	legacy.Commit("dev <dev@acme.test>", "deploy", map[string]string{"deploy.sh": "export GITHUB_TOKEN=" + legacyToken + "\n"})
	legacy.Git("push", "origin", "old-deploy")
	legacy.Git("checkout", "-q", "--detach", "main")
	legacy.Commit("dev <dev@acme.test>", "release mail", map[string]string{"mail.env": "SENDGRID_API_KEY=" + sendgrid + "\n"})
	legacy.Git("tag", "-a", "v0.1", "-m", "release 0.1")
	legacy.Git("push", "origin", "refs/tags/v0.1")

	// Two backfill workers: while legacy's is held, the other finishes
	// shop and api, whichever comes first.
	e.config = "backfill:\n  concurrency: 2\n  slice_commits: 3\n"
	e.start(t, "")
	first := e.serve
	// Held, not served: legacy's issue is not opened before the kill.
	e.srv.Fault(githubtest.Fault{Operation: "issues/create", Kind: githubtest.Slow, Delay: 10 * time.Minute})
	if _, err := e.srv.TriggerInstallation(e.inst, "created"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "serve opening legacy's history issue, shop and api done", func() bool {
		return e.srv.FaultHits() == 1 && len(backfilled(first.logs.String())) == 2
	})
	first.kill()
	finished := backfilled(first.logs.String())
	slices.Sort(finished)
	if !slices.Equal(finished, []string{"acme/api", "acme/shop"}) {
		t.Fatalf("finished before the kill: %q, want api and shop (legacy held)\n%s", finished, first.logs)
	}
	e.start(t, "")
	e.waitFor(t, "three repositories backfilled after the restart", func() bool { return e.backfills(t, "done") == 3 })

	// A repository created with its content (no push to handle) and added.
	if err := e.srv.CreateRepo("acme", "later", map[string]string{"ci.py": "GITHUB_TOKEN = \"" + laterToken + "\"\n"}); err != nil {
		t.Fatal(err)
	}
	laterHead := e.headOf(t, "later")
	if _, err := e.srv.TriggerRepositoriesAdded(e.inst, "later"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the added repository backfilled", func() bool { return e.backfills(t, "done") == 4 })
	e.serve.stop(t)

	// Nothing finished before the kill was scanned again.
	second := e.serve.logs.String()
	for _, repo := range finished {
		if n := scannedLines(second, repo); n != 0 {
			t.Errorf("%s finished before the kill and was scanned %d more times after the restart", repo, n)
		}
	}
	if n := scannedLines(first.logs.String(), "acme/legacy") + scannedLines(second, "acme/legacy"); n < 1 {
		t.Errorf("legacy's history was never scanned")
	}
	if !strings.Contains(first.logs.String()+second, "scanning its history in slices") {
		t.Error("legacy's history (8 commits, slice_commits 3) was not said to be scanned in slices")
	}

	// One fix PR on api and one on later, none elsewhere.
	var prs []string
	for _, pr := range e.srv.PullRequests() {
		prs = append(prs, pr.Repo+" "+pr.Head+" -> "+pr.Base)
		if !strings.Contains(pr.Body, "history backfill of `main`") {
			t.Errorf("PR on %s does not say it comes from the history backfill:\n%s", pr.Repo, pr.Body)
		}
	}
	slices.Sort(prs)
	wantPRs := []string{"acme/api pushvault/fix-" + apiHead[:7] + " -> main", "acme/later pushvault/fix-" + laterHead[:7] + " -> main"}
	if !slices.Equal(prs, wantPRs) {
		t.Errorf("pull requests %q, want %q", prs, wantPRs)
	}
	// One "Exposed in history" issue, on legacy, listing where each secret
	// was introduced; the revoked token ticked, the two keys to rotate open.
	issues := e.srv.Issues()
	if len(issues) != 1 || issues[0].Repo != "acme/legacy" || !slices.Contains(issues[0].Labels, githubapp.HistoryLabel) {
		t.Fatalf("issues %+v, want one %q issue on acme/legacy", issues, githubapp.HistoryLabel)
	}
	body := issues[0].Body
	for _, want := range []string{"`config.env:1`", "branch `old-deploy`", "`deploy.sh:1`", "tag `v0.1`", "`mail.env:1`",
		"- [x] **Github**", "- [ ] **Stripe**", "- [ ] **SendGrid**", "pushvault rotated "} {
		if !strings.Contains(body, want) {
			t.Errorf("history issue lacks %q:\n%s", want, body)
		}
	}
	if issues[0].State != "open" {
		t.Errorf("history issue %s with two secrets left to rotate, want open", issues[0].State)
	}
	if runs := e.srv.CheckRuns(); len(runs) != 0 {
		t.Errorf("%d check runs; a backfill makes none", len(runs))
	}
	// Each secret vaulted once; each GitHub token revoked once.
	// (a revoked token's path holds the exposed version and the rotation's)
	vc := e.vault.Client(t)
	for repo, want := range map[string]map[string]int{"api": {"github_token": 2}, "later": {"github_token": 2},
		"legacy": {"github_token": 2, "stripe_api_key": 1, "sendgrid_api_key": 1}} {
		got := map[string]int{}
		list, err := vc.Logical().List("secret/metadata/pushvault/acme/" + repo)
		if err != nil || list == nil {
			t.Errorf("vault list %s: %v", repo, err)
			continue
		}
		for _, k := range list.Data["keys"].([]any) {
			md, err := vc.KVv2("secret").GetMetadata(context.Background(), "pushvault/acme/"+repo+"/"+k.(string))
			if err != nil {
				t.Fatal(err)
			}
			got[k.(string)] = len(md.Versions)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("vault under pushvault/acme/%s: versions %v, want %v", repo, got, want)
		}
	}
	revoked := e.srv.RevokedCredentials()
	slices.Sort(revoked)
	want := []string{apiToken, legacyToken, laterToken}
	slices.Sort(want)
	if !slices.Equal(revoked, want) {
		t.Errorf("%d revocations, want each of the 3 tokens once", len(revoked))
	}

	// pushvault backfill status reads serve's queue.
	out := pushvault(t, "", "backfill", "status", "--data-dir", e.data, "--format", "json")
	if out.code != 0 {
		t.Fatalf("backfill status: exit %d\n%s", out.code, out.stderr)
	}
	states := map[string]queue.BackfillState{}
	for _, line := range strings.Split(strings.TrimSpace(out.stdout), "\n") {
		var st queue.BackfillState
		if err := json.Unmarshal([]byte(line), &st); err != nil {
			t.Fatalf("status line %q: %v", line, err)
		}
		states[st.Repository] = st
	}
	for repo, w := range map[string]struct{ head, history int }{"acme/shop": {0, 0}, "acme/api": {1, 0}, "acme/legacy": {0, 3}, "acme/later": {1, 0}} {
		st := states[repo]
		if st.State != queue.BackfillDone || st.AtHead != w.head || st.InHistory != w.history || st.Commits == 0 {
			t.Errorf("status of %s: %+v, want done with %d at head and %d in history", repo, st, w.head, w.history)
		}
		if slices.Contains(finished, repo) && st.Scans != 1 {
			t.Errorf("status of %s: %d scans, want 1 (it finished before the kill)", repo, st.Scans)
		}
	}
	text := pushvault(t, "", "backfill", "status", "--data-dir", e.data)
	if !strings.Contains(text.stdout, "4 repositories: 0 queued, 0 scanning, 4 done, 0 failed") {
		t.Errorf("backfill status:\n%s%s", text.stdout, text.stderr)
	}
	noPlantedValue(t, planted, exportLedger(t, e.vault, "--data-dir", e.data),
		append(e.githubTexts(), first.logs.String(), second, out.stdout, text.stdout, text.stderr))
}

// userToken is a GitHub token of acme's that the stand-in can revoke.
func (e *appEnv) userToken(t *testing.T) string {
	t.Helper()
	tok, err := e.srv.UserToken("acme", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// newRepo creates acme/name on the stand-in and returns a clone of it.
func (e *appEnv) newRepo(t *testing.T, name string) *gittest.Repo {
	t.Helper()
	if err := e.srv.CreateRepo("acme", name, map[string]string{"README.md": name + "\n"}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.srv.Token(e.inst)
	if err != nil {
		t.Fatal(err)
	}
	return gittest.Clone(t, e.srv.AuthCloneURL("acme", name, tok))
}

// headOf is the head of acme/name's default branch on the stand-in.
func (e *appEnv) headOf(t *testing.T, name string) string {
	t.Helper()
	tok, _, err := e.srv.Token(e.inst)
	if err != nil {
		t.Fatal(err)
	}
	return gittest.Clone(t, e.srv.AuthCloneURL("acme", name, tok)).Head()
}

// backfilled lists the repositories a serve's log says it finished.
func backfilled(logs string) []string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		var rec struct{ Msg, Repo string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "repository backfilled" {
			out = append(out, rec.Repo)
		}
	}
	return out
}

// scannedLines counts the scans of repo's history a serve's log records.
func scannedLines(logs, repo string) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		var rec struct{ Msg, Repo string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "repository history scanned" && rec.Repo == repo {
			n++
		}
	}
	return n
}
