package githubtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestStory drives go-github v60 and ghinstallation through what the App
// does: token, clone, push (push webhook received, signature verified),
// a check run completed with 120 annotations sent in batches of 50, a
// branch and commit made through the git data API, a pull request opened
// and merged (the merge visible in a fresh clone), comments, an issue with
// a label, and a credential revoked and then refused.
func TestStory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	srv, gh := f.srv, f.gh

	// Token and app lookups.
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, srv.App().ID, srv.App().PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	appClient := client(t, srv, atr)
	app, _, err := appClient.Apps.Get(ctx, "")
	if err != nil || app.GetID() != srv.App().ID || app.GetSlug() != "pushvault" {
		t.Fatalf("GET /app = %v, %v", app, err)
	}
	in, _, err := appClient.Apps.FindRepositoryInstallation(ctx, "acme", "shop")
	if err != nil || in.GetID() != f.inst {
		t.Fatalf("repo installation = %v, %v", in, err)
	}
	repo, _, err := gh.Repositories.Get(ctx, "acme", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetDefaultBranch() != "main" || repo.GetCloneURL() != srv.CloneURL("acme", "shop") {
		t.Errorf("repo = %s %s", repo.GetDefaultBranch(), repo.GetCloneURL())
	}
	token := f.token(t)
	if !strings.HasPrefix(token, "ghs_") {
		t.Errorf("token %q lacks the ghs_ prefix", token[:4])
	}

	// Clone and push: the push webhook arrives signed and says what git did.
	dir := clone(t, srv, "acme", "shop", token)
	writeFile(t, dir, "app/settings.env", "DEBUG=1\n")
	writeFile(t, dir, "README.md", "# shop\n\nnow with settings\n")
	mustGit(t, dir, "rm", "-q", "app/config.yml")
	mustGit(t, dir, "add", "-A")
	mustGit(t, dir, "commit", "-q", "-m", "Add settings")
	before := mustGit(t, dir, "rev-parse", "HEAD~1")
	head := mustGit(t, dir, "rev-parse", "HEAD")
	mustGit(t, dir, "push", "-q", "origin", "main")
	pushes := f.rc.events("push")
	if len(pushes) != 1 {
		t.Fatalf("got %d push webhooks, want 1", len(pushes))
	}
	p := pushes[0]
	if p["before"] != before || p["after"] != head || p["ref"] != "refs/heads/main" || p["forced"] != false {
		t.Errorf("push = ref %v before %v after %v forced %v", p["ref"], p["before"], p["after"], p["forced"])
	}
	commits := p["commits"].([]any)
	if len(commits) != 1 {
		t.Fatalf("push commits = %d, want 1", len(commits))
	}
	c0 := commits[0].(map[string]any)
	got := map[string]any{"added": c0["added"], "modified": c0["modified"], "removed": c0["removed"]}
	want := map[string]any{"added": []any{"app/settings.env"}, "modified": []any{"README.md"}, "removed": []any{"app/config.yml"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("push commit files (-want +got):\n%s", d)
	}
	if inst := p["installation"].(map[string]any); int64(inst["id"].(float64)) != f.inst {
		t.Errorf("installation = %v", inst["id"])
	}

	// Check run: in progress, then 120 annotations in batches of 50, completed.
	cr, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "shop", github.CreateCheckRunOptions{
		Name: "pushvault", HeadSHA: head, Status: github.String("in_progress"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var anns []*github.CheckRunAnnotation
	for i := range 120 {
		anns = append(anns, &github.CheckRunAnnotation{Path: github.String("app/settings.env"),
			StartLine: github.Int(i + 1), EndLine: github.Int(i + 1), AnnotationLevel: github.String("failure"),
			Message: github.String(fmt.Sprintf("finding %d", i))})
	}
	for start := 0; start < len(anns); start += 50 {
		batch := anns[start:min(start+50, len(anns))]
		opts := github.UpdateCheckRunOptions{Name: "pushvault", Output: &github.CheckRunOutput{
			Title: github.String("3 secrets"), Summary: github.String("| what | where |"), Annotations: batch}}
		if start+50 >= len(anns) {
			opts.Status, opts.Conclusion = github.String("completed"), github.String("action_required")
		}
		if _, _, err := gh.Checks.UpdateCheckRun(ctx, "acme", "shop", cr.GetID(), opts); err != nil {
			t.Fatal(err)
		}
	}
	runs := srv.CheckRuns()
	if len(runs) != 1 || len(runs[0].Annotations) != 120 || runs[0].Requests != 4 ||
		runs[0].Conclusion != "action_required" || runs[0].Status != "completed" {
		t.Fatalf("check runs = %+v", runs)
	}
	var crActions []string
	for _, e := range f.rc.events("check_run") {
		crActions = append(crActions, e["action"].(string))
	}
	if !slices.Equal(crActions, []string{"created", "completed"}) {
		t.Errorf("check_run webhooks = %v", crActions)
	}
	list, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "shop", "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if list.GetTotal() != 1 || list.CheckRuns[0].GetOutput().GetAnnotationsCount() != 120 {
		t.Errorf("list for ref = %d runs", list.GetTotal())
	}

	// A branch and commit through the git data API.
	blob, _, err := gh.Git.CreateBlob(ctx, "acme", "shop", &github.Blob{Content: github.String("DEBUG=1\nSECRET=vault:secret/data/x#value\n"), Encoding: github.String("utf-8")})
	if err != nil {
		t.Fatal(err)
	}
	baseCommit, _, err := gh.Git.GetCommit(ctx, "acme", "shop", head)
	if err != nil {
		t.Fatal(err)
	}
	tree, _, err := gh.Git.CreateTree(ctx, "acme", "shop", baseCommit.GetTree().GetSHA(), []*github.TreeEntry{
		{Path: github.String("app/settings.env"), Mode: github.String("100644"), Type: github.String("blob"), SHA: blob.SHA}})
	if err != nil {
		t.Fatal(err)
	}
	fixCommit, _, err := gh.Git.CreateCommit(ctx, "acme", "shop", &github.Commit{Message: github.String("pushvault: vault the secret"),
		Tree: tree, Parents: []*github.Commit{{SHA: github.String(head)}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "shop", &github.Reference{Ref: github.String("refs/heads/pushvault/fix-" + head[:7]),
		Object: &github.GitObject{SHA: fixCommit.SHA}}); err != nil {
		t.Fatal(err)
	}
	ref, _, err := gh.Git.GetRef(ctx, "acme", "shop", "heads/pushvault/fix-"+head[:7])
	if err != nil || ref.GetObject().GetSHA() != fixCommit.GetSHA() {
		t.Fatalf("get ref = %v, %v", ref, err)
	}
	if n := len(f.rc.events("push")); n != 2 {
		t.Errorf("push webhooks after the API branch = %d, want 2", n)
	}

	// Pull request opened and merged for real.
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{Title: github.String("pushvault: 1 secret moved to Vault"),
		Head: github.String("pushvault/fix-" + head[:7]), Base: github.String("main"), Body: github.String("evidence table")})
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := gh.PullRequests.ListFiles(ctx, "acme", "shop", pr.GetNumber(), nil)
	if err != nil || len(files) != 1 || files[0].GetFilename() != "app/settings.env" || files[0].GetStatus() != "modified" {
		t.Fatalf("PR files = %v, %v", files, err)
	}
	open, _, err := gh.PullRequests.List(ctx, "acme", "shop", nil)
	if err != nil || len(open) != 1 {
		t.Fatalf("open PRs = %d, %v", len(open), err)
	}
	res, _, err := gh.PullRequests.Merge(ctx, "acme", "shop", pr.GetNumber(), "", nil)
	if err != nil || !res.GetMerged() {
		t.Fatalf("merge = %v, %v", res, err)
	}
	merged, _, err := gh.PullRequests.Get(ctx, "acme", "shop", pr.GetNumber())
	if err != nil || !merged.GetMerged() || merged.GetMergeCommitSHA() != res.GetSHA() || merged.GetState() != "closed" {
		t.Fatalf("merged PR = %v, %v", merged, err)
	}
	fresh := clone(t, srv, "acme", "shop", token)
	if got := mustGit(t, fresh, "rev-parse", "HEAD"); got != res.GetSHA() {
		t.Errorf("fresh clone HEAD = %s, want the merge %s", got, res.GetSHA())
	}
	if parents := strings.Fields(mustGit(t, fresh, "show", "-s", "--format=%P", "HEAD")); !slices.Equal(parents, []string{head, fixCommit.GetSHA()}) {
		t.Errorf("merge parents = %v", parents)
	}
	if got := mustGit(t, fresh, "show", "HEAD:app/settings.env"); !strings.Contains(got, "vault:secret/data/x#value") {
		t.Errorf("merged file = %q", got)
	}
	prs := f.rc.events("pull_request")
	if len(prs) != 2 || prs[0]["action"] != "opened" || prs[1]["action"] != "closed" ||
		prs[1]["pull_request"].(map[string]any)["merged"] != true {
		t.Errorf("pull_request webhooks = %d", len(prs))
	}

	// Comments, an issue and a label.
	if _, _, err := gh.Repositories.CreateComment(ctx, "acme", "shop", head, &github.RepositoryComment{
		Body: github.String("A secret was moved to Vault: see #1"), Path: github.String("app/settings.env"), Position: github.Int(1)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "shop", pr.GetNumber(), &github.IssueComment{Body: github.String("merged")}); err != nil {
		t.Fatal(err)
	}
	is, _, err := gh.Issues.Create(ctx, "acme", "shop", &github.IssueRequest{Title: github.String("Rotate the key by hand"), Labels: &[]string{"pushvault"}})
	if err != nil {
		t.Fatal(err)
	}
	// go-github v60's AddLabelsToIssue sends a bare array, which GitHub's
	// published description no longer allows (TestAddLabelsBareArray): send
	// the documented object.
	lreq, err := gh.NewRequest("POST", fmt.Sprintf("repos/acme/shop/issues/%d/labels", is.GetNumber()), map[string][]string{"labels": {"security"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Do(ctx, lreq, nil); err != nil {
		t.Fatal(err)
	}
	cms, _, err := gh.Repositories.ListCommitComments(ctx, "acme", "shop", head, nil)
	if err != nil || len(cms) != 1 {
		t.Fatalf("commit comments = %d, %v", len(cms), err)
	}
	comments := srv.Comments()
	if len(comments) != 2 || comments[0].Kind != "commit" || comments[0].CommitSHA != head || comments[1].Issue != pr.GetNumber() {
		t.Errorf("comments = %+v", comments)
	}
	if iss := srv.Issues(); len(iss) != 1 || !slices.Equal(iss[0].Labels, []string{"pushvault", "security"}) {
		t.Errorf("issues = %+v", iss)
	}

	// A credential revoked (unauthenticated, as github.com wants it), then
	// refused by REST and by git once GitHub's background revocation ran.
	anon := client(t, srv, http.DefaultTransport)
	req, err := anon.NewRequest("POST", "credentials/revoke", map[string][]string{"credentials": {token}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Do(ctx, req, nil); err != nil && !errors.As(err, new(*github.AcceptedError)) {
		t.Fatal(err)
	}
	if got := srv.RevokedCredentials(); !slices.Equal(got, []string{token}) {
		t.Errorf("revoked = %d values", len(got))
	}
	waitRefused(t, srv, token)
	_, _, err = gh.Repositories.Get(ctx, "acme", "shop")
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 401 {
		t.Errorf("REST with a revoked token: %v, want 401", err)
	}
	if _, err := gitCmd(t.TempDir(), "ls-remote", srv.AuthCloneURL("acme", "shop", token)); err == nil {
		t.Error("git with a revoked token succeeded")
	}
	if st, _ := rawRequest(t, srv, token, "GET", "/rate_limit", ""); st != 401 {
		t.Errorf("GET /rate_limit with a revoked token: %d, want 401", st)
	}
	st, body := rawRequest(t, srv, "", "GET", StatePath, "")
	if st != 200 || strings.Contains(string(body), token) || !strings.Contains(string(body), `"revoked_credentials": 1`) {
		t.Errorf("state: %d, holds the token: %v", st, strings.Contains(string(body), token))
	}
	if f.rc.bad != 0 {
		t.Errorf("%d deliveries failed signature checks", f.rc.bad)
	}
	if v := srv.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}
