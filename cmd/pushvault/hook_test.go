package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/awstest"
	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/awssm"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// hookServer is a bare repository with the pushvault hook installed and a
// clone-like working repository that pushes to it over file://.
type hookServer struct {
	bare *gittest.Repo
	work *gittest.Repo
	base string // the clean commit main starts at
}

func newHookServer(t *testing.T) *hookServer {
	t.Helper()
	bare := gittest.Bare(t)
	if r := runBinary(t, bare.Dir, nil, "hook", "install", bare.Dir); r.code != 0 {
		t.Fatalf("hook install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	work := gittest.New(t)
	base := work.Commit("", "base", map[string]string{"README.md": "# shop\n", "main.go": "package main\n\nfunc main() {}\n"})
	work.Git("remote", "add", "origin", "file://"+bare.Dir)
	s := &hookServer{bare: bare, work: work, base: base}
	if r := s.push(t, nil, "origin", "main"); r.code != 0 {
		t.Fatalf("pushing the clean base: exit %d\n%s", r.code, r.stderr)
	}
	return s
}

// push runs `git push ARGS` from the working repository with env added to
// the environment the hook inherits.
func (s *hookServer) push(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command("git", append([]string{"push"}, args...)...)
	cmd.Dir = s.work.Dir
	cmd.Env = append(gittest.Env(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("git push: %v", err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func (s *hookServer) refs() string {
	return s.bare.Git("for-each-ref", "--format=%(refname) %(objectname)")
}

// remoteText is what the hook printed, as git relayed it to the pusher.
func remoteText(stderr string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if rest, ok := strings.CutPrefix(l, "remote: "); ok {
			b.WriteString(strings.TrimRight(rest, " \n") + "\n")
		} else if strings.TrimSpace(l) == "remote:" {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestHookPreReceive(t *testing.T) {
	g := secrettest.New(7)
	stripe, github := g.Stripe(), g.GitHub()
	// Fresh each run where no golden file pins the value.
	seed := rand.Uint64()
	t.Logf("inline allow values from secrettest.New(%d)", seed)
	marked := secrettest.New(seed).GitHub()
	planted := []string{stripe, github, marked}
	markedPush := func(t *testing.T, s *hookServer) []string {
		s.work.Commit("", "fixture", map[string]string{"fixture.py": "import os\n\nTOKEN = \"" + marked + "\"  # pushvault:allow test fixture\n"})
		return []string{"origin", "main"}
	}
	type step func(t *testing.T, s *hookServer) []string // returns push args
	cases := []struct {
		name   string
		env    []string
		config map[string]string // git config in the bare repository
		setup  step
		accept bool
		golden string   // testdata/golden/hook/<golden>, when set
		say    []string // the hook's message contains these
		quiet  []string // the hook's message does not contain these
		audit  []string // the audit log next to the hook contains these
		// unaudited: there is no audit log next to the hook afterwards
		unaudited bool
	}{
		{
			name: "secret in a pushed commit is rejected",
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "config", map[string]string{"config/app.env": "PORT=8080\nSTRIPE_KEY=" + stripe + "\n"})
				return []string{"origin", "main"}
			},
			golden: "rejected.txt",
		},
		{
			name: "secret in an older commit of the push, fixed later, is still rejected",
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "add client", map[string]string{"client.py": "TOKEN = \"" + github + "\"\n"})
				s.work.Commit("", "remove token", map[string]string{"client.py": "import os\nTOKEN = os.environ[\"GITHUB_TOKEN\"]\n"})
				return []string{"origin", "main"}
			},
			golden: "rejected_history.txt",
		},
		{
			name: "Vault down: still rejected, says nothing was vaulted",
			env:  []string{"VAULT_ADDR=http://127.0.0.1:1", "VAULT_TOKEN=x"},
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "config", map[string]string{"config/app.env": "STRIPE_KEY=" + stripe + "\n"})
				return []string{"origin", "main"}
			},
			say: []string{"could not reach Vault, nothing vaulted", "Stripe sk_l**** (refs/heads/main)", "config/app.env:1", "If the value was ever shared, rotate it."},
		},
		{
			name: "Vault down: a clean push does not need it",
			env:  []string{"VAULT_ADDR=http://127.0.0.1:1", "VAULT_TOKEN=x"},
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "docs", map[string]string{"docs/setup.md": "Set STRIPE_KEY in the environment.\n"})
				return []string{"origin", "main"}
			},
			accept: true,
		},
		{
			name: "clean push is accepted",
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "docs", map[string]string{"docs/setup.md": "Set STRIPE_KEY in the environment.\n"})
				return []string{"origin", "main"}
			},
			accept: true,
		},
		{
			name: "clean and leaky refs in one push are rejected whole",
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "docs", map[string]string{"docs/setup.md": "Set STRIPE_KEY.\n"})
				s.work.Git("checkout", "-q", "-b", "feature", s.base)
				s.work.Commit("", "leak", map[string]string{"settings.yml": "stripe:\n  key: " + stripe + "\n"})
				return []string{"origin", "main", "feature"}
			},
			say: []string{"push rejected: 1 secret found", "Stripe sk_l**** (refs/heads/feature)", "settings.yml:2"},
		},
		{
			name: "new tag with a secret is rejected",
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Git("checkout", "-q", "--detach")
				s.work.Commit("", "release", map[string]string{"release.env": "GITHUB_TOKEN=" + github + "\n"})
				s.work.Git("tag", "-a", "-m", "v1", "v1.0.0")
				return []string{"origin", "v1.0.0"}
			},
			say: []string{"Github ghp_**** (refs/tags/v1.0.0)", "release.env:1"},
		},
		{
			name: "new branch of already pushed commits is accepted",
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Git("branch", "copy", s.base)
				return []string{"origin", "copy"}
			},
			accept: true,
		},
		{
			// Trust model: the pusher cannot switch the scan off in the push
			// that leaks (settings come from the default branch before it).
			name: "settings added by the push do not apply to it",
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "test key", map[string]string{
					".github/pushvault.yml": "allowlist:\n  paths: [\"**\"]\n  detectors: [Stripe]\nscan:\n  max_file_size: 1B\n",
					"testdata/stripe.env":   "STRIPE_KEY=" + stripe + "\n",
				})
				return []string{"origin", "main"}
			},
			accept: false, say: []string{"Stripe", "Settings: the defaults (no .github/pushvault.yml on the default branch)"},
		},
		{
			name: "settings landed on the default branch apply",
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "allow the test data", map[string]string{".github/pushvault.yml": "allowlist:\n  paths: [\"testdata/**\"]\n"})
				if r := s.push(t, nil, "origin", "main"); r.code != 0 {
					t.Fatalf("settings push: exit %d\n%s", r.code, r.stderr)
				}
				s.work.Commit("", "test key", map[string]string{"testdata/stripe.env": "STRIPE_KEY=" + stripe + "\n"})
				return []string{"origin", "main"}
			},
			accept: true,
		},
		{
			// inline_allow: record, the default: honoured, said and recorded
			// with the pusher, never with the value.
			name:   "inline pushvault:allow passes and is recorded with the pusher",
			env:    []string{"GL_USERNAME=dev"},
			setup:  markedPush,
			accept: true,
			say: []string{"1 finding let through by an inline allow comment (the server's inline_allow: record), pushed by dev (GL_USERNAME); recorded in the audit log",
				"Github, id pv_", "at fixture.py:3"},
			audit: []string{`"transition":"inline_allowed"`, `"actor":"dev (GL_USERNAME)"`, `"detector":"Github"`, `"path":"fixture.py"`, `"line":"3"`, `"occurrence":"pv_`},
		},
		{
			name:      "inline pushvault:allow under inline_allow: honour passes unrecorded",
			config:    map[string]string{"pushvault.inlineAllow": "honour"},
			setup:     markedPush,
			accept:    true,
			quiet:     []string{"inline", "fixture.py"},
			unaudited: true,
		},
		{
			name:  "inline pushvault:allow under inline_allow: ignore is a finding like any other",
			env:   []string{"PUSHVAULT_HOOK_INLINE_ALLOW=ignore"},
			setup: markedPush,
			say: []string{"push rejected: 1 secret found", "Github ghp_**** (refs/heads/main)", "fixture.py:3",
				`this server does not honour "pushvault:allow" comments`},
			quiet:     []string{`Add "# pushvault:allow"`},
			unaudited: true,
		},
		{
			name:   "a bad inline_allow rejects and names the setting",
			config: map[string]string{"pushvault.inlineAllow": "sometimes"},
			setup:  markedPush,
			say:    []string{`git config pushvault.inlineAllow: inline_allow "sometimes" is not one of honour, record, ignore`},
		},
		{
			name: "skip push option by someone the server allows accepts, says why and is recorded",
			env:  []string{"GL_USERNAME=ops", "PUSHVAULT_HOOK_SKIP_ALLOWED=ops"},
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "config", map[string]string{"config/app.env": "STRIPE_KEY=" + stripe + "\n"})
				return []string{"-o", "pushvault.skip=incident 42, key already revoked", "origin", "main"}
			},
			accept: true,
			say:    []string{"scan skipped by push option pushvault.skip (reason: incident 42, key already revoked)", "recorded in the audit log"},
			audit:  []string{`"transition":"scan_skipped"`, `"actor":"ops (GL_USERNAME)"`},
		},
		{
			// Trust model: a pusher cannot grant themselves a skip.
			name: "skip push option by anyone else is refused, recorded, and the push scanned",
			env:  []string{"GL_USERNAME=mallory", "PUSHVAULT_HOOK_SKIP_ALLOWED=ops"},
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "config", map[string]string{"config/app.env": "STRIPE_KEY=" + stripe + "\n"})
				return []string{"-o", "pushvault.skip=trust me", "origin", "main"}
			},
			say:   []string{"skip refused: mallory (GL_USERNAME) may not skip the scan", "recorded in the audit log", "push rejected: 1 secret found"},
			audit: []string{`"transition":"scan_skip_refused"`, `"actor":"mallory (GL_USERNAME)"`, `"reason":"trust me"`},
		},
		{
			name: "budget exhausted, default policy rejects and says so",
			env:  []string{"PUSHVAULT_HOOK_BUDGET=1ns"},
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "docs", map[string]string{"docs/setup.md": "nothing secret\n"})
				return []string{"origin", "main"}
			},
			say: []string{"ran out of its 1ns budget", "push rejected (pushvault.onTimeout = reject)"},
		},
		{
			name:   "budget exhausted, accept policy accepts with a warning",
			config: map[string]string{"pushvault.budget": "1ns", "pushvault.onTimeout": "accept"},
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "docs", map[string]string{"docs/setup.md": "nothing secret\n"})
				return []string{"origin", "main"}
			},
			accept: true,
			say:    []string{"ran out of its 1ns budget", "WARNING: push accepted unscanned"},
		},
		{
			name:   "bad hook configuration rejects and names the setting",
			config: map[string]string{"pushvault.onTimeout": "maybe"},
			setup: func(t *testing.T, s *hookServer) []string {
				s.work.Commit("", "docs", map[string]string{"docs/setup.md": "nothing secret\n"})
				return []string{"origin", "main"}
			},
			say: []string{`git config pushvault.onTimeout: onTimeout "maybe": want reject or accept`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newHookServer(t)
			for k, v := range tc.config {
				s.bare.Git("config", k, v)
			}
			args := tc.setup(t, s)
			before := s.refs()
			r := s.push(t, tc.env, args...)
			msg := remoteText(r.stderr)
			if tc.accept {
				if r.code != 0 {
					t.Fatalf("push rejected (exit %d):\n%s", r.code, r.stderr)
				}
				if s.refs() == before {
					t.Errorf("push accepted but the bare repository's refs did not change")
				}
			} else {
				if r.code == 0 {
					t.Fatalf("push accepted:\n%s", r.stderr)
				}
				if !strings.Contains(r.stderr, "pre-receive hook declined") {
					t.Errorf("git did not report the hook's rejection:\n%s", r.stderr)
				}
				if got := s.refs(); got != before {
					t.Errorf("refs changed by a rejected push:\nbefore:\n%s\nafter:\n%s", before, got)
				}
			}
			for _, want := range tc.say {
				if !strings.Contains(msg, want) {
					t.Errorf("hook message does not contain %q:\n%s", want, msg)
				}
			}
			for _, unwanted := range tc.quiet {
				if strings.Contains(msg, unwanted) {
					t.Errorf("hook message contains %q:\n%s", unwanted, msg)
				}
			}
			audit, err := os.ReadFile(filepath.Join(s.bare.Dir, "hooks", "pushvault-audit.jsonl"))
			switch {
			case tc.unaudited && !os.IsNotExist(err):
				t.Errorf("an audit log exists (%v):\n%s", err, audit)
			case len(tc.audit) > 0 && err != nil:
				t.Fatalf("audit log: %v", err)
			}
			for _, want := range tc.audit {
				if !strings.Contains(string(audit), want) {
					t.Errorf("audit log lacks %s:\n%s", want, audit)
				}
			}
			if tc.golden != "" {
				golden(t, "hook/"+tc.golden, msg)
			}
			for _, v := range planted {
				if strings.Contains(r.stdout+r.stderr+string(audit), v) {
					t.Errorf("planted value (starts %q) in the push output or the audit log", v[:4])
				}
			}
		})
	}
}

