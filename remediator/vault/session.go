package vault

import (
	"context"
	"errors"

	"github.com/hashicorp/vault/api"
)

// Transit key names pushvault uses: HMAC fingerprints of secrets, and the
// evidence ledger's signatures.
const (
	FingerprintKey = "pushvault-fingerprint"
	EvidenceKey    = "pushvault-evidence"
)

// ErrNoAddress means no Vault address is configured (VAULT_ADDR or the
// configuration's vault.address).
var ErrNoAddress = errors.New("no Vault address: set VAULT_ADDR (and VAULT_TOKEN, or configure another auth method)")

// Session is a logged-in client with pushvault's transit keys ready, and
// the KV store over it.
type Session struct {
	Client  *api.Client
	Config  Config
	Store   *Store
	Transit *Transit

	keeper *keeper
}

// Open completes cfg from the environment (FromEnv), logs in, enables the
// transit engine and makes sure pushvault's keys exist. Errors are
// explained (unreachable, sealed, denied) and never carry a secret. The
// token lives as long as Vault lets it: a long-running user (serve) runs
// Keep to renew it and log in again.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	cfg = FromEnv(cfg)
	if cfg.Address == "" {
		return nil, ErrNoAddress
	}
	k := newKeeper(cfg)
	c, auth, err := connect(ctx, cfg, k.denied)
	if err != nil {
		return nil, err
	}
	k.c, k.auth = c, auth
	t := NewTransit(c, cfg.TransitMount)
	if err := t.Enable(ctx); err != nil {
		return nil, Explain(cfg.Address, err)
	}
	if err := t.EnsureKey(ctx, FingerprintKey, "hmac"); err != nil {
		return nil, Explain(cfg.Address, err)
	}
	if err := t.EnsureKey(ctx, EvidenceKey, "ed25519"); err != nil {
		return nil, Explain(cfg.Address, err)
	}
	return &Session{Client: c, Config: cfg, Store: NewStore(c, cfg.Mount, cfg.PathTemplate), Transit: t, keeper: k}, nil
}
