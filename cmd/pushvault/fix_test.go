package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/vaulttest"
)

// vaultRun runs pushvault with Vault configured and a given data dir.
func vaultRun(t *testing.T, srv *vaulttest.Server, data, dir string, args ...string) result {
	t.Helper()
	return runBinary(t, dir, []string{"PUSHVAULT_DATA_DIR=" + data, "VAULT_ADDR=" + srv.Addr, "VAULT_TOKEN=" + srv.Token}, args...)
}

func TestFixLeakyRepository(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	f := fixture.Leaky(t)
	r := f.Repo
	r.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	head := r.Head()
	data := t.TempDir()

	run := vaultRun(t, srv, data, r.Dir, "scan", "--fix", "--log-level", "debug")
	if run.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", run.code, run.stdout, run.stderr)
	}
	// The working tree, index and current branch are untouched.
	if got := r.Head(); got != head {
		t.Fatalf("HEAD moved to %s", got)
	}
	if st := r.Git("status", "--porcelain"); st != "" {
		t.Fatalf("working tree changed:\n%s", st)
	}
	branch := "pushvault/fix-" + head[:7]
	fixCommit := r.Git("rev-parse", branch)
	if parent := r.Git("rev-parse", branch+"^"); parent != head {
		t.Fatalf("fix commit's parent %s, want %s", parent, head)
	}
	if author := r.Git("log", "-1", "--format=%an", branch); author != "pushvault" {
		t.Errorf("fix commit author %q", author)
	}

	// Every planted secret is in Vault at the documented path, with metadata.
	wantPaths := map[string]string{
		"AWS": "aws", "Stripe": "stripe_api_key", "Slack": "slack_token", "SendGrid": "sendgrid_key",
		"Github": "github_token", "NpmToken": "npm_token", "Postgres": "database", "PrivateKey": "private_key", "VaultToken": "vault_token",
	}
	for _, p := range f.Planted {
		path := "pushvault/acme/shop/" + wantPaths[p.Detector]
		meta, err := c.KVv2("secret").GetMetadata(ctx, path)
		if err != nil {
			t.Errorf("%s: no secret at secret/%s: %v", p.Detector, path, err)
			continue
		}
		if meta.CurrentVersion != 1 || meta.CustomMetadata["detector"] != p.Detector ||
			meta.CustomMetadata["source_commit"] != f.Commits[p.Commit] || meta.CustomMetadata["source_path"] != p.Path ||
			!strings.HasPrefix(meta.CustomMetadata["fingerprint"].(string), "hmac-vault:") || meta.CustomMetadata["source_repo"] != "acme/shop" {
			t.Errorf("%s: metadata %v version %d", p.Detector, meta.CustomMetadata, meta.CurrentVersion)
		}
	}

	// No planted value remains anywhere in the fix branch's tree.
	tree := r.Git("ls-tree", "-r", "--name-only", branch)
	for _, path := range strings.Split(tree, "\n") {
		content := r.Git("show", branch+":"+path)
		for _, v := range f.Values() {
			if strings.Contains(content, v) {
				t.Errorf("planted value still in %s on the fix branch", path)
			}
		}
	}

	// pushvault exec resolves vault.env from the fix branch to the vaulted values.
	wt := gittest.Clone(t, r.Dir, "--branch", branch)
	env := vaultRun(t, srv, data, wt.Dir, "exec", "--env-file", "vault.env", "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec: exit %d: %s", env.code, env.stderr)
	}
	got := envMap(env.stdout)
	entries := readEnvNames(t, filepath.Join(wt.Dir, "vault.env"))
	if len(entries) == 0 {
		t.Fatal("vault.env maps nothing")
	}
	values := map[string]bool{}
	for _, v := range f.Values() {
		values[strings.TrimSpace(v)] = true // PEM keys are stored without the file's final newline
	}
	for _, name := range entries {
		v, ok := got[name]
		if !ok || strings.HasPrefix(v, "vault:") || v == "" {
			t.Errorf("exec: %s not resolved (%q)", name, redactForTest(v))
			continue
		}
		if !values[strings.TrimSpace(v)] && !containsAny(v, f.Values()) {
			t.Errorf("exec: %s resolved to a value that was not planted", name)
		}
	}

	// A second run changes nothing: no new versions, the same branch commit.
	run2 := vaultRun(t, srv, data, r.Dir, "scan", "--fix", "--format", "json")
	if run2.code != 1 {
		t.Fatalf("second run: exit %d: %s", run2.code, run2.stderr)
	}
	if again := r.Git("rev-parse", branch); again != fixCommit {
		t.Errorf("second run moved the fix branch from %s to %s", fixCommit, again)
	}
	if n := strings.Count(r.Git("branch", "--list", "pushvault/*"), "pushvault/"); n != 1 {
		t.Errorf("%d pushvault branches, want 1", n)
	}
	for _, p := range wantPaths {
		meta, err := c.KVv2("secret").GetMetadata(ctx, "pushvault/acme/shop/"+p)
		if err == nil && meta.CurrentVersion != 1 {
			t.Errorf("%s: version %d after two runs", p, meta.CurrentVersion)
		}
	}
	var doc struct {
		Findings []struct{ ID string }
		Fix      struct {
			Branch, Commit string
			Changed        bool
			Secrets        []struct {
				ID           string
				VaultPath    string `json:"vault_path"`
				VaultVersion int    `json:"vault_version"`
				Created      bool
				References   map[string]string
			}
		}
	}
	if err := json.Unmarshal([]byte(run2.stdout), &doc); err != nil {
		t.Fatalf("second run's JSON: %v\n%s", err, run2.stdout)
	}
	if doc.Fix.Changed || doc.Fix.Branch != branch || doc.Fix.Commit != fixCommit || len(doc.Fix.Secrets) != len(f.Planted) || len(doc.Findings) != len(f.Planted) {
		t.Errorf("second run's fix report: %+v", doc.Fix)
	}
	for _, s := range doc.Fix.Secrets {
		if s.Created || s.VaultVersion != 1 || !strings.HasPrefix(s.VaultPath, "secret/pushvault/acme/shop/") || len(s.References) == 0 {
			t.Errorf("second run, secret %s: %+v", s.ID, s)
		}
	}

	// The evidence ledger verifies; the second run added nothing to it.
	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ver := vaultRun(t, srv, data, r.Dir, "evidence", "verify")
	if ver.code != 0 || !strings.Contains(ver.stdout, "verified") {
		t.Fatalf("evidence verify: exit %d\n%s%s", ver.code, ver.stdout, ver.stderr)
	}
	// One changed byte in record 5 fails verification, naming record 5.
	lines := bytes.SplitAfter(ledger, []byte("\n"))
	tampered := append([]byte(nil), lines[4]...)
	i := bytes.Index(tampered, []byte(`"actor":"`)) + len(`"actor":"`)
	tampered[i] ^= 0x01
	forged := filepath.Join(t.TempDir(), "forged.jsonl")
	if err := os.WriteFile(forged, bytes.Join(append(append(append([][]byte{}, lines[:4]...), tampered), lines[5:]...), nil), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := vaultRun(t, srv, data, r.Dir, "evidence", "verify", "--ledger", forged)
	if bad.code != 2 || !strings.Contains(bad.stderr, "record 5 (line 5)") {
		t.Errorf("tampered ledger: exit %d, stderr %q; want exit 2 naming record 5", bad.code, bad.stderr)
	}
	md := vaultRun(t, srv, data, r.Dir, "evidence", "export", "--format", "md")
	if md.code != 0 || !strings.Contains(md.stdout, "| fix_proposed |") {
		t.Errorf("export md: exit %d\n%s", md.code, md.stdout)
	}

	transitions := map[string]int{}
	for _, line := range bytes.Split(bytes.TrimSpace(ledger), []byte("\n")) {
		var rec struct{ Transition string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("ledger line: %v", err)
		}
		transitions[rec.Transition]++
	}
	// Nothing in this fixture can be rotated here (no declared database, no
	// token of this Vault, no GitHub revoker locally): every finding waits
	// for a person.
	wantTransitions := map[string]int{"detected": len(f.Planted), "vaulted": len(f.Planted), "rotation_manual": len(f.Planted),
		"fix_proposed": countEdited(run.stdout)}
	if diff := cmp.Diff(wantTransitions, transitions); diff != "" {
		t.Errorf("ledger transitions after two runs (-want +got):\n%s", diff)
	}

	// No planted value in any output.
	for _, out := range []result{run, run2, ver, bad, md} {
		for _, v := range f.Values() {
			if strings.Contains(out.stdout+out.stderr, v) {
				t.Errorf("planted value (starts %q) in pushvault output", v[:4])
			}
		}
	}
	for _, v := range f.Values() {
		if bytes.Contains(ledger, []byte(v)) {
			t.Errorf("planted value in the evidence ledger")
		}
	}
}

