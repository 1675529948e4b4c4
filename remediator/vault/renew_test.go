package vault_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/vault"
)

// shortLivedAppRole is an AppRole login on srv whose tokens live ttl,
// renewable up to maxTTL, and may do anything.
func shortLivedAppRole(t *testing.T, srv *vaulttest.Server, ttl, maxTTL string) vault.Auth {
	t.Helper()
	roleID, secretID := srv.AppRole(t, "pushvault", `path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }`, ttl, maxTTL)
	return vault.Auth{Method: "approle", RoleID: roleID, SecretID: secretID}
}

// keptSession starts Vault with an AppRole login whose tokens live ttl,
// renewable up to maxTTL, and opens a session with it whose token is kept
// alive until the test ends.
func keptSession(t *testing.T, ttl, maxTTL string) (*vaulttest.Server, vault.Auth, *vault.Session, *vaulttest.SyncBuffer) {
	t.Helper()
	srv := vaulttest.Start(t)
	auth := shortLivedAppRole(t, srv, ttl, maxTTL)
	s, err := vault.Open(context.Background(), vault.Config{Address: srv.Addr, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	logs := &vaulttest.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Keep(ctx, slog.New(slog.NewJSONHandler(logs, nil)))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return srv, auth, s, logs
}

// assertNoCredentials fails when the logs carry the login's secret or a
// token the session used.
func assertNoCredentials(t *testing.T, logs string, creds ...string) {
	t.Helper()
	for _, c := range creds {
		if c != "" && strings.Contains(logs, c) {
			t.Fatal("the keeper's log carries a credential")
		}
	}
}

// TestSessionOutlivesTokenMaxTTL: with an AppRole token that lives 3 s and
// renews up to 6 s, the session keeps working at 13 s: it renews, then logs
// in again before the token dies, and says so at info without the token.
// (Vault reports TTLs in whole seconds, rounded: a 2 s token leaves the
// lifetime watcher too little margin to be a fair test.)
func TestSessionOutlivesTokenMaxTTL(t *testing.T) {
	_, auth, s, logs := keptSession(t, "3s", "6s")
	first := s.Client.Token()
	ctx := context.Background()
	tokens := map[string]bool{first: true}
	start := time.Now()
	for time.Since(start) < 13*time.Second {
		if _, err := s.Transit.HMAC(ctx, vault.FingerprintKey, []byte("probe")); err != nil {
			t.Fatalf("after %s: %v\nlogs:\n%s", time.Since(start).Round(time.Millisecond), err, logs)
		}
		tokens[s.Client.Token()] = true
		time.Sleep(250 * time.Millisecond)
	}
	if len(tokens) < 3 {
		t.Errorf("the session used %d tokens in 13 s of 6 s tokens; want a new login at least twice", len(tokens))
	}
	out := logs.String()
	for _, want := range []string{`"msg":"vault token renewed"`, `"msg":"vault token replaced by a new login"`, `"auth_method":"approle"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	creds := []string{auth.SecretID}
	for tok := range tokens {
		creds = append(creds, tok)
	}
	assertNoCredentials(t, out, creds...)
}

// TestSessionLogsInAgainAfterRevocation: a token revoked long before its
// TTL is refused (403); the refusal makes the keeper check the token and
// log in again, and the session works again.
func TestSessionLogsInAgainAfterRevocation(t *testing.T) {
	srv, auth, s, logs := keptSession(t, "1h", "2h")
	revoked := s.Client.Token()
	ctx := context.Background()
	if err := srv.Client(t).Auth().Token().RevokeTreeWithContext(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for {
		if _, err = s.Transit.HMAC(ctx, vault.FingerprintKey, []byte("probe")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session still fails 20 s after its token was revoked: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.Client.Token() == revoked {
		t.Fatal("the session works with the revoked token")
	}
	out := logs.String()
	if !strings.Contains(out, "vault no longer accepts the token") {
		t.Errorf("logs do not say why the token was replaced:\n%s", out)
	}
	assertNoCredentials(t, out, auth.SecretID, revoked, s.Client.Token())
}
