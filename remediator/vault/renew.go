package vault

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"
)

// Waits between two failed logins while the token is being replaced: the
// first, doubled after each failure up to the last.
const (
	firstReloginWait = time.Second
	maxReloginWait   = 30 * time.Second
)

// keeper keeps a Session's token valid for as long as the process runs:
// a token login returned (AppRole, JWT, Kubernetes) is renewed with Vault's
// lifetime watcher and, when renewal can no longer extend it (max TTL
// reached, not renewable, renewal refused), replaced by a fresh login with
// the configured method. The swap is api.Client.SetToken on the one client
// every user of the session shares: requests under way finish with the
// token they started with, the next ones carry the new one.
type keeper struct {
	c   *api.Client
	cfg Config

	mu   sync.Mutex
	auth *api.Secret // the current token's lease

	// suspect hears that Vault refused the session's current token (403):
	// it may have died before its TTL (revoked, or Vault lost it).
	suspect chan struct{}
}

func newKeeper(cfg Config) *keeper {
	return &keeper{cfg: cfg, suspect: make(chan struct{}, 1)}
}

// denied is called with the token of every request Vault refused (any
// goroutine). Only the session's current token matters: a refused copy
// (rotate.VaultToken checking an exposed token) is someone else's.
func (k *keeper) denied(token string) {
	if k.c == nil || token != k.c.Token() {
		return
	}
	select {
	case k.suspect <- struct{}{}:
	default: // a check is already due
	}
}

// Keep keeps the session's token alive until ctx ends (run it on its own
// goroutine for as long as the session is used). Renewals and new logins
// are logged at info, failures at warn; never with a token. A token
// configured as such (auth method token) is renewed while it is renewable
// and otherwise left alone: there is nothing to log in with.
func (s *Session) Keep(ctx context.Context, log *slog.Logger) {
	k := s.keeper
	for ctx.Err() == nil {
		reason := k.watch(ctx, log)
		if ctx.Err() != nil {
			return
		}
		if !k.canLogin() {
			log.Warn("vault token can no longer be renewed, and the token auth method cannot log in again: configure approle, jwt or kubernetes to have pushvault replace it",
				slog.String("reason", reason))
			return
		}
		k.relogin(ctx, log, reason)
	}
}

// watch renews the current token until renewal cannot extend it any
// more, or Vault refuses it, and says which.
func (k *keeper) watch(ctx context.Context, log *slog.Logger) string {
	k.mu.Lock()
	auth := k.auth
	k.mu.Unlock()
	if auth.Auth.LeaseDuration == 0 && !auth.Auth.Renewable {
		// No TTL (a root or periodic-less static token): nothing expires;
		// only a refusal says it died.
		return k.checkOnSuspect(ctx)
	}
	w, err := k.c.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: auth})
	if err != nil {
		return "lifetime watcher: " + err.Error()
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ""
		case err := <-w.DoneCh():
			if err != nil {
				return "renewal failed: " + Explain(k.cfg.Address, err).Error()
			}
			return "token at the end of its renewable lifetime (max TTL, or not renewable)"
		case r := <-w.RenewCh():
			if r.Secret == nil || r.Secret.Auth == nil {
				continue
			}
			log.Info("vault token renewed", slog.String("auth_method", k.cfg.Auth.Method),
				slog.Int("ttl_seconds", r.Secret.Auth.LeaseDuration))
			if k.canLogin() && r.Secret.Auth.LeaseDuration < auth.Auth.LeaseDuration {
				// Renewal no longer gives the full TTL: the max TTL is
				// near. Logging in now, while the token still has that
				// much time, beats the watcher's last-moment grace.
				return "token near its max TTL"
			}
		case <-k.suspect:
			if why := k.check(ctx); why != "" {
				return why
			}
		}
	}
}

// canLogin says whether the configured method can get a new token: all
// but token.
func (k *keeper) canLogin() bool { return k.cfg.Auth.Method != "token" }

// checkOnSuspect waits for a refusal that proves the token dead.
func (k *keeper) checkOnSuspect(ctx context.Context) string {
	for {
		if !k.waitSuspect(ctx) {
			return ""
		}
		if why := k.check(ctx); why != "" {
			return why
		}
	}
}

// waitSuspect waits for a refusal of the current token; false when ctx
// ended first.
func (k *keeper) waitSuspect(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-k.suspect:
		return true
	}
}

// check asks Vault about the current token after a refusal: a refusal
// for want of a policy leaves it valid (""); a token Vault no longer
// accepts is the reason returned.
func (k *keeper) check(ctx context.Context) string {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := k.c.Auth().Token().LookupSelfWithContext(cctx)
	if err == nil || !errors.Is(Explain(k.cfg.Address, err), ErrDenied) {
		return ""
	}
	return "vault no longer accepts the token (revoked or expired early)"
}

// relogin logs in again with the configured method until it succeeds or
// ctx ends, waiting longer after each failure, and swaps the new token in.
func (k *keeper) relogin(ctx context.Context, log *slog.Logger, reason string) {
	wait := firstReloginWait
	for ctx.Err() == nil {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		auth, err := login(lctx, k.c, k.cfg.Auth)
		cancel()
		if err == nil {
			k.c.SetToken(auth.Auth.ClientToken)
			k.mu.Lock()
			k.auth = auth
			k.mu.Unlock()
			log.Info("vault token replaced by a new login", slog.String("auth_method", k.cfg.Auth.Method),
				slog.String("reason", reason), slog.Int("ttl_seconds", auth.Auth.LeaseDuration))
			return
		}
		log.Warn("vault login failed; trying again", slog.String("auth_method", k.cfg.Auth.Method),
			slog.String("reason", reason), slog.Any("error", Explain(k.cfg.Address, err)), slog.Duration("retry_in", wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		wait = min(2*wait, maxReloginWait)
	}
}
