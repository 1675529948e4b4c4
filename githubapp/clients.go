package githubapp

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
	// ghinstallation's token options are go-github v69's types.
	ghtoken "github.com/google/go-github/v69/github"
)

// DefaultAPIURL is github.com's REST API.
const DefaultAPIURL = "https://api.github.com/"

// ClientsConfig is how the app authenticates to GitHub.
type ClientsConfig struct {
	AppID      int64
	PrivateKey []byte // PEM, PKCS#1 or PKCS#8 RSA
	// APIURL is the REST API's base: DefaultAPIURL for github.com,
	// https://HOST/api/v3/ for GitHub Enterprise Server.
	APIURL   string
	Observer CallObserver // may be nil
	Log      *slog.Logger // may be nil
}

// Clients makes go-github clients that act as the app (JWT) or as one of its
// installations (installation token). Installation tokens are fetched by
// ghinstallation on first use and kept until a minute before they expire;
// one transport per installation is kept for the life of Clients, so every
// client of an installation shares its token. Every request goes through a
// RateLimitTransport. Safe for concurrent use.
type Clients struct {
	apps    *ghinstallation.AppsTransport
	apiURL  *url.URL
	upload  *url.URL
	mu      sync.Mutex
	byInst  map[int64]*ghinstallation.Transport
	byScope map[RepoScope]*ghinstallation.Transport
	limiter *RateLimitTransport
}

// NewClients checks the configuration (app id, a parseable RSA key, an
// http(s) API URL) and returns the factory. It makes no request.
func NewClients(cfg ClientsConfig) (*Clients, error) {
	if cfg.AppID <= 0 {
		return nil, errors.New("github app id: must be a positive number")
	}
	if err := checkPrivateKey(cfg.PrivateKey); err != nil {
		return nil, err
	}
	api := cfg.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("github api url %q: not an http(s) URL", api)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	limiter := &RateLimitTransport{Base: newTransport(), Observer: cfg.Observer, Log: cfg.Log}
	apps, err := ghinstallation.NewAppsTransport(limiter, cfg.AppID, cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("github app private key: %w", err)
	}
	apps.BaseURL = strings.TrimSuffix(u.String(), "/")
	return &Clients{apps: apps, apiURL: u, upload: uploadURL(u), byInst: map[int64]*ghinstallation.Transport{},
		byScope: map[RepoScope]*ghinstallation.Transport{}, limiter: limiter}, nil
}

// MaxIdleConnsPerHost is how many idle connections to the GitHub API
// Clients keeps. http.DefaultTransport keeps 2 per host: with more workers
// calling GitHub at once, nearly every call past the second dialled (and on
// github.com, TLS-handshook) a new connection, and the old one was closed.
const MaxIdleConnsPerHost = 32

// newTransport is the connection pool every request of one Clients shares:
// http.DefaultTransport's settings (proxy from the environment, dial and
// TLS handshake timeouts, HTTP/2) with MaxIdleConnsPerHost idle
// connections kept per host.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	return t
}

// checkPrivateKey says what is wrong with a key without echoing any of it.
func checkPrivateKey(key []byte) error {
	block, _ := pem.Decode(key)
	if block == nil {
		return errors.New("github app private key: not PEM")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	return fmt.Errorf("github app private key: PEM block %q is not an RSA private key", block.Type)
}

// uploadURL is uploads.github.com for github.com, HOST/api/uploads/ for
// GHES, and the API URL itself elsewhere (test servers).
func uploadURL(api *url.URL) *url.URL {
	u := *api
	switch {
	case api.Host == "api.github.com":
		u.Host, u.Path = "uploads.github.com", "/"
	case IsEnterprise(api):
		u.Path = strings.TrimSuffix(api.Path, "v3/") + "uploads/"
	}
	return &u
}

// RequestTimeout bounds each request to GitHub's API, reading the answer
// included (installation tokens are fetched within it): an API that stops
// answering fails the request, which is retried with the delivery, rather
// than holding a worker.
const RequestTimeout = time.Minute

// NewHTTPClient is an http.Client over rt (nil: http.DefaultTransport)
// bounded by RequestTimeout.
func NewHTTPClient(rt http.RoundTripper) *http.Client {
	return &http.Client{Transport: rt, Timeout: RequestTimeout}
}

func (c *Clients) client(rt http.RoundTripper) *github.Client {
	gc := github.NewClient(NewHTTPClient(rt))
	gc.BaseURL = c.apiURL
	gc.UploadURL = c.upload
	return gc
}

// App returns a client authenticated as the app itself (a JWT), for the
// /app endpoints.
func (c *Clients) App() *github.Client { return c.client(c.apps) }

// Installation returns a client authenticated as installation id.
func (c *Clients) Installation(id int64) (*github.Client, error) {
	if id <= 0 {
		return nil, fmt.Errorf("github installation id %d: must be positive", id)
	}
	c.mu.Lock()
	tr, ok := c.byInst[id]
	if !ok {
		tr = ghinstallation.NewFromAppsTransport(c.apps, id)
		c.byInst[id] = tr
	}
	c.mu.Unlock()
	return c.client(tr), nil
}

// RepoScope is what an installation token is asked for when it leaves
// the process (git sends it to the GitHub host): one repository, by id
// (or, when the id is unknown, by name), and one permission on its
// contents, "read" or "write". A token leaked from a git process then
// opens that one repository for that one purpose, not every repository of
// the installation with every permission the App has.
type RepoScope struct {
	Installation int64
	RepoID       int64
	Repo         string // the repository's name, without its owner
	Contents     string // "read" or "write"
}

// tokenOptions is the access-token request's body for s.
func (s RepoScope) tokenOptions() *ghtoken.InstallationTokenOptions {
	o := &ghtoken.InstallationTokenOptions{Permissions: &ghtoken.InstallationPermissions{Contents: &s.Contents}}
	if s.RepoID != 0 {
		o.RepositoryIDs = []int64{s.RepoID}
	} else {
		o.Repositories = []string{s.Repo}
	}
	return o
}

// RepoTransport returns the transport whose tokens have scope s (asked
// with repository_ids and permissions on the access-token request), one
// per scope for the life of Clients, so its token is reused until it
// nears expiry.
func (c *Clients) RepoTransport(s RepoScope) (*ghinstallation.Transport, error) {
	if s.Installation <= 0 {
		return nil, fmt.Errorf("github installation id %d: must be positive", s.Installation)
	}
	if s.RepoID == 0 && s.Repo == "" {
		return nil, errors.New("github repository scope: neither an id nor a name")
	}
	if s.Contents != "read" && s.Contents != "write" {
		return nil, fmt.Errorf("github contents permission %q: want read or write", s.Contents)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	tr, ok := c.byScope[s]
	if !ok {
		tr = ghinstallation.NewFromAppsTransport(c.apps, s.Installation)
		tr.InstallationTokenOptions = s.tokenOptions()
		c.byScope[s] = tr
	}
	return tr, nil
}
