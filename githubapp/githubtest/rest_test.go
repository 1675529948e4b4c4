package githubtest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestContents: GET returns the file base64-encoded with its blob sha; PUT
// creates a commit on the branch (with its push webhook), insists on the
// current sha to update, and refuses a stale one.
func TestContents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fc, _, _, err := f.gh.Repositories.GetContents(ctx, "acme", "shop", "app/config.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	content, err := fc.GetContent()
	if err != nil || content != "port: 8080\n" {
		t.Fatalf("content = %q, %v", content, err)
	}
	dir, _ := f.srv.RepoDir("acme", "shop")
	if want := mustGit(t, dir, "rev-parse", "main:app/config.yml"); fc.GetSHA() != want {
		t.Errorf("sha = %s, want %s", fc.GetSHA(), want)
	}
	_, ls, _, err := f.gh.Repositories.GetContents(ctx, "acme", "shop", "app", nil)
	if err != nil || len(ls) != 1 || ls[0].GetName() != "config.yml" {
		t.Fatalf("dir listing = %v, %v", ls, err)
	}
	if _, _, _, err := f.gh.Repositories.GetContents(ctx, "acme", "shop", "nope.txt", nil); err == nil {
		t.Error("a missing file was found")
	}

	// Update without sha: 422; with a stale sha: 409; with the sha: a commit.
	opts := &github.RepositoryContentFileOptions{Message: github.String("port"), Content: []byte("port: 9090\n")}
	_, _, err = f.gh.Repositories.UpdateFile(ctx, "acme", "shop", "app/config.yml", opts)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 {
		t.Errorf("update without sha: %v", err)
	}
	opts.SHA = github.String(strings.Repeat("1", 40))
	if _, _, err = f.gh.Repositories.UpdateFile(ctx, "acme", "shop", "app/config.yml", opts); !errors.As(err, &er) || er.Response.StatusCode != 409 {
		t.Errorf("update with a stale sha: %v", err)
	}
	opts.SHA = fc.SHA
	res, _, err := f.gh.Repositories.UpdateFile(ctx, "acme", "shop", "app/config.yml", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGit(t, dir, "show", "main:app/config.yml"); got != "port: 9090" {
		t.Errorf("file on main = %q", got)
	}
	if res.GetSHA() != mustGit(t, dir, "rev-parse", "main") {
		t.Errorf("commit %s is not main", res.GetSHA())
	}
	created, _, err := f.gh.Repositories.CreateFile(ctx, "acme", "shop", "docs/new.md", &github.RepositoryContentFileOptions{
		Message: github.String("docs"), Content: []byte("new\n")})
	if err != nil || created.Content.GetPath() != "docs/new.md" {
		t.Fatalf("create = %v, %v", created, err)
	}
	pushes := f.rc.events("push")
	if len(pushes) != 2 || pushes[1]["after"] != created.GetSHA() {
		t.Errorf("push webhooks = %d", len(pushes))
	}
	commit, _, err := f.gh.Repositories.GetCommit(ctx, "acme", "shop", "main", nil)
	if err != nil || len(commit.Files) != 1 || commit.Files[0].GetFilename() != "docs/new.md" || commit.Files[0].GetStatus() != "added" {
		t.Errorf("get commit = %v, %v", commit, err)
	}
}

// TestRefs: update (fast-forward only unless forced) and delete through
// the git data API, each with its push webhook.
func TestRefs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir, _ := f.srv.RepoDir("acme", "shop")
	main := mustGit(t, dir, "rev-parse", "main")
	tree, _, err := f.gh.Git.CreateTree(ctx, "acme", "shop", "", []*github.TreeEntry{{Path: github.String("only.txt"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("only\n")}})
	if err != nil {
		t.Fatal(err)
	}
	orphan, _, err := f.gh.Git.CreateCommit(ctx, "acme", "shop", &github.Commit{Message: github.String("orphan"), Tree: tree}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.gh.Git.CreateRef(ctx, "acme", "shop", &github.Reference{Ref: github.String("refs/heads/side"), Object: &github.GitObject{SHA: github.String(main)}}); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.gh.Git.UpdateRef(ctx, "acme", "shop", &github.Reference{Ref: github.String("refs/heads/side"), Object: &github.GitObject{SHA: orphan.SHA}}, false)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 {
		t.Errorf("non-fast-forward update: %v", err)
	}
	if _, _, err := f.gh.Git.UpdateRef(ctx, "acme", "shop", &github.Reference{Ref: github.String("refs/heads/side"), Object: &github.GitObject{SHA: orphan.SHA}}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gh.Git.DeleteRef(ctx, "acme", "shop", "heads/side"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.gh.Git.GetRef(ctx, "acme", "shop", "heads/side"); !errors.As(err, &er) || er.Response.StatusCode != 404 {
		t.Errorf("deleted ref: %v", err)
	}
	var got []string
	for _, p := range f.rc.events("push") {
		got = append(got, strings.Join([]string{p["ref"].(string), strconv.FormatBool(p["created"].(bool)), strconv.FormatBool(p["forced"].(bool)), strconv.FormatBool(p["deleted"].(bool))}, " "))
	}
	want := []string{"refs/heads/side true false false", "refs/heads/side false true false", "refs/heads/side false false true"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("push webhooks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tr, _, err := f.gh.Git.GetTree(ctx, "acme", "shop", main, true)
	if err != nil || len(tr.Entries) != 3 { // README.md, app, app/config.yml
		t.Errorf("recursive tree = %v, %v", tr, err)
	}
	b, _, err := f.gh.Git.GetBlob(ctx, "acme", "shop", tr.Entries[0].GetSHA())
	if err != nil || b.GetEncoding() != "base64" {
		t.Errorf("blob = %v, %v", b, err)
	}
}

// TestPullRequestConflictAndClose: a conflicting PR is not mergeable (405);
// closing it sends pull_request closed with merged false.
func TestPullRequestConflictAndClose(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := clone(t, f.srv, "acme", "shop", f.token(t))
	mustGit(t, dir, "checkout", "-q", "-b", "topic")
	writeFile(t, dir, "README.md", "topic\n")
	mustGit(t, dir, "commit", "-q", "-am", "topic")
	mustGit(t, dir, "checkout", "-q", "main")
	writeFile(t, dir, "README.md", "main\n")
	mustGit(t, dir, "commit", "-q", "-am", "main")
	mustGit(t, dir, "push", "-q", "origin", "main", "topic")
	pr, _, err := f.gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{Title: github.String("t"), Head: github.String("topic"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{Title: github.String("again"), Head: github.String("topic"), Base: github.String("main")})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 422 {
		t.Errorf("duplicate PR: %v", err)
	}
	_, _, err = f.gh.PullRequests.Merge(ctx, "acme", "shop", pr.GetNumber(), "", nil)
	if !errors.As(err, &er) || er.Response.StatusCode != 405 {
		t.Errorf("conflicting merge: %v", err)
	}
	// A push to the head branch: pull_request synchronize with before/after.
	mustGit(t, dir, "checkout", "-q", "topic")
	before := mustGit(t, dir, "rev-parse", "HEAD")
	writeFile(t, dir, "more.txt", "more\n")
	mustGit(t, dir, "add", "-A")
	mustGit(t, dir, "commit", "-q", "-m", "more")
	mustGit(t, dir, "push", "-q", "origin", "topic")
	syncs := f.rc.events("pull_request")
	if last := syncs[len(syncs)-1]; last["action"] != "synchronize" || last["before"] != before || last["after"] != mustGit(t, dir, "rev-parse", "HEAD") {
		t.Errorf("after a push to the head: %v %v %v", last["action"], last["before"], last["after"])
	}
	if _, _, err := f.gh.PullRequests.Edit(ctx, "acme", "shop", pr.GetNumber(), &github.PullRequest{State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	prs := f.rc.events("pull_request")
	if len(prs) != 3 || prs[2]["action"] != "closed" || prs[2]["pull_request"].(map[string]any)["merged"] != false {
		t.Errorf("pull_request webhooks = %v", len(prs))
	}
	if got := f.srv.PullRequests(); len(got) != 1 || got[0].State != "closed" || got[0].Merged {
		t.Errorf("state = %+v", got)
	}
}

// TestTriggers: check_run rerequested and requested_action, installation
// created and pull_request synchronize webhooks pass the webhook contract
// and arrive signed.
func TestTriggers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir, _ := f.srv.RepoDir("acme", "shop")
	head := mustGit(t, dir, "rev-parse", "main")
	cr, _, err := f.gh.Checks.CreateCheckRun(ctx, "acme", "shop", github.CreateCheckRunOptions{Name: "pushvault", HeadSHA: head,
		Conclusion: github.String("action_required"), Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")},
		Actions: []*github.CheckRunAction{{Label: "False positive", Description: "Mark as a false positive", Identifier: "false_positive"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.TriggerCheckRun(cr.GetID(), "rerequested", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.TriggerCheckRun(cr.GetID(), "requested_action", "false_positive"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.TriggerInstallation(f.inst, "created"); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.CreateRepo("acme", "empty", nil); err != nil {
		t.Fatal(err)
	}
	runs := f.rc.events("check_run")
	var actions []string
	for _, r := range runs {
		actions = append(actions, r["action"].(string))
	}
	if want := []string{"created", "completed", "rerequested", "requested_action"}; !slices.Equal(actions, want) {
		t.Fatalf("check_run webhooks = %v, want %v", actions, want)
	}
	if runs[3]["requested_action"].(map[string]any)["identifier"] != "false_positive" {
		t.Errorf("requested_action = %v", runs[3]["requested_action"])
	}
	if ins := f.rc.events("installation"); len(ins) != 1 || ins[0]["action"] != "created" {
		t.Errorf("installation webhooks = %d", len(ins))
	}
	if _, err := f.srv.TriggerPullRequest("acme", "shop", 99, "synchronize"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown PR: %v", err)
	}
	if _, err := f.srv.TriggerRepositoriesAdded(f.inst, "empty"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a repository the installation does not cover added: %v", err)
	}
	if _, err := f.srv.TriggerRepositoriesAdded(f.inst, "shop"); err != nil {
		t.Fatal(err)
	}
	if added := f.rc.events("installation_repositories"); len(added) != 1 || added[0]["action"] != "added" ||
		added[0]["repositories_added"].([]any)[0].(map[string]any)["full_name"] != "acme/shop" {
		t.Errorf("installation_repositories webhooks = %v", added)
	}
	if v := f.srv.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestManifestAndRateLimit: the manifest conversion hands over the App's
// credentials once; every answer carries GitHub's rate-limit headers.
func TestManifestAndRateLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	anon := client(t, f.srv, http.DefaultTransport)
	code := f.srv.ManifestCode()
	cfg, _, err := anon.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	app := f.srv.App()
	if cfg.GetID() != app.ID || cfg.GetPEM() != string(app.PrivateKeyPEM) || cfg.GetWebhookSecret() != app.WebhookSecret || cfg.GetClientSecret() != app.ClientSecret {
		t.Error("manifest conversion did not return the App's credentials")
	}
	if _, _, err := anon.Apps.CompleteAppManifest(ctx, code); err == nil {
		t.Error("a manifest code worked twice")
	}
	_, resp, err := f.gh.Repositories.Get(ctx, "acme", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rate.Limit != 5000 || resp.Rate.Remaining >= 5000 || resp.Rate.Reset.IsZero() || resp.Header.Get("X-RateLimit-Resource") != "core" {
		t.Errorf("rate = %+v", resp.Rate)
	}
	rl, _, err := f.gh.RateLimit.Get(ctx)
	if err != nil || rl.GetCore().Limit != 5000 {
		t.Errorf("rate_limit = %v, %v", rl, err)
	}
}

// TestCheckSuiteRerequested: "Re-run all checks" on the App's suite sends a
// check_suite rerequested webhook that passes the webhook contract and
// names the head, its branch, the App, and the before and after of the
// push that brought the head; a head without the App's check run has no
// suite to re-run.
func TestCheckSuiteRerequested(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	token := f.token(t)
	dir := clone(t, f.srv, "acme", "shop", token)
	before := mustGit(t, dir, "rev-parse", "HEAD")
	writeFile(t, dir, "app/settings.env", "DEBUG=1\n")
	mustGit(t, dir, "add", "-A")
	mustGit(t, dir, "commit", "-q", "-m", "settings")
	mustGit(t, dir, "push", "-q", "origin", "HEAD:main")
	head := mustGit(t, dir, "rev-parse", "HEAD")
	if _, err := f.srv.TriggerCheckSuite("acme", "shop", head, "octocat"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a head without a check run: %v, want ErrNotFound", err)
	}
	if _, _, err := f.gh.Checks.CreateCheckRun(ctx, "acme", "shop", github.CreateCheckRunOptions{Name: "pushvault", HeadSHA: head,
		Conclusion: github.String("success"), Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.TriggerCheckSuite("acme", "shop", head, "octocat"); err != nil {
		t.Fatal(err)
	}
	suites := f.rc.events("check_suite")
	if len(suites) != 1 {
		t.Fatalf("%d check_suite webhooks, want 1", len(suites))
	}
	e := suites[0]
	cs := e["check_suite"].(map[string]any)
	got := []any{e["action"], cs["head_sha"], cs["head_branch"], cs["before"], cs["after"], cs["conclusion"],
		cs["app"].(map[string]any)["id"], e["sender"].(map[string]any)["login"], e["installation"].(map[string]any)["id"]}
	want := []any{"rerequested", head, "main", before, head, "success", float64(f.srv.App().ID), "octocat", float64(f.inst)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("check_suite webhook (-want +got):\n%s", diff)
	}
	if v := f.srv.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}
