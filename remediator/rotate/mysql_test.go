package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/mysqltest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// TestMySQLRotation: MariaDB, the same way as PostgreSQL: before, the
// leaked password logs in; after, it is refused and the one Vault holds
// logs in.
func TestMySQLRotation(t *testing.T) {
	db := mysqltest.Start(t)
	leaked := "leaked-My-pass-4c1d"
	db.Exec(t, "CREATE USER 'app'@'%' IDENTIFIED BY '"+leaked+"'")
	db.Exec(t, "CREATE DATABASE shop")
	db.Exec(t, "GRANT ALL ON shop.* TO 'app'@'%'")
	_, c := startVault(t)
	ctx := context.Background()
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
	creds, err := c.Logical().Read("database/static-creds/pv-acme-shop-app")
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