// A pushed secret is in Vault at the path the rejection printed, under the
// repository named in git config.
func TestHookPreReceiveVault(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	stripe := secrettest.New(8).Stripe()
	s := newHookServer(t)
	s.bare.Git("config", "pushvault.repository", "acme/shop")
	s.work.Commit("", "config", map[string]string{
		"config/app.env": "STRIPE_KEY=" + stripe + "\n",
		"billing.go":     "package main\n\nconst stripeKey = \"" + stripe + "\"\n",
	})
	before := s.refs()
	data := t.TempDir()
	env := []string{"PUSHVAULT_DATA_DIR=" + data, "VAULT_ADDR=" + srv.Addr, "VAULT_TOKEN=" + srv.Token, "PUSHVAULT_HOOK_BUDGET=30s", "GL_USERNAME=mallory"}
	r := s.push(t, env, "origin", "main")
	msg := remoteText(r.stderr)
	if r.code == 0 {
		t.Fatalf("push accepted:\n%s", r.stderr)
	}
	if got := s.refs(); got != before {
		t.Errorf("refs changed by a rejected push")
	}
	golden(t, "hook/rejected_vault.txt", msg)
	m := regexp.MustCompile(`now in Vault at secret/(\S+) \(version (\d+)\)`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("no vault path in the message:\n%s", msg)
	}
	if !strings.Contains(msg, "reference: vault:secret/data/"+m[1]+"#value") {
		t.Errorf("no reference to %s in the message:\n%s", m[1], msg)
	}
	sec, err := srv.Client(t).KVv2("secret").Get(ctx, m[1])
	if err != nil {
		t.Fatalf("reading secret/%s: %v", m[1], err)
	}
	if sec.Data["value"] != stripe {
		t.Errorf("secret/%s holds a different value", m[1])
	}
	if strings.Contains(r.stdout+r.stderr, stripe) {
		t.Error("planted value in the push output")
	}

	// The hook runs the same pipeline as scan --fix and the App, so its
	// ledger says the same: the secret detected, then vaulted, by whom.
	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatalf("the hook wrote no evidence ledger: %v", err)
	}
	var transitions []string
	for _, line := range strings.Split(strings.TrimSpace(string(ledger)), "\n") {
		var rec evidence.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("ledger line: %v", err)
		}
		transitions = append(transitions, rec.Transition)
		if rec.Repository != "acme/shop" || !strings.Contains(rec.Actor, "mallory (GL_USERNAME)") {
			t.Errorf("record %s: repository %q, actor %q; want acme/shop and the pusher", rec.Transition, rec.Repository, rec.Actor)
		}
	}
	if diff := cmp.Diff([]string{"detected", "vaulted"}, transitions); diff != "" {
		t.Errorf("ledger transitions (-want +got):\n%s", diff)
	}
	if strings.Contains(string(ledger), stripe) {
		t.Error("planted value in the ledger")
	}
	if v := runBinary(t, s.bare.Dir, env, "evidence", "verify"); v.code != 0 {
		t.Errorf("evidence verify after the hook vaulted: exit %d\n%s", v.code, v.stderr)
	}
}

