package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/pgtest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// TestFixRotates runs `pushvault scan --fix` on a repository leaking a
// PostgreSQL URI of a declared database, a token of the organisation's
// Vault and a Stripe key: the database password and the token are rotated
// and proven dead, their exposed versions destroyed, the fix's references
// resolve to the new credentials; the Stripe key is left to a person with
// the provider's guide until `pushvault rotated` records it.
func TestFixRotates(t *testing.T) {
	ctx := context.Background()
	ip, err := pgtest.NonLoopbackIPv4()
	if err != nil {
		t.Fatalf("secret detectors ignore loopback database hosts, so this test needs another address: %v", err)
	}
	pg := pgtest.Start(t, pgtest.ListenOn(ip))
	g := secrettest.New(61)
	pgPass, stripe := g.PostgresPassword(), g.Stripe()
	pg.Exec(t, `CREATE ROLE app LOGIN PASSWORD '`+pgPass+`'`)
	pg.Exec(t, `CREATE DATABASE app OWNER app`)

	srv := vaulttest.Start(t)
	c := srv.Client(t)
	if err := c.Sys().Mount("database", &api.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("database/config/shop-db", map[string]any{
		"plugin_name":    "postgresql-database-plugin",
		"connection_url": fmt.Sprintf("postgresql://{{username}}:{{password}}@%s:%d/postgres?sslmode=disable", ip, pg.Port),
		"username":       pgtest.SuperUser, "password": pg.Password, "allowed_roles": "pv-*",
	}); err != nil {
		t.Fatal(err)
	}
	tokSec, err := c.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"default"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	token := tokSec.Auth.ClientToken

	r := gittest.New(t)
	r.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	r.Commit("Dev <dev@example.com>", "configuration", map[string]string{
		".github/pushvault.yml": "rotation:\n  databases:\n    - match: {host: \"" + ip + "\"}\n      vault_connection: shop-db\n",
		".env":                  fmt.Sprintf("DATABASE_URL=postgresql://app:%s@%s:%d/app\nVAULT_TOKEN=%s\n", pgPass, ip, pg.Port, token),
		"config/app.yml":        "payments:\n  stripe_key: " + stripe + "\n",
	})
	head := r.Head()
	data := t.TempDir()
	if err := pg.Login(ctx, "app", pgPass); err != nil {
		t.Fatalf("before: the leaked password should log in: %v", err)
	}

	// First with the database down: the database rotation fails in a
	// stated state, the rest goes on, the fix is written, exit 2.
	pg.Stop()
	down := vaultRun(t, srv, data, r.Dir, "scan", "--fix", "--log-level", "debug")
	if down.code != 2 || !strings.Contains(down.stderr, "rotation failed") ||
		!strings.Contains(down.stdout, "rotation: FAILED (attempt 1): rotating at the source:") {
		t.Fatalf("database down: exit %d\nstdout:\n%s\nstderr:\n%s", down.code, down.stdout, down.stderr)
	}
	if r.Git("branch", "--list", "pushvault/*") == "" {
		t.Error("no fix branch after a failed rotation")
	}
	if meta, err := c.KVv2("secret").GetMetadata(ctx, "pushvault/acme/shop/database_url"); err != nil ||
		meta.CustomMetadata["state"] != "rotation_failed" || meta.CurrentVersion != 1 || meta.Versions["1"].Destroyed {
		t.Errorf("after the failure: %v %+v", err, meta)
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Login(ctx, "app", pgPass); err != nil {
		t.Fatalf("the failed rotation changed the password: %v", err)
	}

	// The retry completes it.
	run := vaultRun(t, srv, data, r.Dir, "scan", "--fix", "--log-level", "debug")
	if run.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", run.code, run.stdout, run.stderr)
	}
	for _, want := range []string{
		"rotation: rotated by postgresql; exposed value proven dead; version 1 destroyed; current version 2",
		"rotation: rotated by vault_token; exposed value proven dead; version 1 destroyed; current version 2; done earlier",
		"rotation: manual (no rotator handles Stripe credentials here): rotate it yourself",
		"provider guide: https://howtorotate.com/docs/tutorials/stripe/",
	} {
		if !strings.Contains(run.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, run.stdout)
		}
	}

	// The old values are dead.
	if err := pg.Login(ctx, "app", pgPass); !errors.Is(err, pgtest.ErrAuth) {
		t.Fatalf("after: the leaked database password must be refused, got %v", err)
	}
	cl, _ := c.Clone()
	cl.SetToken(token)
	if _, err := cl.Auth().Token().LookupSelf(); err == nil {
		t.Fatal("after: the leaked Vault token still works")
	}
	creds, err := c.Logical().Read("database/static-creds/" + rotate.RoleName("shop-db", "app"))
	if err != nil || creds == nil {
		t.Fatalf("static creds: %v", err)
	}
	newPass := creds.Data["password"].(string)
	if err := pg.Login(ctx, "app", newPass); err != nil {
		t.Fatalf("the password Vault holds must log in: %v", err)
	}

	// Versions: exposed destroyed, the rotation's version current; the
	// Stripe key waits for a person with its exposed version kept.
	for name, want := range map[string]string{"database_url": "rotated", "vault_token": "rotated", "stripe_key": "rotation_manual"} {
		meta, err := c.KVv2("secret").GetMetadata(ctx, "pushvault/acme/shop/"+name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if meta.CustomMetadata["state"] != want {
			t.Errorf("%s: state %v, want %s", name, meta.CustomMetadata["state"], want)
		}
		if want == "rotated" && (meta.CurrentVersion != 2 || !meta.Versions["1"].Destroyed || meta.Versions["2"].Destroyed) {
			t.Errorf("%s: current %d, versions %+v", name, meta.CurrentVersion, meta.Versions)
		}
		if want != "rotated" && (meta.CurrentVersion != 1 || meta.Versions["1"].Destroyed) {
			t.Errorf("%s: current %d, versions %+v", name, meta.CurrentVersion, meta.Versions)
		}
	}

	// The fix's references resolve to the new database password.
	branch := "pushvault/fix-" + head[:7]
	wt := gittest.Clone(t, r.Dir, "--branch", branch)
	dotenv, err := os.ReadFile(filepath.Join(wt.Dir, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dotenv), "vault:database/static-creds/"+rotate.RoleName("shop-db", "app")+"#password") {
		t.Errorf(".env on the fix branch does not point at the static role:\n%s", dotenv)
	}
	env := vaultRun(t, srv, data, wt.Dir, "exec", "--env-file", ".env", "--", "env", "-0")
	if env.code == 0 {
		t.Fatalf("exec resolved a reference to the revoked token's value: exit 0")
	}
	// The revoked token has no value any more: exec says so and runs
	// nothing. Without it the database URL resolves.
	if !strings.Contains(env.stderr, "vault_token") {
		t.Errorf("exec error does not name the revoked token's reference: %s", env.stderr)
	}
	dbOnly := filepath.Join(t.TempDir(), "db.env")
	var dbLine string
	for _, l := range strings.Split(string(dotenv), "\n") {
		if strings.HasPrefix(l, "DATABASE_URL=") {
			dbLine = l
		}
	}
	if err := os.WriteFile(dbOnly, []byte(dbLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env = vaultRun(t, srv, data, wt.Dir, "exec", "--env-file", dbOnly, "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec: exit %d: %s", env.code, env.stderr)
	}
	dbURL := envMap(env.stdout)["DATABASE_URL"]
	if !strings.Contains(dbURL, ":"+newPass+"@") {
		t.Errorf("DATABASE_URL does not resolve to the password Vault holds")
	}
	if err := pgtest.Login(ctx, dbURL+"?sslmode=disable"); err != nil {
		t.Errorf("the resolved DATABASE_URL does not log in: %v", err)
	}

	// A second run: nothing rotated twice, no new version.
	run2 := vaultRun(t, srv, data, r.Dir, "scan", "--fix", "--format", "json")
	if run2.code != 1 {
		t.Fatalf("second run: exit %d: %s", run2.code, run2.stderr)
	}
	var doc struct {
		Fix struct {
			Secrets []struct {
				ID, Detector string
				Rotation     struct{ State string }
			}
		}
	}
	if err := json.Unmarshal([]byte(run2.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var stripeID string
	for _, s := range doc.Fix.Secrets {
		if s.Detector == "Stripe" {
			stripeID = s.ID
		}
	}
	if stripeID == "" {
		t.Fatalf("no Stripe finding in %s", run2.stdout)
	}
	if again, _ := c.Logical().Read("database/static-creds/" + rotate.RoleName("shop-db", "app")); again.Data["password"] != newPass {
		t.Error("the second run rotated the database password again")
	}

	// A person rotates the Stripe key and says so.
	bad := vaultRun(t, srv, data, r.Dir, "rotated", stripeID)
	if bad.code != 2 {
		t.Errorf("rotated without --actor: exit %d", bad.code)
	}
	marked := vaultRun(t, srv, data, r.Dir, "rotated", stripeID, "--actor", "Ada Lovelace")
	if marked.code != 0 || !strings.Contains(marked.stdout, "marked rotated by Ada Lovelace") {
		t.Fatalf("rotated: exit %d\n%s%s", marked.code, marked.stdout, marked.stderr)
	}

	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(ledger)), "\n") {
		var rec struct{ Transition, Actor string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		counts[rec.Transition]++
		if rec.Transition == "marked_rotated" && rec.Actor != "Ada Lovelace" {
			t.Errorf("marked_rotated by %q", rec.Actor)
		}
	}
	for tr, n := range map[string]int{"detected": 3, "vaulted": 3, "rotation_started": 3, "rotation_failed": 1, "rotated": 2,
		"exposed_verified_dead": 2, "exposed_destroyed": 2, "rotation_manual": 1, "marked_rotated": 1,
		// Two fix commits: the retry's references point at the static role.
		"fix_proposed": 6} {
		if counts[tr] != n {
			t.Errorf("ledger: %d %s, want %d (all: %v)", counts[tr], tr, n, counts)
		}
	}
	ver := vaultRun(t, srv, data, r.Dir, "evidence", "verify")
	if ver.code != 0 {
		t.Fatalf("evidence verify: exit %d %s", ver.code, ver.stderr)
	}
	md := vaultRun(t, srv, data, r.Dir, "evidence", "export", "--format", "md")

	for _, out := range []result{down, run, run2, bad, marked, ver, md, {stdout: string(ledger)}} {
		for _, v := range []string{pgPass, newPass, token, stripe} {
			if strings.Contains(out.stdout+out.stderr, v) {
				t.Errorf("a secret value (starts %q) appears in pushvault's output or ledger", v[:4])
			}
		}
	}
}