func TestFixVaultFailures(t *testing.T) {
	f := fixture.Leaky(t)
	head := f.Repo.Head()
	cases := []struct {
		name  string
		setup func(t *testing.T) *vaulttest.Server
		want  string
	}{
		{"unreachable", func(t *testing.T) *vaulttest.Server { s := vaulttest.Start(t); s.Stop(); return s }, "vault is unreachable"},
		{"sealed", func(t *testing.T) *vaulttest.Server {
			s := vaulttest.Start(t)
			if err := s.Client(t).Sys().Seal(); err != nil {
				t.Fatal(err)
			}
			return s
		}, "vault is sealed"},
		{"denied", func(t *testing.T) *vaulttest.Server {
			s := vaulttest.Start(t)
			c := s.Client(t)
			// Transit works, KV writes are refused.
			if err := c.Sys().PutPolicy("no-kv", `path "transit/*" { capabilities = ["create", "read", "update", "list"] }
path "sys/mounts" { capabilities = ["read"] }
path "sys/mounts/*" { capabilities = ["create", "read", "update"] }`); err != nil {
				t.Fatal(err)
			}
			tok, err := c.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"no-kv"}})
			if err != nil {
				t.Fatal(err)
			}
			s.Token = tok.Auth.ClientToken
			return s
		}, "vault denied the request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.setup(t)
			data := t.TempDir()
			run := vaultRun(t, srv, data, f.Repo.Dir, "scan", "--fix")
			if run.code != 2 || !strings.Contains(run.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", run.code, run.stderr, tc.want)
			}
			if b := f.Repo.Git("branch", "--list", "pushvault/*"); b != "" {
				t.Errorf("a fix branch was created: %s", b)
			}
			if led, err := os.ReadFile(filepath.Join(data, "evidence.jsonl")); err == nil && bytes.Contains(led, []byte(`"vaulted"`)) {
				t.Errorf("ledger records something as vaulted:\n%s", led)
			}
			if f.Repo.Head() != head {
				t.Errorf("HEAD moved")
			}
			for _, v := range f.Values() {
				if strings.Contains(run.stdout+run.stderr, v) {
					t.Errorf("planted value in output")
				}
			}
		})
	}
}

// envMap reads the output of `env -0`.
func envMap(out string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(out, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func readEnvNames(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if len(sub) >= 16 && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func redactForTest(v string) string {
	if len(v) > 4 {
		return v[:4] + "…"
	}
	return v
}

// countEdited counts the secrets whose block in the --fix output lists an
// edited or deleted file.
func countEdited(stdout string) int {
	n, counted := 0, false
	for _, line := range strings.Split(stdout, "\n") {
		switch {
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   "):
			counted = false // a new secret's block
		case !counted && (strings.HasPrefix(line, "      edited ") || strings.HasPrefix(line, "      deleted ")):
			n++
			counted = true
		}
	}
	return n
}