func TestHookInstall(t *testing.T) {
	bare := gittest.Bare(t)
	hooks := filepath.Join(bare.Dir, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		t.Fatal(err)
	}
	// An existing hook that rejects pushes to refs/heads/locked.
	old := "#!/bin/sh\nwhile read o n ref; do\n  if [ \"$ref\" = refs/heads/locked ]; then echo 'locked branch' >&2; exit 1; fi\ndone\n"
	if err := os.WriteFile(filepath.Join(hooks, "pre-receive"), []byte(old), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // a reinstall does not chain pushvault to itself
		r := runBinary(t, bare.Dir, nil, "hook", "install", bare.Dir)
		if r.code != 0 {
			t.Fatalf("install %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{"GitHub Enterprise Server", "GitLab", "Gitea", "pushvault.skip"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("install output lacks %q:\n%s", want, r.stdout)
			}
		}
	}
	chained, err := os.ReadFile(filepath.Join(hooks, "pre-receive.chained"))
	if err != nil || string(chained) != old {
		t.Fatalf("existing hook not kept as pre-receive.chained: %v", err)
	}
	script, err := os.ReadFile(filepath.Join(hooks, "pre-receive"))
	if err != nil || !strings.Contains(string(script), "'"+binary+"' hook pre-receive") {
		t.Fatalf("hook script does not run %s:\n%s", binary, script)
	}
	if v := bare.Git("config", "receive.advertisePushOptions"); v != "true" {
		t.Errorf("receive.advertisePushOptions = %q", v)
	}

	work := gittest.New(t)
	work.Commit("", "base", map[string]string{"README.md": "hi\n"})
	work.Git("remote", "add", "origin", "file://"+bare.Dir)
	s := &hookServer{bare: bare, work: work}
	if r := s.push(t, nil, "origin", "main"); r.code != 0 {
		t.Fatalf("clean push through both hooks: exit %d\n%s", r.code, r.stderr)
	}
	r := s.push(t, nil, "origin", "main:locked")
	if r.code == 0 || !strings.Contains(remoteText(r.stderr), "locked branch") {
		t.Errorf("the chained hook's rejection was lost: exit %d\n%s", r.code, r.stderr)
	}
	work.Commit("", "leak", map[string]string{"a.env": "GITHUB_TOKEN=" + secrettest.New(9).GitHub() + "\n"})
	if r := s.push(t, nil, "origin", "main"); r.code == 0 || !strings.Contains(remoteText(r.stderr), "push rejected: 1 secret found") {
		t.Errorf("pushvault did not run after the chained hook: exit %d\n%s", r.code, r.stderr)
	}

	if r := runBinary(t, work.Dir, nil, "hook", "install", work.Dir); r.code != 2 || !strings.Contains(r.stderr, "not a bare repository") {
		t.Errorf("install into a non-bare repository: exit %d, %s", r.code, r.stderr)
	}
}

