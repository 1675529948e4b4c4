package githubapp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/golden"
	"github.com/pushvault/pushvault/scanner"
)

// standIn is the GitHub stand-in with one installed repository, acme/shop,
// and a go-github client for the installation.
func standIn(t *testing.T, files map[string]string) (*githubtest.Server, *github.Client) {
	t.Helper()
	srv := githubtest.New(t)
	if err := srv.CreateRepo("acme", "shop", files); err != nil {
		t.Fatal(err)
	}
	inst := srv.Install("acme")
	app := srv.App()
	tr, err := ghinstallation.New(http.DefaultTransport, app.ID, inst, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = srv.URL
	gh := github.NewClient(&http.Client{Transport: tr})
	gh.BaseURL, _ = url.Parse(srv.URL + "/")
	return srv, gh
}

func head(t *testing.T, gh *github.Client, owner, repo, branch string) string {
	t.Helper()
	ref, _, err := gh.Git.GetRef(context.Background(), owner, repo, "heads/"+branch)
	if err != nil {
		t.Fatal(err)
	}
	return ref.GetObject().GetSHA()
}

func TestChecksCompleteSendsAnnotationsInBatches(t *testing.T) {
	srv, gh := standIn(t, map[string]string{"README.md": "shop\n"})
	ctx := context.Background()
	sha := head(t, gh, "acme", "shop", "main")
	o := sampleOutcome()
	o.HeadSHA = sha
	var locs []scanner.Location
	for i := range 120 {
		locs = append(locs, scanner.Location{Commit: sha, Path: "config/app.yml", Line: i + 1})
	}
	o.Secrets[0].Locations = locs
	o.Secrets = o.Secrets[:1]

	checks := githubapp.NewChecks(gh)
	id, err := checks.Start(ctx, "acme", "shop", sha, "delivery-1")
	if err != nil {
		t.Fatal(err)
	}
	if done, err := checks.Completed(ctx, "acme", "shop", id); err != nil || done {
		t.Fatalf("Completed before Complete = %v, %v; want false", done, err)
	}
	if err := checks.Complete(ctx, id, o); err != nil {
		t.Fatal(err)
	}
	runs := srv.CheckRuns()
	if len(runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(runs))
	}
	r := runs[0]
	if r.Name != "pushvault" || r.Status != "completed" || r.Conclusion != "action_required" || r.ExternalID != "delivery-1" {
		t.Errorf("check run = %s %s/%s external %q", r.Name, r.Status, r.Conclusion, r.ExternalID)
	}
	if len(r.Annotations) != 120 {
		t.Errorf("%d annotations, want 120", len(r.Annotations))
	}
	if r.Requests != 4 { // create + 50 + 50 + 20
		t.Errorf("%d requests, want 4 (create, then batches of 50, 50, 20)", r.Requests)
	}
	var ids []string
	for _, a := range r.Actions {
		ids = append(ids, a.Identifier)
	}
	if want := []string{githubapp.ActionRescan, githubapp.ActionFalsePositive, githubapp.ActionRescanHistory}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("actions = %q, want %q", ids, want)
	}
	if done, err := checks.Completed(ctx, "acme", "shop", id); err != nil || !done {
		t.Errorf("Completed = %v, %v; want true", done, err)
	}
	found, ok, err := checks.Find(ctx, "acme", "shop", sha, "delivery-1")
	if err != nil || !ok || found != id {
		t.Errorf("Find = %d, %v, %v; want %d", found, ok, err, id)
	}
	if _, ok, err := checks.Find(ctx, "acme", "shop", sha, "delivery-2"); err != nil || ok {
		t.Errorf("Find(other delivery) = %v, %v; want not found", ok, err)
	}
}

