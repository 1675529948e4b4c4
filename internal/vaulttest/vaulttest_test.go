package vaulttest_test

import (
	"context"
	"testing"

	"github.com/pushvault/pushvault/internal/vaulttest"
)

// The harness gives a working KV v2 engine at secret/, as the dev server
// promises, and two servers don't share state.
func TestStartKVRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := vaulttest.Start(t)
	b := vaulttest.Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("two servers on one address %s", a.Addr)
	}
	ca := a.Client(t)
	if _, err := ca.KVv2("secret").Put(ctx, "pushvault/acme/shop/probe", map[string]any{"value": "v1"}); err != nil {
		t.Fatalf("put: %v", err)
	}
	got, err := ca.KVv2("secret").Get(ctx, "pushvault/acme/shop/probe")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Data["value"] != "v1" || got.VersionMetadata.Version != 1 {
		t.Fatalf("got %v version %d, want v1 version 1", got.Data["value"], got.VersionMetadata.Version)
	}
	if _, err := b.Client(t).KVv2("secret").Get(ctx, "pushvault/acme/shop/probe"); err == nil {
		t.Fatalf("second server sees the first one's secret")
	}
	health, err := ca.Sys().Health()
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	if health.Version != vaulttest.Version {
		t.Fatalf("vault version %s, want %s", health.Version, vaulttest.Version)
	}
}
