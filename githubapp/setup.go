package githubapp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// SetupOptions configures the manifest flow of `pushvault setup`.
type SetupOptions struct {
	Manifest *Manifest
	// WebURL is GitHub's web address: https://github.com, or a GitHub
	// Enterprise Server's https://HOST.
	WebURL string
	// APIURL is GitHub's REST address: https://api.github.com/, or
	// https://HOST/api/v3/ on GHES.
	APIURL string
	// Org registers the app under an organisation; empty registers it under
	// the signed-in user.
	Org string
	// WebhookURL, when set, replaces the manifest's hook_attributes.url.
	WebhookURL string
	// Listen is the local address of the setup page (default 127.0.0.1:0).
	Listen string
	// OutDir receives the credentials (created 0700; files 0600).
	OutDir string
	// HTTPClient talks to GitHub's API (default http.DefaultClient).
	HTTPClient *http.Client
}

// SetupResult is what the flow stored. It holds file names, not secrets.
type SetupResult struct {
	AppID             int64  `json:"app_id"`
	Slug              string `json:"slug"`
	HTMLURL           string `json:"html_url"`
	ClientID          string `json:"client_id"`
	PrivateKeyFile    string `json:"private_key_file"`
	WebhookSecretFile string `json:"webhook_secret_file"`
	ClientSecretFile  string `json:"client_secret_file"`
}

// Credential file names under SetupOptions.OutDir.
const (
	SetupAppFile           = "github-app.json"
	SetupPrivateKeyFile    = "github-app.private-key.pem"
	SetupWebhookSecretFile = "github-app.webhook-secret"
	SetupClientSecretFile  = "github-app.client-secret"
)

// Setup runs GitHub's app-manifest flow: it serves a local page that posts
// the manifest to GitHub, waits for GitHub to redirect back with a code,
// converts the code into the new app's credentials
// (POST /app-manifests/{code}/conversions) and stores them in OutDir.
// ready is called with the page's URL once it is listening: the user opens
// it in a browser signed in to GitHub. Setup returns when the app is stored,
// the flow fails, or ctx ends.
func Setup(ctx context.Context, opts SetupOptions, ready func(pageURL string)) (*SetupResult, error) {
	if opts.Manifest == nil {
		return nil, errors.New("setup: no manifest")
	}
	web, err := url.Parse(strings.TrimRight(opts.WebURL, "/"))
	if err != nil || (web.Scheme != "https" && web.Scheme != "http") || web.Host == "" {
		return nil, fmt.Errorf("setup: GitHub web URL must be an http(s) URL, got %q", opts.WebURL)
	}
	if opts.OutDir == "" {
		return nil, errors.New("setup: no directory to store the credentials in")
	}
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("setup: listen on %s: %w", listen, err)
	}
	state, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	m := *opts.Manifest
	m.RedirectURL = base + "/setup/callback"
	if opts.WebhookURL != "" {
		m.HookAttributes.URL = opts.WebhookURL
	}
	if err := m.Validate(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("setup: %w", err)
	}
	manifestJSON, err := json.Marshal(m)
	if err != nil {
		ln.Close()
		return nil, err
	}
	target := web.String() + "/settings/apps/new"
	if opts.Org != "" {
		target = web.String() + "/organizations/" + url.PathEscape(opts.Org) + "/settings/apps/new"
	}
	target += "?state=" + state

	gh, err := apiClient(opts.APIURL, opts.HTTPClient)
	if err != nil {
		ln.Close()
		return nil, err
	}
	type outcome struct {
		res *SetupResult
		err error
	}
	done := make(chan outcome, 1)
	finish := func(o outcome) {
		select {
		case done <- o:
		default:
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		setupPage.Execute(w, map[string]string{"Action": target, "Manifest": string(manifestJSON), "Name": m.Name})
	})
	mux.HandleFunc("GET /setup/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			http.Error(w, "pushvault setup: this callback does not belong to this setup (state mismatch)", http.StatusBadRequest)
			return
		}
		code := q.Get("code")
		if code == "" {
			http.Error(w, "pushvault setup: GitHub sent no code", http.StatusBadRequest)
			return
		}
		res, err := convert(r.Context(), gh, code, opts.OutDir)
		if err != nil {
			http.Error(w, "pushvault setup failed: "+err.Error(), http.StatusBadGateway)
			finish(outcome{err: err})
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		donePage.Execute(w, res)
		finish(outcome{res: res})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if ready != nil {
		ready(base + "/")
	}
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return nil, fmt.Errorf("setup: %w", ctx.Err())
	}
}

func apiClient(apiURL string, hc *http.Client) (*github.Client, error) {
	gh := github.NewClient(hc)
	if apiURL == "" {
		return gh, nil
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("setup: GitHub API URL must be an http(s) URL, got %q", apiURL)
	}
	gh.BaseURL = u
	return gh, nil
}

// convert exchanges the manifest code for the app's credentials and stores
// them; the secrets go to files only, never into the returned errors.
func convert(ctx context.Context, gh *github.Client, code, dir string) (*SetupResult, error) {
	cfg, _, err := gh.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("convert the manifest code: %w", err)
	}
	if cfg.GetID() == 0 || cfg.GetPEM() == "" || cfg.GetWebhookSecret() == "" {
		return nil, errors.New("convert the manifest code: GitHub's answer lacks the app id, private key or webhook secret")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store credentials: %w", err)
	}
	res := &SetupResult{
		AppID: cfg.GetID(), Slug: cfg.GetSlug(), HTMLURL: cfg.GetHTMLURL(), ClientID: cfg.GetClientID(),
		PrivateKeyFile:    filepath.Join(dir, SetupPrivateKeyFile),
		WebhookSecretFile: filepath.Join(dir, SetupWebhookSecretFile),
		ClientSecretFile:  filepath.Join(dir, SetupClientSecretFile),
	}
	files := []struct {
		path string
		data string
	}{
		{res.PrivateKeyFile, cfg.GetPEM()},
		{res.WebhookSecretFile, cfg.GetWebhookSecret()},
		{res.ClientSecretFile, cfg.GetClientSecret()},
	}
	for _, f := range files {
		if err := writeSecretFile(f.path, []byte(f.data)); err != nil {
			return nil, err
		}
	}
	meta, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeSecretFile(filepath.Join(dir, SetupAppFile), append(meta, '\n')); err != nil {
		return nil, err
	}
	return res, nil
}

// writeSecretFile writes data to path with mode 0600 through a temporary
// file, so a reader never sees half a key.
func writeSecretFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("store %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("store %s: %w", filepath.Base(path), err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("store %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("store %s: %w", filepath.Base(path), err)
	}
	return nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("setup: random state: %w", err)
	}
	return hex.EncodeToString(b), nil
}

var setupPage = template.Must(template.New("setup").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Register {{.Name}} on GitHub</title></head>
<body>
<h1>Register {{.Name}} as a GitHub App</h1>
<p>This sends pushvault's app manifest to GitHub. GitHub asks you to confirm, then sends you back here and pushvault stores the new app's credentials.</p>
<form id="register" method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit">Create the GitHub App</button>
</form>
</body></html>
`))

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>pushvault is registered</title></head>
<body>
<h1>GitHub App {{.Slug}} (id {{.AppID}}) is registered</h1>
<p>Its private key and webhook secret are stored next to {{.PrivateKeyFile}}. Install the app on your repositories from <a href="{{.HTMLURL}}">{{.HTMLURL}}</a>, then start <code>pushvault serve</code>.</p>
<p>You can close this page.</p>
</body></html>
`))
