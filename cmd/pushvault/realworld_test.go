package main_test

import (
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
)

// The most common docker-compose form of a database URL names no port:
// TruffleHog's Postgres detector normalises it to host:5432, which is not in
// the file (issue 15). `scan --fix` vaults the password, replaces it alone
// in the URL, and the reference resolves: compose hands the container
// ${vault:…} ($$ escapes the dollar), and `pushvault exec` turns the
// variable back into the URL as it was.
func TestFixPortlessDatabaseURI(t *testing.T) {
	srv := vaulttest.Start(t)
	pw := secrettest.Fresh(t).Alnum(20)
	uri := "postgres://app:" + pw + "@db/app"
	r := gittest.New(t)
	r.Commit("", "compose", map[string]string{
		"docker-compose.yml": "services:\n  web:\n    image: acme/web:1.4\n    environment:\n      DATABASE_URL: " + uri +
			"\n      RAILS_ENV: production\n  db:\n    image: postgres:16\n",
	})
	r.Git("remote", "add", "origin", "git@github.com:acme/compose.git")
	head := r.Head()

	run := vaultRun(t, srv, t.TempDir(), r.Dir, "scan", "--fix")
	if run.code != 1 || !strings.Contains(run.stdout, "Postgres") {
		t.Fatalf("exit %d, want 1 with the Postgres finding\n%s\n%s", run.code, run.stdout, run.stderr)
	}
	sec, err := srv.Client(t).KVv2("secret").Get(context.Background(), "pushvault/acme/compose/database_url")
	if err != nil {
		t.Fatalf("the password is not in Vault: %v", err)
	}
	if sec.Data["password"] != pw {
		t.Errorf("vaulted password is not the one in the file")
	}

	branch := "pushvault/fix-" + head[:7]
	after := r.Git("show", branch+":docker-compose.yml")
	if strings.Contains(after, pw) {
		t.Fatalf("the password is still in docker-compose.yml:\n%s", after)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(after), &compose); err != nil {
		t.Fatalf("the rewritten file does not parse: %v", err)
	}
	ref := compose.Services["web"].Environment["DATABASE_URL"]
	if want := "postgres://app:$${vault:secret/data/pushvault/acme/compose/database_url#password}@db/app"; ref != want {
		t.Errorf("DATABASE_URL = %q, want %q", ref, want)
	}
	if before := r.Git("show", head+":docker-compose.yml"); strings.Replace(before, pw, "$${vault:secret/data/pushvault/acme/compose/database_url#password}", 1) != after {
		t.Errorf("more than the password changed:\n%s", after)
	}

	// What compose hands the container, resolved by exec.
	env := runBinary(t, t.TempDir(), []string{"VAULT_ADDR=" + srv.Addr, "VAULT_TOKEN=" + srv.Token,
		"DATABASE_URL=" + strings.ReplaceAll(ref, "$$", "$")}, "exec", "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec: %s", env.stderr)
	}
	if got := envMap(env.stdout)["DATABASE_URL"]; got != uri {
		t.Errorf("exec: DATABASE_URL does not resolve to the URL as it was")
	}
	if strings.Contains(run.stdout+run.stderr+env.stderr, pw) {
		t.Errorf("the password is in pushvault's output")
	}
}