// The same hook behind git's smart HTTP server (git http-backend as CGI):
// a leaky push is rejected with the message relayed, a clean one accepted,
// and push options reach the hook.
func TestHookPreReceiveHTTP(t *testing.T) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	s := newHookServer(t)
	s.bare.Git("config", "http.receivepack", "true")
	srv := httptest.NewServer(&cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env: append(gittest.Env(), "GIT_PROJECT_ROOT="+filepath.Dir(s.bare.Dir), "GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=pusher"),
	})
	t.Cleanup(srv.Close)
	url := srv.URL + "/" + filepath.Base(s.bare.Dir)
	stripe := secrettest.New(10).Stripe()

	s.work.Commit("", "config", map[string]string{"config/app.env": "STRIPE_KEY=" + stripe + "\n"})
	before := s.refs()
	r := s.push(t, nil, url, "main")
	if r.code == 0 || !strings.Contains(remoteText(r.stderr), "Stripe sk_l**** (refs/heads/main)") {
		t.Fatalf("leaky push over HTTP: exit %d\n%s", r.code, r.stderr)
	}
	if s.refs() != before {
		t.Error("refs changed by a rejected push over HTTP")
	}
	s.bare.Git("config", "pushvault.skipAllowed", "pusher")
	r = s.push(t, nil, "-o", "pushvault.skip=over http", url, "main")
	if r.code != 0 || !strings.Contains(remoteText(r.stderr), "reason: over http") {
		t.Fatalf("skip over HTTP: exit %d\n%s", r.code, r.stderr)
	}
	s.work.Commit("", "docs", map[string]string{"docs.md": "nothing\n"})
	if r := s.push(t, nil, url, "main"); r.code != 0 {
		t.Fatalf("clean push over HTTP: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, stripe) {
		t.Error("planted value in the push output")
	}
}

