// Command standin runs the GitHub stand-in (githubapp/githubtest) as its
// own process, for `make demo` and for trying the App by hand:
//
//	go run ./internal/cmd/standin [-addr 127.0.0.1:0] [-data DIR] [-webhook-url URL] [-repo owner/name ...]
//	    [-role owner/name:login=role ...]
//
// -role gives a user a repository role (read, triage, write, maintain,
// admin) as the collaborator-permission API reports it; everyone else holds
// none. It prints one JSON line on stdout — the base URL, the App's id, slug,
// webhook secret, client id, the path of its private key (written under
// the data directory, mode 0600), and each installation with its
// repositories — then serves until SIGINT or SIGTERM. Every contract
// violation is logged to stderr as JSON; the process exits 1 when there
// were any. GET /_standin/state shows check runs, pull requests, comments,
// issues and deliveries as JSON. Without -data it works in a temporary directory removed on
// exit.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pushvault/pushvault/githubapp/githubtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
}

type repoList []string

func (r *repoList) String() string { return strings.Join(*r, ",") }

func (r *repoList) Set(v string) error {
	owner, name, ok := strings.Cut(v, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("want owner/name, got %q", v)
	}
	*r = append(*r, v)
	return nil
}

// roleList is the -role flag's grants, checked when the flag is parsed.
type roleList []roleGrant

type roleGrant struct{ owner, repo, login, role string }

func (r *roleList) String() string { return fmt.Sprint(len(*r), " roles") }

func (r *roleList) Set(v string) error {
	repo, grant, ok := strings.Cut(v, ":")
	owner, name, ok2 := strings.Cut(repo, "/")
	login, role, ok3 := strings.Cut(grant, "=")
	if !ok || !ok2 || !ok3 || owner == "" || name == "" || login == "" || role == "" {
		return fmt.Errorf("want owner/name:login=role, got %q", v)
	}
	*r = append(*r, roleGrant{owner, name, login, role})
	return nil
}

// Info is the JSON line the process prints once it is serving.
type Info struct {
	URL            string         `json:"url"`
	AppID          int64          `json:"app_id"`
	AppSlug        string         `json:"app_slug"`
	ClientID       string         `json:"client_id"`
	PrivateKeyPath string         `json:"private_key_path"`
	WebhookSecret  string         `json:"webhook_secret"`
	Installations  []Installation `json:"installations"`
	// InstallationID is the first installation's id (the common case of one).
	InstallationID int64 `json:"installation_id,omitempty"`
}

// Installation is one installation and the clone URLs of its repositories.
type Installation struct {
	ID      int64    `json:"id"`
	Account string   `json:"account"`
	Repos   []string `json:"repos"`
	Clone   []string `json:"clone_urls"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	data := fs.String("data", "", "data directory (repositories, app key); a temporary one when empty")
	hook := fs.String("webhook-url", "", "where webhooks are delivered")
	ttl := fs.Duration("token-ttl", time.Hour, "installation token lifetime")
	var repos repoList
	fs.Var(&repos, "repo", "repository to create as owner/name (repeatable); the App is installed on each owner")
	var roles roleList
	fs.Var(&roles, "role", "a user's role on a repository as owner/name:login=role (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "standin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	srv, err := githubtest.Start(*addr, dir, log, githubtest.WithWebhookURL(*hook), githubtest.WithTokenTTL(*ttl))
	if err != nil {
		return err
	}
	defer srv.Close()

	owners := map[string][]string{}
	for _, r := range repos {
		owner, name, _ := strings.Cut(r, "/")
		if err := srv.CreateRepo(owner, name, map[string]string{"README.md": "# " + name + "\n"}); err != nil {
			return err
		}
		owners[owner] = append(owners[owner], name)
	}
	for _, g := range roles {
		if err := srv.SetRole(g.owner, g.repo, g.login, g.role); err != nil {
			return fmt.Errorf("-role: %w", err)
		}
	}
	app := srv.App()
	keyPath := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyPath, app.PrivateKeyPEM, 0o600); err != nil {
		return fmt.Errorf("write the App's key: %w", err)
	}
	info := Info{URL: srv.URL, AppID: app.ID, AppSlug: app.Slug, ClientID: app.ClientID,
		PrivateKeyPath: keyPath, WebhookSecret: app.WebhookSecret, Installations: []Installation{}}
	names := make([]string, 0, len(owners))
	for o := range owners {
		names = append(names, o)
	}
	sort.Strings(names)
	for _, o := range names {
		in := Installation{ID: srv.Install(o), Account: o}
		for _, r := range owners[o] {
			in.Repos = append(in.Repos, o+"/"+r)
			in.Clone = append(in.Clone, srv.CloneURL(o, r))
		}
		info.Installations = append(info.Installations, in)
	}
	if len(info.Installations) > 0 {
		info.InstallationID = info.Installations[0].ID
	}
	line, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	log.Info("serving", "url", srv.URL)
	<-ctx.Done()
	if n := len(srv.Violations()); n > 0 {
		return fmt.Errorf("%d contract violations (logged above)", n)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}
