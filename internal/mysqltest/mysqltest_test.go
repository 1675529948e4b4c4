package mysqltest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pushvault/pushvault/internal/mysqltest"
)

func TestServerPasswordLogin(t *testing.T) {
	s := mysqltest.Start(t)
	s.Exec(t, `CREATE USER 'app'@'%' IDENTIFIED BY 'first-pass'`)
	ctx := context.Background()
	if err := s.Login(ctx, "app", "first-pass"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := s.Login(ctx, "app", "wrong-pass"); !errors.Is(err, mysqltest.ErrAuth) {
		t.Fatalf("wrong password: got %v, want ErrAuth", err)
	}
	s.Stop()
	if err := s.Login(ctx, "app", "first-pass"); err == nil || errors.Is(err, mysqltest.ErrAuth) {
		t.Fatalf("stopped server: got %v, want a connection error", err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := s.Login(ctx, "app", "first-pass"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
