package main_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/pgtest"
	"github.com/pushvault/pushvault/internal/secrettest"
)

// TestAppPushOverTheScanLimits: a new branch of 60 commits pushed to a
// server whose scan_limits.max_commits is 50. The newest 50 are scanned and
// the secret among them is vaulted and fixed; the check run on the head
// ends neutral, saying how many commits were not scanned, which limit
// stopped it and the local command that scans them; the secret in the
// oldest, unscanned commit is not vaulted, and no value is printed.
func TestAppPushOverTheScanLimits(t *testing.T) {
	e := newAppEnvConfig(t, "scan_limits:\n  max_commits: 50\n")
	g := secrettest.Fresh(t)
	scanned, unscanned := g.Stripe(), g.Stripe()
	work := e.clone(t)
	work.Git("checkout", "-q", "-b", "import")
	work.Commit("dev <dev@acme.test>", "legacy", map[string]string{"legacy/old.env": "OLD_STRIPE_KEY=" + unscanned + "\n"})
	for i := range 58 {
		work.Commit("dev <dev@acme.test>", fmt.Sprintf("import %d", i), map[string]string{fmt.Sprintf("data/%02d.txt", i): fmt.Sprintf("row %d\n", i)})
	}
	head := work.Commit("dev <dev@acme.test>", "config", map[string]string{"config/payments.yml": "stripe_api_key: " + scanned + "\n"})
	work.Git("push", "-q", "origin", "import")

	r := e.completedRun(t, head)
	if r.Conclusion != "neutral" {
		t.Errorf("conclusion %s, want neutral\n%s", r.Conclusion, r.Summary)
	}
	for _, want := range []string{
		"pushvault scanned 50 commits pushed to `import`",
		"it adds 60 commits, more than this server's `scan_limits.max_commits` (50)",
		"the 10 commits older than",
		fmt.Sprintf("run `pushvault scan --range origin/main..%s`", head[:7]),
	} {
		if !strings.Contains(r.Summary, want) {
			t.Errorf("the summary does not say %q:\n%s", want, r.Summary)
		}
	}
	if want := "1 secret moved to Vault; 10 commits not scanned (over the scan limits)"; r.Title != want {
		t.Errorf("title %q, want %q", r.Title, want)
	}
	kv := e.vault.Client(t).KVv2("secret")
	if s, err := kv.GetVersion(context.Background(), "pushvault/acme/shop/stripe_api_key", 1); err != nil || s.Data["value"] != scanned {
		t.Errorf("the secret in the scanned commits is not vaulted (%v)", err)
	}
	if _, err := kv.Get(context.Background(), "pushvault/acme/shop/old_stripe_key"); err == nil {
		t.Error("a secret of an unscanned commit is in Vault")
	}
	e.fixPR(t, head, "import")
	noPlantedValue(t, []string{scanned, unscanned}, nil, append(e.githubTexts(), e.serve.logs.String()))
}

// TestAppDatabaseThatNeverAnswers: a push leaks a PostgreSQL URI of a
// declared database whose server accepts connections and never answers.
// Each attempt's rotation fails within rotation.database_timeout, the push
// is retried and then dead-lettered with the reason on its check run (the
// value stays vaulted, its rotation recorded as failed), and the
// workers are free: the next push is scanned and completed.
func TestAppDatabaseThatNeverAnswers(t *testing.T) {
	ip, err := pgtest.NonLoopbackIPv4()
	if err != nil {
		t.Fatalf("secret detectors ignore loopback database hosts, so this test needs another address: %v", err)
	}
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	addr := l.Addr().String()

	e := newStandIn(t)
	c := e.vault.Client(t)
	if err := c.Sys().Mount("database", &api.MountInput{Type: "database"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("database/config/shop-db", map[string]any{
		"plugin_name": "postgresql-database-plugin", "verify_connection": false,
		"connection_url": "postgresql://{{username}}:{{password}}@" + addr + "/postgres?sslmode=disable",
		"username":       pgtest.SuperUser, "password": secrettest.Fresh(t).PostgresPassword(), "allowed_roles": "pv-*",
	}); err != nil {
		t.Fatal(err)
	}
	e.config = "rotation:\n  database_timeout: 2s\n  databases:\n    - match: {host: \"" + ip + "\"}\n      vault_connection: shop-db\n"
	e.start(t, "  max_attempts: 2\n  backoff: [100ms]\n")

	password := secrettest.Fresh(t).PostgresPassword()
	work := e.clone(t)
	leak := work.Commit("dev <dev@acme.test>", "db", map[string]string{".env": "DATABASE_URL=postgresql://app:" + password + "@" + addr + "/app\n"})
	work.Git("push", "-q", "origin", "HEAD:main")
	r := e.completedRun(t, leak)
	if r.Conclusion != "failure" || !strings.Contains(r.Summary, "no answer within rotation.database_timeout (2s)") {
		t.Errorf("check run on the leak: %s, want failure saying the database did not answer:\n%s\n%s", r.Conclusion, r.Summary, e.serve.logs)
	}
	meta, err := c.KVv2("secret").GetMetadata(context.Background(), "pushvault/acme/shop/database_url")
	if err != nil || meta.CustomMetadata["state"] != "rotation_failed" {
		t.Errorf("the leaked URI's vault record: %v %+v", err, meta)
	}

	clean := work.Commit("dev <dev@acme.test>", "docs", map[string]string{"NOTES.md": "nothing secret\n"})
	work.Git("push", "-q", "origin", "HEAD:main")
	if r := e.completedRun(t, clean); r.Conclusion != "success" {
		t.Errorf("the next push: %s, want success", r.Conclusion)
	}
	noPlantedValue(t, []string{password}, nil, append(e.githubTexts(), e.serve.logs.String()))
}