// The false-positive route the rejection prints works: the finding id it
// names, listed in allowlist.findings on the default branch first, lets the
// same commit through. Listed in a commit of the push itself, it does not.
func TestHookAllowlistFindingID(t *testing.T) {
	s := newHookServer(t)
	fixture := s.work.Commit("", "fixture", map[string]string{"testdata/key.env": "STRIPE_KEY=" + secrettest.New(11).Stripe() + "\n"})
	r := s.push(t, nil, "origin", "main")
	m := regexp.MustCompile(`, id (pv_[0-9a-f]{20})\n`).FindStringSubmatch(remoteText(r.stderr))
	if r.code == 0 || m == nil {
		t.Fatalf("first push: exit %d, no finding id in:\n%s", r.code, r.stderr)
	}
	allow := map[string]string{".github/pushvault.yml": "allowlist:\n  findings: [" + m[1] + "]\n"}
	s.work.Commit("", "allow the fixture key", allow)
	if r := s.push(t, nil, "origin", "main"); r.code == 0 {
		t.Fatalf("an allowlist in the push itself let its own finding through:\n%s", r.stderr)
	}
	// The allowlist lands on its own (reviewed like code), then the
	// fixture commit, unchanged, is merged in.
	s.work.Git("checkout", "-q", "-b", "settings", s.base)
	s.work.Commit("", "allow the fixture key", allow)
	if r := s.push(t, nil, "origin", "settings:main"); r.code != 0 {
		t.Fatalf("settings push: exit %d\n%s", r.code, r.stderr)
	}
	s.work.Git("merge", "-q", "--no-edit", fixture)
	if r := s.push(t, nil, "origin", "settings:main"); r.code != 0 {
		t.Fatalf("push with the finding allowlisted on the default branch: exit %d\n%s", r.code, r.stderr)
	}
}