// pushFixBranch makes a branch with one more commit through the contents API.
func pushFixBranch(t *testing.T, gh *github.Client, branch string) {
	t.Helper()
	ctx := context.Background()
	sha := head(t, gh, "acme", "shop", "main")
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "shop", &github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)}}); err != nil {
		t.Fatal(err)
	}
	_, _, err := gh.Repositories.CreateFile(ctx, "acme", "shop", "vault.env", &github.RepositoryContentFileOptions{
		Message: github.String("pushvault fix"), Content: []byte("STRIPE_API_KEY=vault:secret/data/pushvault/acme/shop/stripe_api_key#value\n"), Branch: github.String(branch),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPullRequestOpenedOnce(t *testing.T) {
	srv, gh := standIn(t, map[string]string{"README.md": "shop\n"})
	o := sampleOutcome()
	o.PR = nil
	pushFixBranch(t, gh, "pushvault/fix-0123456")
	prs := githubapp.NewPullRequests(gh)
	first, err := prs.Open(context.Background(), o, "pushvault/fix-0123456", "main")
	if err != nil {
		t.Fatal(err)
	}
	again, err := prs.Open(context.Background(), o, "pushvault/fix-0123456", "main")
	if err != nil {
		t.Fatal(err)
	}
	if *first != *again {
		t.Errorf("second Open = %+v, want the first PR %+v", again, first)
	}
	got := srv.PullRequests()
	if len(got) != 1 {
		t.Fatalf("%d pull requests, want 1", len(got))
	}
	if body, _ := githubapp.PRBody(o); got[0].Body != body || got[0].Head != "pushvault/fix-0123456" || got[0].Base != "main" {
		t.Errorf("pull request = %+v", got[0])
	}
}

func TestCommitCommentsOncePerCommit(t *testing.T) {
	srv, gh := standIn(t, map[string]string{"README.md": "shop\n"})
	sha := head(t, gh, "acme", "shop", "main")
	o := sampleOutcome()
	for i := range o.Secrets {
		for j := range o.Secrets[i].Locations {
			o.Secrets[i].Locations[j].Commit = sha
		}
	}
	c := githubapp.NewComments(gh)
	for range 2 {
		if err := c.CommitComments(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.Comments()
	if len(got) != 1 {
		t.Fatalf("%d comments, want 1 (one commit, commented once)", len(got))
	}
	if got[0].CommitSHA != sha || !strings.Contains(got[0].Body, "#8") || !strings.Contains(got[0].Body, "`config/app.yml:4`") {
		t.Errorf("comment = %+v", got[0])
	}
	o.PR = nil
	if err := c.CommitComments(context.Background(), o); err == nil {
		t.Error("CommitComments without a PR: no error")
	}
}

func TestLoadSettingsFallsBackToTheOrg(t *testing.T) {
	ctx := context.Background()
	repoCfg := "allow:\n  paths: [\"docs/**\"]\n"
	orgCfg := "allow:\n  detectors: [\"URI\"]\n"
	for _, tc := range []struct {
		name       string
		repo, org  map[string]string
		want, from string
	}{
		{"repository file", map[string]string{".github/pushvault.yml": repoCfg}, map[string]string{"pushvault.yml": "x"}, repoCfg, "acme/shop@"},
		{"organisation file", map[string]string{"README.md": "shop\n"}, map[string]string{".github/pushvault.yml": orgCfg}, orgCfg, "acme/.github:"},
		{"neither", map[string]string{"README.md": "shop\n"}, map[string]string{"README.md": "org\n"}, "", ""},
		{"no org repository", map[string]string{"README.md": "shop\n"}, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, gh := standIn(t, tc.repo)
			if tc.org != nil {
				if err := srv.CreateRepo("acme", ".github", tc.org); err != nil {
					t.Fatal(err)
				}
			}
			sha := head(t, gh, "acme", "shop", "main")
			got, err := githubapp.LoadSettings(ctx, gh, "acme", "shop", sha, ".github/pushvault.yml")
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Data) != tc.want || !strings.HasPrefix(got.Source, tc.from) {
				t.Errorf("LoadSettings = %q from %q, want %q from %q…", got.Data, got.Source, tc.want, tc.from)
			}
		})
	}
	t.Run("GitHub failing is an error", func(t *testing.T) {
		srv, gh := standIn(t, map[string]string{"README.md": "shop\n"})
		sha := head(t, gh, "acme", "shop", "main")
		srv.Fault(githubtest.Fault{Operation: "repos/get-content", Kind: githubtest.ServerError, Status: 502, Count: 1})
		if _, err := githubapp.LoadSettings(ctx, gh, "acme", "shop", sha, ".github/pushvault.yml"); err == nil || !strings.Contains(err.Error(), "502") {
			t.Errorf("LoadSettings with GitHub failing = %v, want the 502", err)
		}
	})
}

func TestRotationIssueOpenedOnce(t *testing.T) {
	srv, gh := standIn(t, map[string]string{"README.md": "shop\n"})
	o := sampleOutcome()
	r := githubapp.Rotation{Secret: o.Secrets[0], Guide: "https://howtorotate.com/docs/tutorials/stripe/",
		Steps: []string{"Roll the key in the Stripe dashboard.", "Store the new key in Vault."}}
	is := githubapp.NewIssues(gh)
	first, err := is.OpenRotation(context.Background(), o, r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := is.OpenRotation(context.Background(), o, r)
	if err != nil {
		t.Fatal(err)
	}
	if first.Number != again.Number {
		t.Errorf("second OpenRotation opened #%d, want #%d", again.Number, first.Number)
	}
	issues := srv.Issues()
	if len(issues) != 1 {
		t.Fatalf("%d issues, want 1", len(issues))
	}
	golden.Assert(t, "githubapp/rotation_issue.md", issues[0].Body)
	if len(issues[0].Labels) != 1 || issues[0].Labels[0] != githubapp.RotationLabel {
		t.Errorf("labels %v, want %q", issues[0].Labels, githubapp.RotationLabel)
	}
}
