package githubapp_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
)

func manifest(t *testing.T) *githubapp.Manifest {
	t.Helper()
	data, err := os.ReadFile("../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := githubapp.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var formRE = regexp.MustCompile(`action="([^"]+)"[\s\S]*name="manifest" value="([^"]+)"`)

// TestSetupManifestFlow plays the browser and GitHub's web side: it loads
// the setup page, checks the form it would post, then follows GitHub's
// redirect back with a code the stand-in converts.
func TestSetupManifestFlow(t *testing.T) {
	srv := githubtest.New(t)
	out := filepath.Join(t.TempDir(), "creds")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pages := make(chan string, 1)
	type result struct {
		res *githubapp.SetupResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := githubapp.Setup(ctx, githubapp.SetupOptions{
			Manifest: manifest(t), WebURL: "https://github.example", APIURL: srv.URL, Org: "acme",
			WebhookURL: "https://pushvault.acme.example/webhook", OutDir: out,
		}, func(u string) { pages <- u })
		done <- result{res, err}
	}()
	page := <-pages
	body := get(t, page, http.StatusOK)
	m := formRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("setup page has no manifest form:\n%s", body)
	}
	action, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if action.Host != "github.example" || action.Path != "/organizations/acme/settings/apps/new" {
		t.Errorf("form posts to %s, want GitHub's organisation app page", action)
	}
	var posted githubapp.Manifest
	if err := json.Unmarshal([]byte(html.UnescapeString(m[2])), &posted); err != nil {
		t.Fatalf("manifest field: %v", err)
	}
	if posted.HookAttributes.URL != "https://pushvault.acme.example/webhook" || !strings.HasPrefix(posted.RedirectURL, strings.TrimSuffix(page, "/")) {
		t.Errorf("posted manifest hook %q redirect %q", posted.HookAttributes.URL, posted.RedirectURL)
	}
	state := action.Query().Get("state")

	// A callback with another state is refused and changes nothing.
	get(t, posted.RedirectURL+"?code="+srv.ManifestCode()+"&state=forged", http.StatusBadRequest)
	// GitHub's redirect.
	get(t, posted.RedirectURL+"?code="+srv.ManifestCode()+"&state="+url.QueryEscape(state), http.StatusOK)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	app := srv.App()
	if r.res.AppID != app.ID || r.res.Slug != app.Slug {
		t.Errorf("result %+v, want app %d %s", r.res, app.ID, app.Slug)
	}
	for path, want := range map[string]string{r.res.PrivateKeyFile: string(app.PrivateKeyPEM), r.res.WebhookSecretFile: app.WebhookSecret, r.res.ClientSecretFile: app.ClientSecret} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", path, fi.Mode().Perm())
		}
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("%s does not hold the app's credential", filepath.Base(path))
		}
	}
	meta, err := os.ReadFile(filepath.Join(out, githubapp.SetupAppFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{string(app.PrivateKeyPEM), app.WebhookSecret, app.ClientSecret} {
		if strings.Contains(string(meta), secret) || strings.Contains(body, secret) {
			t.Errorf("%s or the setup page holds a secret", githubapp.SetupAppFile)
		}
	}
}

func TestSetupBadCodeFails(t *testing.T) {
	srv := githubtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pages := make(chan string, 1)
	errs := make(chan error, 1)
	go func() {
		_, err := githubapp.Setup(ctx, githubapp.SetupOptions{Manifest: manifest(t), WebURL: "https://github.example", APIURL: srv.URL, OutDir: t.TempDir()},
			func(u string) { pages <- u })
		errs <- err
	}()
	page := <-pages
	m := formRE.FindStringSubmatch(get(t, page, http.StatusOK))
	action, _ := url.Parse(html.UnescapeString(m[1]))
	get(t, strings.TrimSuffix(page, "/")+"/setup/callback?code=unknown&state="+url.QueryEscape(action.Query().Get("state")), http.StatusBadGateway)
	if err := <-errs; err == nil || !strings.Contains(err.Error(), "convert the manifest code") {
		t.Errorf("Setup with a code GitHub refuses = %v", err)
	}
}

func get(t *testing.T, u string, want int) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", u, resp.StatusCode, want, b)
	}
	return string(b)
}
