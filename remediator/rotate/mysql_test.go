package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/mysqltest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// mysqlSetup starts MariaDB with a user 'app'@'%' logging in with password
// and a Vault database connection "shop-mysql" to it, mapped by port.
func mysqlSetup(t *testing.T, password string) (*mysqltest.Server, *api.Client, rotate.Settings) {
	t.Helper()
	db := mysqltest.Start(t)
	db.Exec(t, "CREATE USER 'app'@'%' IDENTIFIED BY '"+password+"'")
	db.Exec(t, "CREATE DATABASE shop")
	db.Exec(t, "GRANT ALL ON shop.* TO 'app'@'%'")
	_, c := startVault(t)
	if err := c.Sys().Mount("database", &api.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("database/config/shop-mysql", map[string]any{
		"plugin_name":    "mysql-database-plugin",
		"connection_url": fmt.Sprintf("{{username}}:{{password}}@tcp(127.0.0.1:%d)/", db.Port),
		"username":       mysqltest.AdminUser, "password": db.AdminPassword, "allowed_roles": "pv-*",
	}); err != nil {
		t.Fatal(err)
	}
	s := rotate.Settings{Databases: []rotate.Database{{Connection: "shop-mysql"}}}
	s.Databases[0].Match.Port = fmt.Sprint(db.Port)
	return db, c, s
}

// TestMySQLRotation: MariaDB, the same way as PostgreSQL: before, the
// leaked password logs in; after, it is refused and the one Vault holds
// logs in.
func TestMySQLRotation(t *testing.T) {
	leaked := "leaked-My-pass-4c1d"
	db, c, s := mysqlSetup(t, leaked)
	ctx := context.Background()
	tg := vaultSecret(t, c, "mysql_url", "JDBC", rotate.Data{"value": fmt.Sprintf("mysql://app:%s@127.0.0.1:%d/shop", leaked, db.Port)})
	if err := db.Login(ctx, "app", leaked); err != nil {
		t.Fatalf("before: %v", err)
	}
	rec := &recorder{}
	res, err := rotate.NewRunner(c, s, rec).Run(ctx, tg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := db.Login(ctx, "app", leaked); !errors.Is(err, mysqltest.ErrAuth) {
		t.Fatalf("after: the leaked password must be refused, got %v", err)
	}
	creds, err := c.Logical().Read("database/static-creds/" + rotate.RoleName("shop-mysql", "app"))
	if err != nil || creds == nil {
		t.Fatalf("static creds: %v", err)
	}
	newPass := creds.Data["password"].(string)
	if err := db.Login(ctx, "app", newPass); err != nil {
		t.Fatalf("after: the password Vault holds must log in: %v", err)
	}
	if res.State != rotate.StateRotated || res.Rotator != rotate.NameMySQL || !res.ExposedDead || !res.ExposedDestroyed {
		t.Errorf("result %+v", res)
	}
	want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
	noLeak(t, []string{leaked, newPass}, res, rec.events)
}

// TestMySQLMadeUpPassword: a URI on the mapped MariaDB whose password does
// not log in proves nothing: rotation_manual, saying so, with no static
// role created and the real password untouched.
func TestMySQLMadeUpPassword(t *testing.T) {
	g := secrettest.New(rand.Uint64())
	real, madeUp := g.PostgresPassword(), g.PostgresPassword()
	db, c, s := mysqlSetup(t, real)
	ctx := context.Background()
	tg := vaultSecret(t, c, "mysql_url", "JDBC", rotate.Data{"value": fmt.Sprintf("mysql://app:%s@127.0.0.1:%d/shop", madeUp, db.Port)})
	rec := &recorder{}
	res, err := rotate.NewRunner(c, s, rec).Run(ctx, tg)
	if err != nil || res.State != rotate.StateManual || !strings.Contains(res.Reason, "the leaked credential does not log in") {
		t.Fatalf("want rotation_manual because the leaked credential does not log in, got %+v, %v", res, err)
	}
	want(t, "static roles", []string(nil), staticRoles(t, c))
	if err := db.Login(ctx, "app", real); err != nil {
		t.Errorf("the real password no longer logs in: %v", err)
	}
	want(t, "events", []string{"rotation_started@1", "rotation_manual@1"}, rec.transitions())
	noLeak(t, []string{real, madeUp}, res, rec.events)
}
