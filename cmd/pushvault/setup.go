package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pushvault/pushvault/app/local"
	"github.com/pushvault/pushvault/githubapp"
)

func runSetup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushvault setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifest := fs.String("manifest", "app.yml", "the GitHub App manifest to register")
	webURL := fs.String("github-url", "https://github.com", "GitHub's web address (GHES: https://HOST)")
	apiURL := fs.String("api-url", "", "GitHub's API address (default https://api.github.com/; GHES: https://HOST/api/v3/)")
	org := fs.String("org", "", "register the app under this organisation instead of your user")
	webhook := fs.String("webhook-url", "", "where GitHub delivers webhooks (replaces hook_attributes.url)")
	listen := fs.String("listen", "127.0.0.1:0", "local address of the setup page")
	out := fs.String("out", "", "directory for the app's credentials (default: the data directory)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pushvault setup: unexpected argument %q\n", fs.Arg(0))
		return exitError
	}
	data, err := os.ReadFile(*manifest)
	if err != nil {
		fmt.Fprintf(stderr, "pushvault setup: %v\n", err)
		return exitError
	}
	m, err := githubapp.ParseManifest(data)
	if err != nil {
		fmt.Fprintf(stderr, "pushvault setup: %v\n", err)
		return exitError
	}
	dir := *out
	if dir == "" {
		dir = local.DataDir()
	}
	res, err := githubapp.Setup(ctx, githubapp.SetupOptions{
		Manifest: m, WebURL: *webURL, APIURL: *apiURL, Org: *org, WebhookURL: *webhook, Listen: *listen, OutDir: dir,
	}, func(page string) {
		fmt.Fprintf(stdout, "Open %s in a browser signed in to GitHub to register the app.\n", page)
	})
	if err != nil {
		fmt.Fprintf(stderr, "pushvault setup: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "Registered GitHub App %s (id %d): %s\n", res.Slug, res.AppID, res.HTMLURL)
	fmt.Fprintf(stdout, "Private key: %s\nWebhook secret: %s\n", res.PrivateKeyFile, res.WebhookSecretFile)
	fmt.Fprintf(stdout, "Install the app on your repositories, then run pushvault serve with github.app_id: %d and these files.\n", res.AppID)
	return exitOK
}
