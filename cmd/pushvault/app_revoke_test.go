package main_test

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/githubapp/githubtest"
)

// TestAppRevokesAsTheInstanceWants: a leaked GitHub token is revoked the
// way its instance documents POST /credentials/revoke — unauthenticated on
// github.com (the API at the root, which answers an authenticated request
// 403), with the installation's token on GitHub Enterprise Server (the API
// under /api/v3, which answers an unauthenticated one 401) — and then
// proven dead there by GET /user with the token alone: the secret is
// rotated, its exposed version destroyed, and the token opens nothing.
func TestAppRevokesAsTheInstanceWants(t *testing.T) {
	for _, tc := range []struct {
		name       string
		apiPath    string
		enterprise bool
	}{
		{"github.com", "/", false},
		{"GitHub Enterprise Server", "/api/v3/", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStandIn(t)
			e.serve = startApp(t, e.srv, e.serveVault, e.data, "", "", "PUSHVAULT_GITHUB_API_URL="+e.srv.URL+tc.apiPath)
			e.srv.SetWebhookURL("http://" + e.serve.addr + "/webhook")
			ghToken, err := e.srv.UserToken("acme", "ghp_")
			if err != nil {
				t.Fatal(err)
			}
			work := e.clone(t)
			head := work.Commit("dev <dev@acme.test>", "deploy script", map[string]string{
				"deploy.py": "import os\n\nGITHUB_TOKEN = \"" + ghToken + "\"\n",
			})
			work.Git("push", "origin", "HEAD:main")

			run := e.completedRun(t, head)
			if run.Conclusion != "action_required" {
				t.Fatalf("check run concluded %q:\n%s\n%s", run.Conclusion, run.Summary, e.serve.logs)
			}
			want := []githubtest.Revocation{{Credential: ghToken, Enterprise: tc.enterprise}}
			if tc.enterprise {
				want[0].InstallationID = e.inst
			}
			if got := e.srv.Revocations(); len(got) != 1 || got[0] != want[0] {
				t.Fatalf("revocations %d, want the token once (enterprise %v, by installation %d); check run:\n%s\n%s",
					len(got), want[0].Enterprise, want[0].InstallationID, run.Summary, e.serve.logs)
			}
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+tc.apiPath+"user", nil)
			req.Header.Set("Authorization", "Bearer "+ghToken)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /user with the revoked token: %v %v, want 401", resp, err)
			} else {
				resp.Body.Close()
			}
			if err := exec.Command("git", "-c", "http.extraHeader=Authorization: Basic "+basicAuth(ghToken), "ls-remote", e.srv.CloneURL("acme", "shop")).Run(); err == nil {
				t.Error("the leaked GitHub token still opens the repository")
			}
			if !strings.Contains(run.Summary, "rotated by github_token; exposed value proven dead; exposed version destroyed") {
				t.Errorf("the summary does not say the token was revoked and its exposed version destroyed:\n%s", run.Summary)
			}
			noPlantedValue(t, []string{ghToken}, nil, append(e.githubTexts(), e.serve.logs.String()))
		})
	}
}
