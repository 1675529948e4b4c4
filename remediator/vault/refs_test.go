package vault_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/vault"
)

func TestParseReference(t *testing.T) {
	cases := []struct {
		in      string
		want    vault.Reference
		wantErr string
	}{
		{"vault:secret/data/pushvault/acme/shop/stripe_api_key#value", vault.Reference{Path: "secret/data/pushvault/acme/shop/stripe_api_key", Key: "value"}, ""},
		{"vault:secret/data/x#password#2", vault.Reference{Path: "secret/data/x", Key: "password", Version: 2}, ""},
		{"ref+vault://secret/data/pushvault/acme/shop/db#/password", vault.Reference{Path: "secret/data/pushvault/acme/shop/db", Key: "password"}, ""},
		{"vault:secret/data/x", vault.Reference{}, "want PATH#KEY"},
		{"vault:secret/data/x#k#zero", vault.Reference{}, "version must be a positive number"},
		{"plain value", vault.Reference{}, "not a vault reference"},
	}
	for _, tc := range cases {
		got, err := vault.ParseReference(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestResolverExpand(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	kv := c.KVv2("secret")
	if _, err := kv.Put(ctx, "pushvault/acme/shop/db", map[string]any{"password": "s3cr3t-v1", "value": "postgres://u:s3cr3t-v1@h/db"}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "pushvault/acme/shop/db", map[string]any{"password": "s3cr3t-v2"}); err != nil {
		t.Fatal(err)
	}
	r := vault.NewResolver(c)
	cases := []struct {
		in, want string
		changed  bool
		wantErr  string
	}{
		{"vault:secret/data/pushvault/acme/shop/db#password", "s3cr3t-v2", true, ""},
		{"vault:secret/data/pushvault/acme/shop/db#password#1", "s3cr3t-v1", true, ""},
		{"ref+vault://secret/data/pushvault/acme/shop/db#/password", "s3cr3t-v2", true, ""},
		{"postgres://u:${vault:secret/data/pushvault/acme/shop/db#password}@h:5432/db", "postgres://u:s3cr3t-v2@h:5432/db", true, ""},
		{"just text", "just text", false, ""},
		{"vault:secret/data/pushvault/acme/shop/db#nokey", "", true, `no key "nokey" at secret/data/pushvault/acme/shop/db`},
		{"vault:secret/data/pushvault/acme/shop/missing#value", "", true, "no secret at secret/data/pushvault/acme/shop/missing"},
	}
	for _, tc := range cases {
		got, changed, err := r.Expand(ctx, tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("%q: error leaks a value", tc.in)
			}
			continue
		}
		if err != nil || got != tc.want || changed != tc.changed {
			t.Errorf("%q: got %q changed=%v err=%v", tc.in, got, changed, err)
		}
	}
}
