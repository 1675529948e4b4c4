package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppOutlivesVaultTokenMaxTTL: serve logs in to Vault with AppRole
// tokens that live 3 s, renewable up to 6 s. A push right after start and
// one 13 s later (past two max TTLs) are both remediated: serve renewed
// its token and logged in again, said so in its log, and never printed
// the secret id or a token.
func TestAppOutlivesVaultTokenMaxTTL(t *testing.T) {
	e := newStandIn(t)
	roleID, secretID := e.vault.AppRole(t, "pushvault", `path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }`, "3s", "6s")
	secretFile := filepath.Join(t.TempDir(), "secret-id")
	if err := os.WriteFile(secretFile, []byte(secretID), 0o600); err != nil {
		t.Fatal(err)
	}
	e.config = fmt.Sprintf("vault:\n  auth:\n    method: approle\n    role_id: %s\n    secret_id_file: %s\n", roleID, secretFile)
	e.start(t, "")
	started := time.Now()
	g := secrettest.Fresh(t)
	push := func(file, value string) string {
		work := e.clone(t)
		head := work.Commit("dev <dev@acme.test>", "config", map[string]string{file: "STRIPE_API_KEY=" + value + "\n"})
		work.Git("push", "origin", "HEAD:main")
		e.waitFor(t, "the check run on "+file, func() bool {
			r := e.checkRun(head)
			return r != nil && r.Status == "completed"
		})
		if r := e.checkRun(head); r.Conclusion != "action_required" {
			t.Fatalf("%s: check run concluded %q, want action_required:\n%s\n%s", file, r.Conclusion, r.Summary, e.serve.logs)
		}
		return value
	}
	first := push("billing/.env", g.Stripe())
	time.Sleep(time.Until(started.Add(13 * time.Second)))
	second := push("shipping/.env", g.Stripe())
	logs := e.serve.logs.String()
	if !strings.Contains(logs, `"msg":"vault token replaced by a new login"`) {
		t.Errorf("serve did not log a new Vault login:\n%s", grepLines(logs, "vault"))
	}
	for _, v := range []string{secretID, first, second} {
		if strings.Contains(logs, v) {
			t.Error("serve's log carries the secret id or a planted value")
		}
	}
}
