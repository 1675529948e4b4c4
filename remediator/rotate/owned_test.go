package rotate_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/remediator/rotate"
)

// TestOwnedAndManual: an owned secret gets a new value of the same shape
// (the check can't be made: said, not claimed); an undeclared Stripe key
// becomes rotation_manual with the provider's guide until a person marks
// it rotated; approval-required settings hold rotations until approved.
func TestOwnedAndManual(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	rec := &recorder{}
	s := rotate.Settings{Owned: []rotate.OwnedSecret{{Name: "session_secret"}, {Path: "config/webhook*.env", Shape: "base64url:32"}}}
	r := rotate.NewRunner(c, s, rec)

	exposed := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	session := vaultSecret(t, c, "session_secret", "Generic", rotate.Data{"value": exposed})
	res, err := r.Run(ctx, session)
	if err != nil {
		t.Fatalf("owned: %v", err)
	}
	v2, err := c.KVv2("secret").GetVersion(ctx, session.Path, 2)
	if err != nil {
		t.Fatal(err)
	}
	nv := v2.Data["value"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(nv) || nv == exposed {
		t.Errorf("new value is not a fresh 64-hex value")
	}
	if res.State != rotate.StateRotated || res.ExposedDead || !strings.Contains(res.DeadCheck, "cannot be checked") || !res.ExposedDestroyed {
		t.Errorf("owned result %+v", res)
	}
	noLeak(t, []string{exposed, nv}, res, rec.events)

	hook := vaultSecret(t, c, "webhook", "Generic", rotate.Data{"value": "whsec_abc"})
	if _, err := r.Run(ctx, hook); err != nil {
		t.Fatal(err)
	}
	hv, _ := c.KVv2("secret").GetVersion(ctx, hook.Path, 2)
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(hv.Data["value"].(string)) {
		t.Errorf("base64url:32 shape not kept")
	}

	stripe := vaultSecret(t, c, "stripe_api_key", "Stripe", rotate.Data{"value": "sk_live_" + strings.Repeat("4", 24)})
	res, err = r.Run(ctx, stripe)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != rotate.StateManual || res.Guide != "https://howtorotate.com/docs/tutorials/stripe/" || len(res.Steps) == 0 {
		t.Errorf("manual result %+v", res)
	}
	_, _, md := versions(t, c, stripe)
	if md["state"] != "rotation_manual" {
		t.Errorf("state %q", md["state"])
	}
	if _, err := r.MarkRotated(ctx, stripe, ""); err == nil {
		t.Error("marking without an actor must fail")
	}
	marked, err := r.MarkRotated(ctx, stripe, "Ada <ada@example.com>")
	if err != nil || marked.State != rotate.StateMarkedRotated {
		t.Fatalf("mark: %+v %v", marked, err)
	}
	last := rec.events[len(rec.events)-1]
	if last.Transition != rotate.TransitionMarked || last.Actor != "Ada <ada@example.com>" {
		t.Errorf("last event %+v", last)
	}
	_, _, md = versions(t, c, stripe)
	if md["state"] != "rotated_manually" || md["rotated_by"] != "Ada <ada@example.com>" {
		t.Errorf("metadata %v", md)
	}

	// Approval required: pending until approved.
	tok := childToken(t, c)
	tg := vaultSecret(t, c, "vault_token", "VaultToken", rotate.Data{"value": tok})
	held := rotate.NewRunner(c, rotate.Settings{Approval: rotate.ApprovalRequired}, rec)
	res, err = held.Run(ctx, tg)
	if err != nil || res.State != rotate.StatePending || !tokenWorks(t, c, tok) {
		t.Fatalf("pending: %+v %v (token works: %v)", res, err, tokenWorks(t, c, tok))
	}
	tg.Approved = true
	if res, err = held.Run(ctx, tg); err != nil || res.State != rotate.StateRotated || tokenWorks(t, c, tok) {
		t.Fatalf("approved: %+v %v", res, err)
	}

	// A rotator that is switched off is not used.
	tok2 := childToken(t, c)
	tg2 := vaultSecret(t, c, "vault_token_2", "VaultToken", rotate.Data{"value": tok2})
	res, err = rotate.NewRunner(c, rotate.Settings{Enabled: []string{rotate.NameOwned}}, rec).Run(ctx, tg2)
	if err != nil || res.State != rotate.StateManual || !tokenWorks(t, c, tok2) {
		t.Errorf("disabled rotator: %+v %v", res, err)
	}
}
