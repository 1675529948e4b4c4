package rotate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// VaultToken revokes leaked HashiCorp Vault tokens issued by the Vault
// pushvault uses: the token is looked up (by value, through
// auth/token/lookup) and revoked by accessor (auth/token/revoke-accessor),
// which also revokes its children. Proof: a lookup-self made with the
// exposed token is refused.
type VaultToken struct{ c *api.Client }

// NewVaultToken returns the rotator on c.
func NewVaultToken(c *api.Client) *VaultToken { return &VaultToken{c: c} }

var _ Rotator = (*VaultToken)(nil)

// Match implements Rotator: VaultToken findings (hvs., hvb. tokens; also
// legacy s. tokens found by a custom detector of that name) that this
// Vault knows and can revoke. A token it does not know may belong to
// another Vault: that is no proof it is dead, so it is left to a person, as
// are batch tokens (not revocable; they expire).
func (v *VaultToken) Match(ctx context.Context, t Target) (bool, error) {
	tok := t.Exposed.Reveal("value")
	if t.Detector != "VaultToken" || !(strings.HasPrefix(tok, "hvs.") || strings.HasPrefix(tok, "hvb.") || strings.HasPrefix(tok, "s.")) {
		return false, nil
	}
	sec, err := v.c.Logical().WriteWithContext(ctx, "auth/token/lookup", map[string]any{"token": tok})
	switch {
	case unknownToken(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("vault auth/token/lookup: %w", err)
	}
	// Batch tokens can't be revoked (they expire): a person decides.
	typ, _ := sec.Data["type"].(string)
	return typ != "batch", nil
}

// Rotate implements Rotator. A token Vault no longer knows is already
// dead: nothing to revoke, and the check proves it.
func (v *VaultToken) Rotate(ctx context.Context, t Target) (Change, error) {
	tok := t.Exposed.Reveal("value")
	marker := Data{"state": "revoked", "revoked_by": "pushvault", "note": "the exposed Vault token was revoked; issue a new token and store it here"}
	sec, err := v.c.Logical().WriteWithContext(ctx, "auth/token/lookup", map[string]any{"token": tok})
	if unknownToken(err) {
		return Change{Data: marker, Detail: map[string]string{"revocation": "token unknown to Vault (already revoked or expired)"}}, nil
	}
	if err != nil {
		return Change{}, fmt.Errorf("vault auth/token/lookup: %w", err)
	}
	accessor, _ := sec.Data["accessor"].(string)
	if accessor == "" {
		// Batch tokens have no accessor and can't be revoked: they expire.
		ttl := sec.Data["ttl"]
		return Change{}, fmt.Errorf("the token has no accessor (a batch token cannot be revoked; it expires in %vs)", ttl)
	}
	if _, err := v.c.Logical().WriteWithContext(ctx, "auth/token/revoke-accessor", map[string]any{"accessor": accessor}); err != nil {
		return Change{}, fmt.Errorf("vault auth/token/revoke-accessor: %w", err)
	}
	marker["revoked_at"] = time.Now().UTC().Format(time.RFC3339)
	return Change{Data: marker, Detail: map[string]string{"revocation": "auth/token/revoke-accessor", "accessor": accessor}}, nil
}

// CheckDead implements Rotator: a lookup-self with the exposed token must
// be refused, and Vault must confirm it no longer knows the token (a 403
// alone could be a valid token without the default policy).
func (v *VaultToken) CheckDead(ctx context.Context, t Target) error {
	c, err := v.c.Clone()
	if err != nil {
		return err
	}
	c.SetToken(t.Exposed.Reveal("value"))
	c.SetNamespace(v.c.Namespace())
	_, err = c.Auth().Token().LookupSelfWithContext(ctx)
	var re *api.ResponseError
	switch {
	case err == nil:
		return fmt.Errorf("%w: Vault at %s accepted the exposed token", ErrStillWorks, v.c.Address())
	case !errors.As(err, &re) || re.StatusCode != http.StatusForbidden:
		return fmt.Errorf("asking Vault at %s with the exposed token: %w", v.c.Address(), err)
	}
	_, err = v.c.Logical().WriteWithContext(ctx, "auth/token/lookup", map[string]any{"token": t.Exposed.Reveal("value")})
	switch {
	case unknownToken(err):
		return nil
	case err == nil:
		return fmt.Errorf("%w: Vault at %s still knows the exposed token", ErrStillWorks, v.c.Address())
	}
	return fmt.Errorf("vault auth/token/lookup: %w", err)
}

// unknownToken: auth/token/lookup answered that the token does not exist.
// Vault says so only in the message ("bad token", with 400 or, since 1.x,
// 403), so the message is compared exactly: a 403 "permission denied" is
// pushvault's own token lacking permission and is not taken as an answer.
func unknownToken(err error) bool {
	var re *api.ResponseError
	if !errors.As(err, &re) || (re.StatusCode != http.StatusBadRequest && re.StatusCode != http.StatusForbidden) {
		return false
	}
	for _, e := range re.Errors {
		if e == "bad token" || e == "invalid token" {
			return true
		}
	}
	return false
}
