// Command sample creates a small git repository with fake but realistic
// secrets planted across commits and file types, for trying pushvault out:
//
//	go run ./internal/cmd/sample DIR
//
// The secrets are generated (internal/secrettest) and grant nothing.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pushvault/pushvault/internal/secrettest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sample DIR")
		os.Exit(2)
	}
	if err := create(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "sample:", err)
		os.Exit(1)
	}
}

func create(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	g := secrettest.New(2026)
	awsID, awsSecret := g.AWS()
	commits := []struct {
		author, msg string
		files       map[string]string
	}{
		{"Alice <alice@example.com>", "Initial shop service", map[string]string{
			"README.md":          "# shop\n",
			"config/settings.py": "import os\n\nDEBUG = False\nAWS_ACCESS_KEY_ID = \"" + awsID + "\"\nAWS_SECRET_ACCESS_KEY = \"" + awsSecret + "\"\n",
			".env":               "PORT=8080\nSTRIPE_API_KEY=" + g.Stripe() + "\n",
		}},
		{"Bob <bob@example.com>", "Notifications", map[string]string{
			"deploy/values.yaml": "replicas: 2\nnotify:\n  slack_token: " + g.Slack() + "\n",
			"src/index.js":       "const { Octokit } = require('@octokit/rest');\nconst octokit = new Octokit({ auth: '" + g.GitHub() + "' });\n",
		}},
		{"Alice <alice@example.com>", "Database and deploy", map[string]string{
			"config/app.json":   "{\n  \"database\": \"postgres://shop:" + g.PostgresPassword() + "@db.shop.internal:5432/shop\"\n}\n",
			"scripts/deploy.sh": "#!/bin/sh\nexport VAULT_TOKEN=" + g.VaultToken() + "\nvault kv get secret/shop\n",
		}},
	}
	if err := git(dir, nil, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	for _, c := range commits {
		for p, content := range c.files {
			full := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				return err
			}
		}
		name, email, _ := strings.Cut(c.author, " <")
		env := []string{"GIT_AUTHOR_NAME=" + name, "GIT_AUTHOR_EMAIL=" + strings.TrimSuffix(email, ">"),
			"GIT_COMMITTER_NAME=" + name, "GIT_COMMITTER_EMAIL=" + strings.TrimSuffix(email, ">")}
		if err := git(dir, env, "add", "-A"); err != nil {
			return err
		}
		if err := git(dir, env, "commit", "-q", "-m", c.msg); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "sample repository with planted secrets: %s\n", dir)
	return nil
}

func git(dir string, env []string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v: %s", args[0], err, out)
	}
	return nil
}
