package githubapp_test

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/gittest"
)

// A repository-scoped transport asks GitHub for a token limited to the one
// repository (repository_ids) and its contents permission; that token
// opens that repository and no other of the installation, over the API
// and over git, and a read token cannot push. One token request per
// scope: the transport is reused.
func TestRepoTransportScopesTheToken(t *testing.T) {
	srv := githubtest.New(t)
	for _, name := range []string{"shop", "billing"} {
		if err := srv.CreateRepo("acme", name, map[string]string{"README.md": name + "\n"}); err != nil {
			t.Fatal(err)
		}
	}
	inst := srv.Install("acme")
	app := srv.App()
	clients, err := githubapp.NewClients(githubapp.ClientsConfig{AppID: app.ID, PrivateKey: app.PrivateKeyPEM, APIURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gh, err := clients.Installation(inst)
	if err != nil {
		t.Fatal(err)
	}
	shop, _, err := gh.Repositories.Get(ctx, "acme", "shop")
	if err != nil {
		t.Fatal(err)
	}
	token := func(contents string) string {
		tr, err := clients.RepoTransport(githubapp.RepoScope{Installation: inst, RepoID: shop.GetID(), Repo: "shop", Contents: contents})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := tr.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	write := token("write")
	if again := token("write"); again != write {
		t.Errorf("a second transport of the same scope got another token")
	}
	want := []githubtest.TokenRequest{{InstallationID: inst, Repositories: []string{"acme/shop"}, Permissions: map[string]string{"contents": "write"}}}
	var scopedRequests []githubtest.TokenRequest
	for _, r := range srv.TokenRequests() {
		if r.Repositories != nil { // not the installation client's
			scopedRequests = append(scopedRequests, r)
		}
	}
	if diff := cmp.Diff(want, scopedRequests); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}

	scoped := github.NewClient(&http.Client{}).WithAuthToken(write)
	scoped.BaseURL = gh.BaseURL
	if _, _, err := scoped.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Errorf("the scoped token cannot read its repository: %v", err)
	}
	if _, resp, err := scoped.Repositories.Get(ctx, "acme", "billing"); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the scoped token on another repository: %v, want 404", err)
	}

	work := gittest.Clone(t, srv.AuthCloneURL("acme", "shop", write))
	work.Commit("", "edit", map[string]string{"README.md": "shop, edited\n"})
	work.Git("push", "-q", "origin", "HEAD:refs/heads/edit")
	if out, err := exec.Command("git", "ls-remote", srv.AuthCloneURL("acme", "billing", write)).CombinedOutput(); err == nil {
		t.Errorf("git fetched another repository with the scoped token:\n%s", out)
	}
	read := token("read")
	work.Git("remote", "set-url", "origin", srv.AuthCloneURL("acme", "shop", read))
	work.Git("fetch", "-q", "origin")
	if out, err := exec.Command("git", "-C", work.Dir, "push", "-q", "origin", "HEAD:refs/heads/other").CombinedOutput(); err == nil || !strings.Contains(string(out), "403") {
		t.Errorf("a read token pushed (%v):\n%s", err, out)
	}
}
