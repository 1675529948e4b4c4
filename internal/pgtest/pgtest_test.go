package pgtest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pushvault/pushvault/internal/pgtest"
)

func TestClusterPasswordLogin(t *testing.T) {
	c := pgtest.Start(t)
	c.Exec(t, `CREATE ROLE app LOGIN PASSWORD 'first-pass'`)
	ctx := context.Background()
	if err := c.Login(ctx, "app", "first-pass"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := c.Login(ctx, "app", "wrong-pass"); !errors.Is(err, pgtest.ErrAuth) {
		t.Fatalf("wrong password: got %v, want ErrAuth", err)
	}
	c.Stop()
	if err := c.Login(ctx, "app", "first-pass"); err == nil || errors.Is(err, pgtest.ErrAuth) {
		t.Fatalf("stopped cluster: got %v, want a connection error", err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, "app", "first-pass"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
