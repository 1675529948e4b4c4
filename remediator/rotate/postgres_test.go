package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/pgtest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

const leakedPG = "leaked-Pg-pass-7f3a9c"

// pgSetup starts PostgreSQL with a role "app" whose password leaked, and a
// Vault database connection "shop-db" to it, as the organisation declares.
func pgSetup(t *testing.T) (*pgtest.Cluster, *api.Client, rotate.Settings, rotate.Target) {
	t.Helper()
	pg := pgStart(t, leakedPG)
	c := pgConnection(t, pg, fmt.Sprintf("postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", pg.Port))
	s := pgSettings("127.0.0.1")
	tg := pgTarget(t, c, fmt.Sprintf("postgres://app:%s@127.0.0.1:%d/shop", leakedPG, pg.Port))
	return pg, c, s, tg
}

// pgStart starts PostgreSQL with a role "app" logging in with password and
// its database "shop".
func pgStart(t *testing.T, password string) *pgtest.Cluster {
	t.Helper()
	pg := pgtest.Start(t)
	pg.Exec(t, `CREATE ROLE app LOGIN PASSWORD '`+password+`'`)
	pg.Exec(t, `CREATE DATABASE shop OWNER app`)
	return pg
}

// pgConnection starts Vault with the database engine and the connection
// "shop-db" to pg at connectionURL (its {{username}}/{{password}} form).
func pgConnection(t *testing.T, pg *pgtest.Cluster, connectionURL string) *api.Client {
	t.Helper()
	_, c := startVault(t)
	if err := c.Sys().Mount("database", &api.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("database/config/shop-db", map[string]any{
		"plugin_name": "postgresql-database-plugin", "connection_url": connectionURL,
		"username": pgtest.SuperUser, "password": pg.Password, "allowed_roles": "*",
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// pgSettings map PostgreSQL on host (a glob; "" for any), database shop,
// to the connection shop-db.
func pgSettings(host string) rotate.Settings {
	s := rotate.Settings{Databases: []rotate.Database{{Connection: "shop-db"}}}
	s.Databases[0].Match.Host = host
	s.Databases[0].Match.Database = "shop"
	return s
}

// pgTarget vaults uri as a leaked Postgres finding of acme/shop.
func pgTarget(t *testing.T, c *api.Client, uri string) rotate.Target {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	return vaultSecret(t, c, "database_url", "Postgres", rotate.Data{"value": uri, "username": u.User.Username(), "password": password})
}

// appRole is the static role pushvault makes for "app" on shop-db.
var appRole = rotate.RoleName("shop-db", "app")

func staticPassword(t *testing.T, c *api.Client, role string) string {
	t.Helper()
	sec, err := c.Logical().Read("database/static-creds/" + role)
	if err != nil || sec == nil {
		t.Fatalf("static-creds %s: %v", role, err)
	}
	return sec.Data["password"].(string)
}

// TestPostgresRotation: before, the leaked password logs in; after, it is
// refused and the password Vault holds logs in; the references point at
// the static role; the exposed version is destroyed.
func TestPostgresRotation(t *testing.T) {
	pg, c, s, tg := pgSetup(t)
	ctx := context.Background()
	if err := pg.Login(ctx, "app", leakedPG); err != nil {
		t.Fatalf("before: the leaked password should log in: %v", err)
	}
	rec := &recorder{}
	res, err := rotate.NewRunner(c, s, rec).Run(ctx, tg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := pg.Login(ctx, "app", leakedPG); !errors.Is(err, pgtest.ErrAuth) {
		t.Fatalf("after: the leaked password must be refused, got %v", err)
	}
	vaultPass := staticPassword(t, c, appRole)
	if err := pg.Login(ctx, "app", vaultPass); err != nil {
		t.Fatalf("after: the password Vault holds must log in: %v", err)
	}
	want(t, "refs", map[string]rotate.Ref{
		"password": {Path: "database/static-creds/" + appRole, Key: "password"},
		"username": {Path: "database/static-creds/" + appRole, Key: "username"},
	}, res.Refs)
	if res.State != rotate.StateRotated || !res.ExposedDead || !res.ExposedDestroyed || res.NewVersion != 2 {
		t.Errorf("result %+v", res)
	}
	want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
	cur, destroyed, md := versions(t, c, tg)
	want(t, "versions", map[int]bool{1: true, 2: false}, destroyed)
	if cur != 2 || md["state"] != "rotated" || md["rotator"] != "postgresql" ||
		md["rotation_refs"] != "password=database/static-creds/"+appRole+"#password,username=database/static-creds/"+appRole+"#username" {
		t.Errorf("metadata: current %d, %v", cur, md)
	}
	v2, err := c.KVv2("secret").GetVersion(ctx, tg.Path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Data["static_creds"] != "database/static-creds/"+appRole || v2.Data["username"] != "app" {
		t.Errorf("version 2 data %v", v2.Data)
	}
	noLeak(t, []string{leakedPG, vaultPass}, res, rec.events, md, v2.Data)

	// Rerun: nothing more, the refs still known.
	again, err := rotate.NewRunner(c, s, rec).Run(ctx, tg)
	if err != nil || !again.Already || len(again.Refs) != 2 {
		t.Fatalf("rerun %+v %v", again, err)
	}
	if staticPassword(t, c, appRole) != vaultPass {
		t.Error("a rerun rotated the password again")
	}
}

// TestPostgresDown: with the database down the rotation fails before
// anything changes, in state rotation_failed; nothing claims otherwise (the
// leaked password still logs in once the database is back); the retry
// completes it with one new version.
func TestPostgresDown(t *testing.T) {
	pg, c, s, tg := pgSetup(t)
	ctx := context.Background()
	pg.Stop()
	rec := &recorder{}
	res, err := rotate.NewRunner(c, s, rec).Run(ctx, tg)
	var rerr *rotate.RotationError
	if !errors.As(err, &rerr) || rerr.Step != "rotating at the source" {
		t.Fatalf("want a RotationError while rotating, got %v", err)
	}
	if res.State != rotate.StateFailed || res.NewVersion != 0 || res.ExposedDead || res.ExposedDestroyed {
		t.Errorf("result claims what did not happen: %+v", res)
	}
	want(t, "events", []string{"rotation_started@1", "rotation_failed@1"}, rec.transitions())
	cur, destroyed, md := versions(t, c, tg)
	want(t, "versions", map[int]bool{1: false}, destroyed)
	if cur != 1 || md["state"] != "rotation_failed" || md["rotation_error"] == "" {
		t.Errorf("metadata: current %d, %v", cur, md)
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Login(ctx, "app", leakedPG); err != nil {
		t.Fatalf("the failed rotation changed the password: %v", err)
	}
	res, err = rotate.NewRunner(c, s, rec).Run(ctx, tg)
	if err != nil || res.State != rotate.StateRotated || res.NewVersion != 2 || res.Attempt != 2 {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	if err := pg.Login(ctx, "app", leakedPG); !errors.Is(err, pgtest.ErrAuth) {
		t.Fatalf("after the retry the leaked password must be refused, got %v", err)
	}
	cur, destroyed, _ = versions(t, c, tg)
	want(t, "versions after the retry", map[int]bool{1: true, 2: false}, destroyed)
	if cur != 2 {
		t.Errorf("current version %d, want 2", cur)
	}
	noLeak(t, []string{leakedPG, staticPassword(t, c, appRole)}, res, rec.events, err)
}
