package rotate_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/pgtest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// readmePolicy returns the least-privilege policy the README ships.
func readmePolicy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "### Least-privilege Vault policy\n\n```hcl\n")
	policy, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README has no least-privilege policy block")
	}
	return policy
}

// TestReadmePolicySuffices: with only the README's policy, pushvault
// rotates a database credential and a Vault token and destroys the exposed
// versions.
func TestReadmePolicySuffices(t *testing.T) {
	pg, root, s, tg := pgSetup(t)
	ctx := context.Background()
	if err := root.Sys().PutPolicy("pushvault", readmePolicy(t)); err != nil {
		t.Fatal(err)
	}
	// The README asks the organisation to allow pv-* roles on the connection.
	if _, err := root.Logical().Write("database/config/shop-db", map[string]any{"allowed_roles": "pv-*"}); err != nil {
		t.Fatal(err)
	}
	sec, err := root.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"pushvault"}, NoDefaultPolicy: true, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := root.Clone()
	c.SetToken(sec.Auth.ClientToken)
	rec := &recorder{}
	r := rotate.NewRunner(c, s, rec)
	if res, err := r.Run(ctx, tg); err != nil || res.State != rotate.StateRotated || !res.ExposedDestroyed {
		t.Fatalf("database: %+v %v", res, err)
	}
	if err := pg.Login(ctx, "app", leakedPG); !errors.Is(err, pgtest.ErrAuth) {
		t.Errorf("the leaked password still logs in: %v", err)
	}
	tok := childToken(t, root)
	tt := vaultSecret(t, root, "vault_token", "VaultToken", rotate.Data{"value": tok})
	if res, err := r.Run(ctx, tt); err != nil || res.State != rotate.StateRotated || !res.ExposedDestroyed {
		t.Fatalf("token: %+v %v", res, err)
	}
}