// A skip leaves evidence where Vault is configured, and is refused when it
// can't; settings can come from pushvault.yml next to the hook.
func TestHookSkipRecordedAndHookFile(t *testing.T) {
	srv := vaulttest.Start(t)
	s := newHookServer(t)
	data := t.TempDir()
	key := secrettest.New(31).Stripe()
	s.work.Commit("", "leak", map[string]string{"a.env": "K=" + key + "\n"})
	env := []string{"VAULT_ADDR=" + srv.Addr, "VAULT_TOKEN=" + srv.Token, "PUSHVAULT_DATA_DIR=" + data, "GL_USERNAME=alice", "PUSHVAULT_HOOK_SKIP_ALLOWED=alice"}

	down := []string{"VAULT_ADDR=http://127.0.0.1:1", "VAULT_TOKEN=x", "PUSHVAULT_DATA_DIR=" + data, "PUSHVAULT_HOOK_BUDGET=3s", "GL_USERNAME=alice", "PUSHVAULT_HOOK_SKIP_ALLOWED=alice"}
	before := s.refs()
	if r := s.push(t, down, "-o", "pushvault.skip=incident 7", "origin", "main"); r.code == 0 ||
		!strings.Contains(remoteText(r.stderr), "the skip could not be recorded") || s.refs() != before {
		t.Fatalf("skip with Vault down: exit %d\n%s", r.code, r.stderr)
	}

	r := s.push(t, env, "-o", "pushvault.skip=incident 7", "origin", "main")
	if r.code != 0 || !strings.Contains(remoteText(r.stderr), "recorded in the evidence ledger (1 ref)") {
		t.Fatalf("skip with Vault: exit %d\n%s", r.code, r.stderr)
	}
	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"transition":"scan_skipped"`, `"actor":"alice (GL_USERNAME)"`, `"reason":"incident 7"`, `"finding_id":"push:refs/heads/main@`} {
		if !bytes.Contains(ledger, []byte(want)) {
			t.Errorf("ledger lacks %s:\n%s", want, ledger)
		}
	}
	if v := runBinary(t, s.bare.Dir, env, "evidence", "verify"); v.code != 0 {
		t.Errorf("evidence verify after a skip: exit %d\n%s", v.code, v.stderr)
	}

	// An inline allow (inline_allow: record, the default) goes to the
	// ledger too when Vault is configured, fingerprinted there.
	marked := secrettest.New(rand.Uint64()).Slack()
	s.work.Commit("", "fixture", map[string]string{"test/fixture.env": "SLACK=" + marked + " # pushvault:allow\n"})
	r = s.push(t, env, "origin", "main")
	if r.code != 0 || !strings.Contains(remoteText(r.stderr), "recorded in the evidence ledger:") {
		t.Fatalf("inline allow with Vault: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, marked) {
		t.Error("the inline-allowed value is in the hook's message")
	}
	if ledger, err = os.ReadFile(filepath.Join(data, "evidence.jsonl")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"transition":"inline_allowed"`, `"fingerprint":"hmac-vault:`, `"path":"test/fixture.env"`} {
		if !bytes.Contains(ledger, []byte(want)) {
			t.Errorf("ledger lacks %s:\n%s", want, ledger)
		}
	}

	// Settings from hooks/pushvault.yml: inline_allow: ignore makes the
	// same kind of line a finding.
	hookFile := filepath.Join(s.bare.Dir, "hooks", "pushvault.yml")
	if err := os.WriteFile(hookFile, []byte("inline_allow: ignore\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.work.Commit("", "another fixture", map[string]string{"test/other.env": "SLACK=" + secrettest.New(rand.Uint64()).Slack() + " # pushvault:allow\n"})
	if r = s.push(t, nil, "origin", "main"); r.code == 0 || !strings.Contains(remoteText(r.stderr), "test/other.env:1") {
		t.Errorf("inline_allow: ignore from the hook file: exit %d\n%s", r.code, r.stderr)
	}
	s.work.Git("reset", "-q", "--hard", "HEAD^")

	// Settings from hooks/pushvault.yml: a budget that runs out, accepted by policy.
	if err := os.WriteFile(hookFile, []byte("budget: 1ns\non_timeout: accept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.work.Commit("", "leak again", map[string]string{"b.env": "K=" + secrettest.New(32).Stripe() + "\n"})
	r = s.push(t, nil, "origin", "main")
	if r.code != 0 || !strings.Contains(remoteText(r.stderr), "WARNING: push accepted unscanned") {
		t.Errorf("hook file policy: exit %d\n%s", r.code, r.stderr)
	}
	if err := os.WriteFile(hookFile, []byte("budgett: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.work.Commit("", "clean", map[string]string{"c.md": "notes\n"})
	r = s.push(t, nil, "origin", "main")
	if r.code == 0 || !strings.Contains(remoteText(r.stderr), "pushvault.yml") || !strings.Contains(r.stderr, "budgett") {
		t.Errorf("broken hook file: exit %d\n%s", r.code, r.stderr)
	}
	for _, out := range []string{r.stderr, string(ledger)} {
		if strings.Contains(out, key) || strings.Contains(out, marked) {
			t.Error("planted value in hook output or ledger")
		}
	}
}

// Server-owned keys: a landed settings file that allowlists a whole
// detector and shrinks the size limit changes nothing (the server keeps
// those keys, and the rejection says so); once the server grants
// allowlist.detectors (git config pushvault.repositoryMaySet), the same
// file's allowlist applies.
func TestHookServerOwnedKeys(t *testing.T) {
	s := newHookServer(t)
	s.work.Commit("", "settings", map[string]string{".github/pushvault.yml": "allowlist:\n  detectors: [Stripe]\nscan:\n  max_file_size: 1B\n"})
	if r := s.push(t, nil, "origin", "main"); r.code != 0 {
		t.Fatalf("settings push: exit %d\n%s", r.code, r.stderr)
	}
	key := secrettest.New(41).Stripe()
	s.work.Commit("", "leak", map[string]string{"billing.env": "STRIPE_KEY=" + key + "\n"})
	r := s.push(t, nil, "origin", "main")
	if msg := remoteText(r.stderr); r.code == 0 || !strings.Contains(msg, "billing.env:1") ||
		!strings.Contains(msg, "ignored, the server's to set: allowlist.detectors, scan.max_file_size") {
		t.Fatalf("push under settings that allowlist the detector: exit %d\n%s", r.code, r.stderr)
	}
	s.bare.Git("config", "pushvault.repositoryMaySet", "allowlist.paths, allowlist.findings, allowlist.detectors")
	if r := s.push(t, nil, "origin", "main"); r.code != 0 || strings.Contains(r.stderr, "ignored, the server's") {
		t.Fatalf("push with allowlist.detectors granted by the server: exit %d\n%s", r.code, r.stderr)
	}
	s.bare.Git("config", "pushvault.repositoryMaySet", "allowlist.everything")
	s.work.Commit("", "docs", map[string]string{"docs.md": "notes\n"})
	if r := s.push(t, nil, "origin", "main"); r.code == 0 || !strings.Contains(r.stderr, `"allowlist.everything" not a settings key`) {
		t.Fatalf("unknown key in repositoryMaySet: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Error("planted value in the push output")
	}
}

// Nothing a push adds goes unscanned because of how it is written: not
// .gitattributes that make git call a file binary or show it through a
// textconv filter, not UTF-16 or UTF-32 text, not a stray NUL byte. Real
// binaries are still let through; a file too large to scan rejects the
// push unless the server allows it.
func TestHookScansEverythingAPushAdds(t *testing.T) {
	g := secrettest.Fresh(t)
	var planted []string
	plant := func(v string) string { planted = append(planted, v); return v }
	// a.env, b.key and c.cfg each hold a secret on line 2 that git, under
	// these attributes, would not show.
	attributes := "*.env -diff\n*.key binary\n*.cfg diff=redact\n"
	hidden := func() map[string]string {
		return map[string]string{
			"a.env": "PORT=1\nSTRIPE_KEY=" + plant(g.Stripe()) + "\n",
			"b.key": "id: 7\ntoken: " + plant(g.GitHub()) + "\n",
			"c.cfg": "[api]\ntoken = " + plant(g.GitHub()) + "\n",
		}
	}
	hiddenSay := []string{"push rejected: 3 secrets found", "a.env:2", "b.key:2", "c.cfg:2"}
	script := func(secret string) string {
		return "# 上传 deploy\r\n$ErrorActionPreference = 'Stop'\r\n$token = \"" + secret + "\"\r\nWrite-Host done\r\n"
	}
	// A small limit, landed on the default branch; the size limit is the
	// server's to grant (repository_may_set).
	small := map[string]string{".github/pushvault.yml": "scan:\n  max_file_size: 1KiB\n"}
	const maySetSize = "allowlist.paths, allowlist.findings, detectors, fix.style, scan.max_file_size"
	big := strings.Repeat("just a long line of ordinary text\n", 100)
	cases := []struct {
		name   string
		env    []string
		config map[string]string // git config in the bare repository
		info   string            // the bare repository's info/attributes
		landed map[string]string // files on the default branch before the push
		files  map[string]string // what the push adds
		accept bool
		say    []string
		notSay []string
	}{
		{
			name:   ".gitattributes in the same push: -diff, binary, a textconv driver",
			config: map[string]string{"diff.redact.textconv": "sed s/[A-Za-z0-9]/x/g"},
			files: func() map[string]string {
				f := hidden()
				f[".gitattributes"] = attributes
				return f
			}(),
			say: hiddenSay,
		},
		{
			// GitLab copies the default branch's .gitattributes to
			// info/attributes; newer git reads HEAD's in a bare repository.
			name:   "the default branch's .gitattributes applied by the server",
			config: map[string]string{"diff.redact.textconv": "sed s/[A-Za-z0-9]/x/g"},
			info:   attributes,
			files:  hidden(),
			say:    hiddenSay,
		},
		{
			name:  "UTF-16LE PowerShell script with a byte order mark",
			files: map[string]string{"deploy.ps1": fixture.UTF16(script(plant(g.GitHub())), false, true)},
			say:   []string{"push rejected: 1 secret found", "deploy.ps1:3"},
		},
		{
			name:  "UTF-16BE text",
			files: map[string]string{"notes.txt": fixture.UTF16("notes\n\nkey "+plant(g.Stripe())+"\n", true, true)},
			say:   []string{"push rejected: 1 secret found", "notes.txt:3"},
		},
		{
			name:  "UTF-32 text",
			files: map[string]string{"wide.txt": fixture.UTF32("a\nb\nc\ntoken="+plant(g.GitHub())+"\n", false)},
			say:   []string{"push rejected: 1 secret found", "wide.txt:4"},
		},
		{
			name:  "a text file with one NUL byte",
			files: map[string]string{"app.conf": "name=shop\x00\ntoken=" + plant(g.GitHub()) + "\n"},
			say:   []string{"push rejected: 1 secret found", "app.conf:2"},
		},
		{
			name:   "real binaries are let through, also over the size limit",
			landed: small,
			files: map[string]string{
				"img/logo.png": fixture.PNG(t, "TOKEN="+plant(g.GitHub())),
				"dist/app.zip": fixture.ZIP(t, "TOKEN="+plant(g.GitHub())),
			},
			accept: true,
			notSay: []string{"too large"},
		},
		{
			name:   "a file too large to scan is rejected by default",
			config: map[string]string{"pushvault.repositoryMaySet": maySetSize},
			landed: small,
			files:  map[string]string{"data/dump.sql": big},
			say: []string{"push rejected: 1 file too large to scan", "scan.max_file_size (1.0 KiB)",
				"data/dump.sql (", "refs/heads/main): adds 3.3 KiB", "pushvault.allowOversize"},
		},
		{
			name:   "a file too large to scan passes where the server allows it (git config)",
			config: map[string]string{"pushvault.allowOversize": "true", "pushvault.repositoryMaySet": maySetSize},
			landed: small,
			files:  map[string]string{"data/dump.sql": big},
			accept: true,
			say:    []string{"WARNING: push accepted with 1 file too large to scan", "data/dump.sql ("},
		},
		{
			name:   "a file too large to scan passes where the server allows it (environment)",
			env:    []string{"PUSHVAULT_HOOK_ALLOW_OVERSIZE=yes", "PUSHVAULT_HOOK_REPOSITORY_MAY_SET=" + maySetSize},
			landed: small,
			files:  map[string]string{"data/dump.sql": big},
			accept: true,
			say:    []string{"WARNING: push accepted with 1 file too large to scan"},
		},
		{
			name:   "a bad allowOversize rejects and names the setting",
			config: map[string]string{"pushvault.allowOversize": "sometimes"},
			files:  map[string]string{"docs.md": "nothing\n"},
			say:    []string{`git config pushvault.allowOversize: allowOversize "sometimes": want true or false`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newHookServer(t)
			for k, v := range tc.config {
				s.bare.Git("config", k, v)
			}
			if tc.info != "" {
				if err := os.WriteFile(filepath.Join(s.bare.Dir, "info", "attributes"), []byte(tc.info), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.landed != nil {
				s.work.Commit("", "settings", tc.landed)
				if r := s.push(t, nil, "origin", "main"); r.code != 0 {
					t.Fatalf("landing %v: exit %d\n%s", tc.landed, r.code, r.stderr)
				}
			}
			s.work.Commit("", "the push", tc.files)
			before := s.refs()
			r := s.push(t, tc.env, "origin", "main")
			msg := remoteText(r.stderr)
			switch {
			case tc.accept && r.code != 0:
				t.Fatalf("push rejected (exit %d):\n%s", r.code, r.stderr)
			case !tc.accept && r.code == 0:
				t.Fatalf("push accepted:\n%s", r.stderr)
			case !tc.accept && s.refs() != before:
				t.Errorf("refs changed by a rejected push")
			}
			for _, want := range tc.say {
				if !strings.Contains(msg, want) {
					t.Errorf("hook message does not contain %q:\n%s", want, msg)
				}
			}
			for _, unwanted := range tc.notSay {
				if strings.Contains(msg, unwanted) {
					t.Errorf("hook message contains %q:\n%s", unwanted, msg)
				}
			}
			for _, v := range planted {
				if strings.Contains(r.stdout+r.stderr, v) {
					t.Errorf("planted value (starts %q) in the push output", v[:4])
				}
			}
		})
	}
}

// TestHookReportOnlyWarns: the Generic detector's findings under the
// default scan.generic: report are shown to the pusher but do not reject
// the push (nothing is vaulted for them either); a pattern detector's
// finding in the same push still rejects it.
func TestHookReportOnlyWarns(t *testing.T) {
	s := newHookServer(t)
	g := secrettest.Fresh(t)
	password := g.PostgresPassword()
	s.work.Commit("", "db settings", map[string]string{"config/db.env": "DB_PASSWORD=" + password + "\n"})
	r := s.push(t, nil, "origin", "main")
	text := remoteText(r.stderr)
	if r.code != 0 || !strings.Contains(text, "1 possible secret (report only") || !strings.Contains(text, "Generic") {
		t.Fatalf("a push with only a report-only finding: exit %d, want accepted with a warning:\n%s", r.code, text)
	}
	stripe := g.Stripe()
	s.work.Commit("", "payments", map[string]string{"config/pay.env": "STRIPE_KEY=" + stripe + "\nPAYMENTS_DB_PASSWORD=" + g.PostgresPassword() + "\n"})
	r = s.push(t, nil, "origin", "main")
	text = remoteText(r.stderr)
	if r.code == 0 || !strings.Contains(text, "push rejected: 1 secret found") || !strings.Contains(text, "1 possible secret (report only") {
		t.Errorf("a push with a Stripe key and a report-only finding: exit %d, want rejected for the key alone:\n%s", r.code, text)
	}
	if strings.Contains(r.stderr, password) || strings.Contains(r.stderr, stripe) {
		t.Error("a planted value reached the pusher")
	}
}

// TestHookPreReceiveAWSStore: with the server's store: aws_secretsmanager
// in the hook's settings file, a blocked push's secret goes to AWS
// Secrets Manager (the stand-in), not to Vault's KV: one secret, tagged,
// named by the prefix, and the rejection names the store and gives the
// ref+awssecrets reference, which `pushvault exec` resolves.
func TestHookPreReceiveAWSStore(t *testing.T) {
	srv := vaulttest.Start(t)
	aw := awstest.New(t)
	stripe := secrettest.New(9).Stripe()
	s := newHookServer(t)
	s.bare.Git("config", "pushvault.repository", "acme/shop")
	if err := os.WriteFile(filepath.Join(s.bare.Dir, "hooks", "pushvault.yml"),
		[]byte("store:\n  type: aws_secretsmanager\n  aws:\n    region: "+aw.Region()+"\n    endpoint: "+aw.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.work.Commit("", "config", map[string]string{"config/app.env": "STRIPE_KEY=" + stripe + "\n"})
	data := t.TempDir()
	env := append([]string{"PUSHVAULT_DATA_DIR=" + data, "VAULT_ADDR=" + srv.Addr, "VAULT_TOKEN=" + srv.Token, "PUSHVAULT_HOOK_BUDGET=30s", "GL_USERNAME=mallory"},
		awsCredentials(t, aw)...)
	r := s.push(t, env, "origin", "main")
	msg := remoteText(r.stderr)
	if r.code == 0 {
		t.Fatalf("push accepted:\n%s", r.stderr)
	}
	name := "pushvault/acme/shop/stripe_key"
	if !strings.Contains(msg, "now in AWS Secrets Manager at "+awssm.MountPrefix+aw.Region()+"/"+name+" (version 1)") ||
		!strings.Contains(msg, "The value is in AWS Secrets Manager now") || strings.Contains(msg, "Vault") {
		t.Errorf("the rejection does not name AWS Secrets Manager (or still says Vault):\n%s", msg)
	}
	ref := "ref+awssecrets://" + name + "?region=" + aw.Region() + "#/value"
	if !strings.Contains(msg, "reference: "+ref) {
		t.Errorf("no reference %s in the message:\n%s", ref, msg)
	}
	if got := aw.SecretNames(); len(got) != 1 || got[0] != name {
		t.Fatalf("secrets in the stand-in: %q, want [%s]", got, name)
	}
	info, _ := aw.Secret(name)
	if info.Tags["source_repo"] != "acme/shop" || info.Tags["source_path"] != "config/app.env" || info.Tags["detector"] != "Stripe" ||
		len(info.Versions) != 1 || !sameStages(info.Versions[0].Stages, "AWSCURRENT", awssm.LabelExposed) {
		t.Errorf("the stored secret: tags %v, versions %+v", info.Tags, info.Versions)
	}
	if l, err := srv.Client(t).Logical().List("secret/metadata/pushvault/acme/shop"); err != nil || l != nil {
		t.Errorf("the hook wrote to Vault's KV too: %v %v", l, err)
	}
	run := runBinary(t, s.bare.Dir, append(env, "STRIPE_KEY="+ref, "PUSHVAULT_STORE_AWS_ENDPOINT="+aw.URL), "exec", "--", "env", "-0")
	if run.code != 0 || envMap(run.stdout)["STRIPE_KEY"] != stripe {
		t.Errorf("exec: exit %d, resolved to the pushed value: %v\n%s", run.code, envMap(run.stdout)["STRIPE_KEY"] == stripe, run.stderr)
	}
	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{r.stdout, r.stderr, string(ledger)} {
		if strings.Contains(out, stripe) {
			t.Error("planted value in the push output or the ledger")
		}
	}
}
