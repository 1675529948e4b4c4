package rotate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/remediator/rotate"
)

// childToken creates a token with the default policy.
func childToken(t *testing.T, c *api.Client) string {
	t.Helper()
	sec, err := c.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"default"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	return sec.Auth.ClientToken
}

func tokenWorks(t *testing.T, c *api.Client, tok string) bool {
	t.Helper()
	cl, _ := c.Clone()
	cl.SetToken(tok)
	_, err := cl.Auth().Token().LookupSelf()
	var re *api.ResponseError
	if err != nil && !errors.As(err, &re) {
		t.Fatalf("lookup-self: %v", err)
	}
	return err == nil
}

func TestVaultTokenRevokedAndProvenDead(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	leaked := childToken(t, c)
	tg := vaultSecret(t, c, "vault_token", "VaultToken", rotate.Data{"value": leaked})
	if !tokenWorks(t, c, leaked) {
		t.Fatal("before: the leaked token should work")
	}
	rec := &recorder{}
	res, err := rotate.NewRunner(c, rotate.Settings{}, rec).Run(ctx, tg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if tokenWorks(t, c, leaked) {
		t.Fatal("after: the leaked token still works")
	}
	want(t, "result", rotate.Result{State: rotate.StateRotated, Rotator: rotate.NameVaultToken, NewVersion: 2, ExposedDead: true,
		DeadCheck: "true", ExposedDestroyed: true, Attempt: 1}, res)
	want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
	cur, destroyed, md := versions(t, c, tg)
	want(t, "versions", map[int]bool{1: true, 2: false}, destroyed)
	if cur != 2 || md["state"] != "rotated" || md["rotator"] != "vault_token" || md["exposed_version_destroyed"] != "true" ||
		md["rotated_version"] != "2" || md["exposed_verified_dead"] != "true" || md["rotated_at"] == "" || md["fingerprint"] != tg.Fingerprint {
		t.Errorf("metadata does not tell the story: current %d, %v", cur, md)
	}
	noLeak(t, []string{leaked}, res, rec.events, md)

	// A second run does nothing more.
	again, err := rotate.NewRunner(c, rotate.Settings{}, rec).Run(ctx, tg)
	if err != nil || !again.Already || again.State != rotate.StateRotated {
		t.Fatalf("rerun: %+v, %v", again, err)
	}
	if cur, _, _ := versions(t, c, tg); cur != 2 {
		t.Errorf("rerun wrote version %d", cur)
	}
	want(t, "events after rerun", 4, len(rec.events))
}

// TestVaultDenyingHalfway: pushvault's token may rotate but not destroy.
// The rotation stops at the destruction, in state rotation_failed, with
// what happened recorded and nothing more; a run with the capability later
// finishes it without a second revocation or version.
func TestVaultDenyingHalfway(t *testing.T) {
	_, root := startVault(t)
	ctx := context.Background()
	if err := root.Sys().PutPolicy("pushvault-nodestroy", `
path "secret/data/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/*" { capabilities = ["create", "read", "update"] }
path "auth/token/lookup" { capabilities = ["update"] }
path "auth/token/revoke-accessor" { capabilities = ["update"] }
`); err != nil {
		t.Fatal(err)
	}
	sec, err := root.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"pushvault-nodestroy"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	limited, _ := root.Clone()
	limited.SetToken(sec.Auth.ClientToken)

	leaked := childToken(t, root)
	tg := vaultSecret(t, root, "vault_token", "VaultToken", rotate.Data{"value": leaked})
	rec := &recorder{}
	res, err := rotate.NewRunner(limited, rotate.Settings{}, rec).Run(ctx, tg)
	var rerr *rotate.RotationError
	if !errors.As(err, &rerr) || rerr.Step != "destroying the exposed version" {
		t.Fatalf("want a RotationError at the destruction, got %v", err)
	}
	if res.State != rotate.StateFailed || res.ExposedDestroyed || res.Reason == "" {
		t.Errorf("result: %+v", res)
	}
	want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "rotation_failed@1"}, rec.transitions())
	cur, destroyed, md := versions(t, root, tg)
	want(t, "versions after the failure", map[int]bool{1: false, 2: false}, destroyed)
	if cur != 2 || md["state"] != "rotation_failed" || md["exposed_version_destroyed"] == "true" || md["rotation_error"] == "" {
		t.Errorf("metadata after the failure: current %d, %v", cur, md)
	}

	// Retried with the capability: resumes at the check, destroys, done.
	res, err = rotate.NewRunner(root, rotate.Settings{}, rec).Run(ctx, tg)
	if err != nil || res.State != rotate.StateRotated || !res.ExposedDestroyed || res.NewVersion != 2 || res.Attempt != 2 {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	want(t, "events after the retry", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "rotation_failed@1",
		"rotation_started@2", "exposed_verified_dead@2", "exposed_destroyed@2"}, rec.transitions())
	cur, destroyed, md = versions(t, root, tg)
	want(t, "versions after the retry", map[int]bool{1: true, 2: false}, destroyed)
	if cur != 2 || md["state"] != "rotated" || md["rotation_attempts"] != "2" {
		t.Errorf("metadata after the retry: current %d, %v", cur, md)
	}
	noLeak(t, []string{leaked}, res, rec.events, md, err)
}

// TestVaultTokenNotRevocable: a token this Vault does not know is no
// proof of anything, and a batch token can't be revoked: both are left to a
// person, not reported dead, and nothing is written.
func TestVaultTokenNotRevocable(t *testing.T) {
	_, c := startVault(t)
	batch, err := c.Auth().Token().Create(&api.TokenCreateRequest{Type: "batch", Policies: []string{"default"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"another_vaults_token": "hvs.CAESIJ3kq0rLb2xYz1c5bqM1y0q9Qv2m8wA7QYz3nKx0pT5aGh4KHGh2cy5ZbTZ6eGZ3",
		"batch_token":          batch.Auth.ClientToken,
	} {
		t.Run(name, func(t *testing.T) {
			tg := vaultSecret(t, c, name, "VaultToken", rotate.Data{"value": tok})
			res, err := rotate.NewRunner(c, rotate.Settings{}, &recorder{}).Run(context.Background(), tg)
			if err != nil || res.State != rotate.StateManual {
				t.Fatalf("got %+v, %v; want rotation_manual", res, err)
			}
			if cur, _, _ := versions(t, c, tg); cur != 1 {
				t.Errorf("version %d written for a token that was not revoked", cur)
			}
		})
	}
	if !tokenWorks(t, c, batch.Auth.ClientToken) {
		t.Error("the batch token was revoked")
	}
}

// TestApprovalAutoWaitsForUnreplacedUses: under the default approval
// ("auto"), revoking a token the fix does not replace everywhere would
// break what still uses it, so the rotation waits; approved, it runs.
func TestApprovalAutoWaitsForUnreplacedUses(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	leaked := childToken(t, c)
	tg := vaultSecret(t, c, "vault_token", "VaultToken", rotate.Data{"value": leaked})
	tg.Unreplaced = true
	rec := &recorder{}
	res, err := rotate.NewRunner(c, rotate.Settings{}, rec).Run(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != rotate.StatePending || !strings.Contains(res.Reason, "leaves a use of this secret in place") {
		t.Fatalf("unreplaced use: %+v, want pending with the reason", res)
	}
	if !tokenWorks(t, c, leaked) {
		t.Fatal("a pending rotation revoked the token")
	}
	if cur, _, md := versions(t, c, tg); cur != 1 || md["state"] != "rotation_pending" {
		t.Errorf("pending: current version %d, state %q", cur, md["state"])
	}
	tg.Approved = true
	res, err = rotate.NewRunner(c, rotate.Settings{}, rec).Run(ctx, tg)
	if err != nil || res.State != rotate.StateRotated {
		t.Fatalf("approved: %+v %v", res, err)
	}
	if tokenWorks(t, c, leaked) {
		t.Fatal("approved: the leaked token still works")
	}
	want(t, "events", []string{"rotation_pending@0", "rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
}
