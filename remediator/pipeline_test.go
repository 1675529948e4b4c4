package remediator_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/remediatortest"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/scanner"
)

// Planted values: made up, shaped like the real thing, never printed.
const (
	stripeKey = "sk_live_4eC39HqLyjWDarjtT1zdp7dcZZ0f4Kq2"
	slackKey  = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	otherKey  = "sk_live_9fD28GpKxiVCzqisS0ycq6cbYY9e3Jp1"
)

func finding(id, detector, value, path string, line int) *scanner.Finding {
	return &scanner.Finding{ID: id, Detector: detector, Secret: scanner.NewSecret(value), Redacted: value[:4] + "****",
		Fingerprint: scanner.Fingerprint("hmac-test:" + id),
		Locations:   []scanner.Location{{Commit: strings.Repeat("a", 40), Path: path, Line: line, ID: id}}}
}

// repo is the scanned head: a dotenv file and a YAML file pushvault can
// rewrite, and notes pushvault does not know how to edit.
var repo = map[string]string{
	".env":            "PORT=8080\nSTRIPE_KEY=" + stripeKey + "\n",
	"config/app.yaml": "chat:\n  slack_token: " + slackKey + "\n",
	"NOTES.txt":       "the old key was " + otherKey + " until May\n",
}

func findings() []*scanner.Finding {
	return []*scanner.Finding{
		finding("pv_00000000000000000001", "Stripe", stripeKey, ".env", 2),
		finding("pv_00000000000000000002", "Slack", slackKey, "config/app.yaml", 2),
	}
}

type ports struct {
	store    *remediatortest.Store
	ledger   *remediatortest.Ledger
	rotator  *remediatortest.Rotator
	fix      *remediatortest.FixWriter
	proposer *remediatortest.Proposer
}

func newPorts() *ports {
	return &ports{store: &remediatortest.Store{}, ledger: &remediatortest.Ledger{},
		rotator: &remediatortest.Rotator{ResultValue: rotate.Result{State: rotate.StateRotated, Rotator: "owned"}},
		fix:     &remediatortest.FixWriter{}, proposer: &remediatortest.Proposer{}}
}

func (p *ports) run(t *testing.T, fs []*scanner.Finding, files map[string]string) (*remediator.Result, error) {
	t.Helper()
	return remediator.NewPipeline(p.store, p.ledger).Run(context.Background(), remediator.Job{
		Owner: "acme", Repo: "shop", Findings: fs, Read: remediatortest.Files(files), Actor: "pushvault (test)",
		Rotator: p.rotator, Fix: p.fix, Propose: p.proposer,
	})
}

// calls is what the ports saw, in a form cmp can show.
type calls struct {
	Puts, Rotations, Writes, Proposals int
	Transitions                        map[string]int
}

func (p *ports) calls() calls {
	return calls{Puts: p.store.Puts, Rotations: len(p.rotator.Targets), Writes: p.fix.Writes,
		Proposals: p.proposer.Proposals, Transitions: p.ledger.Transitions()}
}

func noSecretIn(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{stripeKey, slackKey, otherKey} {
		if strings.Contains(s, v) {
			t.Errorf("%s holds a planted secret", what)
		}
	}
}

func TestPipelineVaultsRotatesFixesAndProposes(t *testing.T) {
	p := newPorts()
	res, err := p.run(t, findings(), repo)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := calls{Puts: 2, Rotations: 2, Writes: 1, Proposals: 1,
		Transitions: map[string]int{evidence.Detected: 2, evidence.Vaulted: 2, evidence.FixProposed: 2}}
	if diff := cmp.Diff(want, p.calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	var written []string
	for path := range p.fix.Files {
		written = append(written, path)
	}
	sort.Strings(written)
	if diff := cmp.Diff([]string{".env", "config/app.yaml"}, written); diff != "" {
		t.Errorf("files in the fix (-want +got):\n%s", diff)
	}
	for path, content := range p.fix.Files {
		noSecretIn(t, "fix file "+path, string(content))
	}
	noSecretIn(t, "fix commit message", p.fix.Messages[0])
	for _, r := range p.ledger.Records {
		noSecretIn(t, "ledger record", r.Transition+r.VaultPath+r.Actor+strings.Join(mapValues(r.Detail), " "))
		if r.Transition == evidence.FixProposed && r.Links["fix_branch"] != remediator.FixBranch("0123456789abcdef") {
			t.Errorf("fix_proposed links %v, want the fix branch", r.Links)
		}
	}
	if p.proposer.Last != res || res.Commit.Branch == "" {
		t.Errorf("proposal got %p (commit %+v), want the run's result %p with its commit", p.proposer.Last, res.Commit, res)
	}
}

func TestPipelineVaultFailureHalfway(t *testing.T) {
	p := newPorts()
	fs := findings()
	p.store.PutError, p.store.FailFor = errors.New("vault: permission denied"), fs[1].Fingerprint
	res, err := p.run(t, fs, repo)
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("Run error = %v, want the store's", err)
	}
	// The ledger says what truly reached the store (the other secret is
	// written or not, as the concurrent writes went); nothing after the
	// vault step ran.
	got := p.calls()
	if got.Rotations+got.Writes+got.Proposals != 0 || got.Transitions[evidence.Detected] != 2 {
		t.Errorf("calls %+v, want both detected and nothing rotated, written or proposed", got)
	}
	if len(p.store.Items) != len(res.Plan.Secrets) || got.Transitions[evidence.Vaulted] != len(res.Plan.Secrets) {
		t.Errorf("store holds %d secrets, the plan %d, the ledger records %d vaulted: want the same", len(p.store.Items), len(res.Plan.Secrets), got.Transitions[evidence.Vaulted])
	}
	for _, v := range res.Plan.Secrets {
		if v.Finding == fs[1] {
			t.Errorf("the plan holds the secret whose write failed")
		}
	}
	noSecretIn(t, "error", err.Error())
}

func TestPipelineRotationPending(t *testing.T) {
	p := newPorts()
	p.rotator.ByDetector = map[string]remediatortest.RotatorAnswer{
		"Slack": {Result: rotate.Result{State: rotate.StatePending, Reason: "approval required"}},
	}
	res, err := p.run(t, findings(), repo)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := res.Rotations["pv_00000000000000000002"].State; got != rotate.StatePending {
		t.Errorf("Slack rotation = %q, want pending", got)
	}
	// A pending rotation is an outcome, not a failure: the fix is proposed.
	if p.fix.Writes != 1 || p.proposer.Proposals != 1 {
		t.Errorf("writes %d, proposals %d; want 1 and 1", p.fix.Writes, p.proposer.Proposals)
	}
}

func TestPipelineRotationFailedThenResumed(t *testing.T) {
	p := newPorts()
	p.rotator.ByDetector = map[string]remediatortest.RotatorAnswer{
		"Stripe": {Result: rotate.Result{State: rotate.StateFailed, Reason: "provider down"}, Err: errors.New("provider down")},
	}
	res, err := p.run(t, findings(), repo)
	if !errors.Is(err, remediator.ErrRotationFailed) {
		t.Fatalf("Run error = %v, want ErrRotationFailed", err)
	}
	// Every secret is tried; the fix stands (the references hold either
	// way) but is not proposed while a rotation is unfinished.
	want := calls{Puts: 2, Rotations: 2, Writes: 1,
		Transitions: map[string]int{evidence.Detected: 2, evidence.Vaulted: 2, evidence.FixProposed: 2}}
	if diff := cmp.Diff(want, p.calls()); diff != "" {
		t.Errorf("first run calls (-want +got):\n%s", diff)
	}
	if res.Rotations["pv_00000000000000000001"].State != rotate.StateFailed {
		t.Errorf("Stripe rotation = %+v, want failed", res.Rotations["pv_00000000000000000001"])
	}

	p.rotator.ByDetector = nil // the provider is back
	res, err = p.run(t, findings(), repo)
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if p.proposer.Proposals != 1 || res.Commit.Changed {
		t.Errorf("after resuming: proposals %d, commit changed %v; want one proposal of the same commit", p.proposer.Proposals, res.Commit.Changed)
	}
	if got := res.Rotations["pv_00000000000000000001"].State; got != rotate.StateRotated {
		t.Errorf("Stripe rotation after resuming = %q, want rotated", got)
	}
}

func TestPipelineNoFileChanged(t *testing.T) {
	p := newPorts()
	// The files were deleted again before the head: nothing to rewrite.
	res, err := p.run(t, findings(), map[string]string{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := calls{Puts: 2, Rotations: 2, Proposals: 1,
		Transitions: map[string]int{evidence.Detected: 2, evidence.Vaulted: 2}}
	if diff := cmp.Diff(want, p.calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if res.Commit != (remediator.FixCommit{}) {
		t.Errorf("commit = %+v, want none", res.Commit)
	}
}

func TestPipelineManualStep(t *testing.T) {
	p := newPorts()
	fs := append(findings(), finding("pv_00000000000000000003", "Stripe", otherKey, "NOTES.txt", 1))
	res, err := p.run(t, fs, repo)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	notes := res.Plan.Secrets[2]
	if len(notes.Manual) != 1 || notes.Manual[0].Path != "NOTES.txt" || notes.Manual[0].Line != 1 || len(notes.Edits) != 0 {
		t.Fatalf("NOTES.txt secret: edits %v, manual %+v; want one manual step at NOTES.txt:1", notes.Edits, notes.Manual)
	}
	if _, ok := p.fix.Files["NOTES.txt"]; ok {
		t.Errorf("the fix rewrote NOTES.txt, which pushvault cannot edit safely")
	}
	// The rotator learns which secret keeps a use the fix cannot replace
	// (approval "auto" holds such rotations).
	unreplaced := map[string]bool{}
	for _, tg := range p.rotator.Targets {
		unreplaced[tg.FindingID] = tg.Unreplaced
	}
	if diff := cmp.Diff(map[string]bool{"pv_00000000000000000001": false, "pv_00000000000000000002": false, "pv_00000000000000000003": true}, unreplaced); diff != "" {
		t.Errorf("Unreplaced per target (-want +got):\n%s", diff)
	}
	// Only secrets with an edit are recorded as fixed.
	if got := p.ledger.Transitions()[evidence.FixProposed]; got != 2 {
		t.Errorf("fix_proposed records = %d, want 2", got)
	}
	noSecretIn(t, "manual step", notes.Manual[0].Step+notes.Manual[0].Reason)
	noSecretIn(t, "fix commit message", p.fix.Messages[0])
}

func TestPipelineWithoutWriterOrRotator(t *testing.T) {
	// The hook's shape: vault and compute the edits, write nothing.
	p := newPorts()
	res, err := remediator.NewPipeline(p.store, p.ledger).Run(context.Background(), remediator.Job{
		Owner: "acme", Repo: "shop", Findings: findings(), Read: remediatortest.Files(repo), Actor: "pushvault (hook)",
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := calls{Puts: 2, Transitions: map[string]int{evidence.Detected: 2, evidence.Vaulted: 2}}
	if diff := cmp.Diff(want, p.calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(res.Plan.Secrets[0].Edits) == 0 || res.Rotations != nil {
		t.Errorf("edits %v, rotations %v; want the edits computed and no rotation", res.Plan.Secrets[0].Edits, res.Rotations)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestPipelineNeverNamesASecretAfterItself(t *testing.T) {
	// A mapping whose key is the secret: the identifier on its line is the
	// secret itself, which must not become the vault path.
	p := newPorts()
	files := map[string]string{"config/tokens.yaml": "tokens:\n  " + slackKey + ": enabled\n"}
	res, err := p.run(t, []*scanner.Finding{finding("pv_00000000000000000004", "Slack", slackKey, "config/tokens.yaml", 2)}, files)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	v := res.Plan.Secrets[0]
	if v.Name != "slack_token" {
		t.Errorf("vault name = %q, want the detector's default name slack_token", v.Name)
	}
	noSecretIn(t, "vault path", v.Location())
	for _, item := range p.store.Items {
		noSecretIn(t, "stored item name", item.Name)
	}
	noSecretIn(t, "fix commit message", strings.Join(p.fix.Messages, "\n"))
	for _, r := range p.ledger.Records {
		noSecretIn(t, "ledger vault path", r.VaultPath)
	}
}

// A name that holds another credential, or random-looking data, is not a
// name either: the key of a mapping can be a token of its own, or an id
// nobody should see in a vault path.
func TestPipelineNamesNoCredentialOrRandomWord(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{otherKey, "stripe_api_key"},
		{"k3J9xQ2mZ7a8f9d0c2e1", "stripe_api_key"},
		{"billing_key", "billing_key"},
	} {
		p := newPorts()
		files := map[string]string{"config/keys.yaml": tc.key + ": " + stripeKey + "\n"}
		res, err := p.run(t, []*scanner.Finding{finding("pv_00000000000000000005", "Stripe", stripeKey, "config/keys.yaml", 1)}, files)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if v := res.Plan.Secrets[0]; v.Name != tc.want || strings.Contains(v.Location(), tc.key) != (tc.key == tc.want) {
			t.Errorf("key %.6s…: vault name %q at %s, want %q", tc.key, v.Name, v.Location(), tc.want)
		}
	}
}

// A config file saved as UTF-16 (as some Windows tools do) or UTF-32 is
// rewritten like any other and written back in its own encoding, mark
// included; a UTF-16 file of a kind the fix cannot edit (a PowerShell
// script) gets its manual step. Neither is passed over in silence.
func TestPipelineRewritesUTF16AndUTF32(t *testing.T) {
	config := "{\r\n  \"Stripe\": {\r\n    \"ApiKey\": \"" + stripeKey + "\"\r\n  },\r\n  \"Logging\": \"Information\"\r\n}\r\n"
	for _, tc := range []struct {
		name   string
		encode func(string) string
		decode func([]byte) (string, error)
	}{
		{"UTF-16LE", func(s string) string { return fixture.UTF16(s, false, true) }, decodeWith(unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM))},
		{"UTF-16BE", func(s string) string { return fixture.UTF16(s, true, true) }, decodeWith(unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM))},
		{"UTF-32LE", func(s string) string { return fixture.UTF32(s, false) }, decodeWith(utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPorts()
			raw := tc.encode(config)
			res, err := p.run(t, []*scanner.Finding{finding("pv_00000000000000000006", "Stripe", stripeKey, "appsettings.json", 3)},
				map[string]string{"appsettings.json": raw})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			out, ok := p.fix.Files["appsettings.json"]
			if !ok || len(res.Plan.Secrets[0].Edits) != 1 {
				t.Fatalf("not rewritten: edits %v, manual %v", res.Plan.Secrets[0].Edits, res.Plan.Secrets[0].Manual)
			}
			if !bytes.HasPrefix(out, []byte(raw[:2])) {
				t.Errorf("byte-order mark lost: % x", out[:4])
			}
			text, err := tc.decode(out)
			if err != nil {
				t.Fatalf("the rewritten file is not %s: %v", tc.name, err)
			}
			if strings.Contains(text, stripeKey) || !strings.Contains(text, "\"Logging\": \"Information\"\r\n") || !strings.Contains(text, "vault:") {
				t.Errorf("rewritten file:\n%s", text)
			}
		})
	}
	p := newPorts()
	res, err := p.run(t, []*scanner.Finding{finding("pv_00000000000000000007", "Stripe", stripeKey, "deploy/setup.ps1", 1)},
		map[string]string{"deploy/setup.ps1": fixture.UTF16("$env:STRIPE_KEY = \""+stripeKey+"\"\r\n", false, true)})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if m := res.Plan.Secrets[0].Manual; len(m) != 1 || m[0].Path != "deploy/setup.ps1" || m[0].Line != 1 {
		t.Errorf("UTF-16 PowerShell script: manual steps %+v, want one at deploy/setup.ps1:1", m)
	}
}

func decodeWith(enc encoding.Encoding) func([]byte) (string, error) {
	return func(b []byte) (string, error) {
		s, err := enc.NewDecoder().Bytes(b)
		return string(s), err
	}
}

// A report-only finding (a generic secret under scan.generic: report) is
// recorded as detected and nothing more: not vaulted, rotated or
// rewritten. The same finding without the mark is fixed like the others.
func TestPipelineLeavesReportOnlyFindings(t *testing.T) {
	const password = "Qz8vLk2mWn5pRt7x"
	files := map[string]string{".env": repo[".env"], "config/app.yaml": repo["config/app.yaml"],
		"config/database.yml": "production:\n  password: " + password + "\n"}
	generic := finding("pv_00000000000000000003", scanner.GenericName, password, "config/database.yml", 2)
	generic.ReportOnly = true

	p := newPorts()
	if _, err := p.run(t, append(findings(), generic), files); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := calls{Puts: 2, Rotations: 2, Writes: 1, Proposals: 1,
		Transitions: map[string]int{evidence.Detected: 3, evidence.Vaulted: 2, evidence.FixProposed: 2}}
	if diff := cmp.Diff(want, p.calls()); diff != "" {
		t.Errorf("report only: calls (-want +got):\n%s", diff)
	}
	if _, ok := p.fix.Files["config/database.yml"]; ok {
		t.Error("report only: the fix rewrote config/database.yml")
	}

	generic.ReportOnly = false
	p = newPorts()
	if _, err := p.run(t, append(findings(), generic), files); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := p.calls(); got.Puts != 3 || got.Transitions[evidence.FixProposed] != 3 {
		t.Errorf("fix: calls %+v, want the generic secret vaulted and fixed too", got)
	}
	if got := string(p.fix.Files["config/database.yml"]); strings.Contains(got, password) || !strings.Contains(got, "password: ") {
		t.Errorf("fix: config/database.yml = %q, want the password replaced by a reference", got)
	}
}

// Two secrets read under one identifier in two programs (the same
// variable name for two different Stripe keys) get two variables in
// vault.env, and a name vault.env already maps to an earlier secret is
// never repointed: each program keeps reading its own credential.
func TestPipelineNeverSharesAVariable(t *testing.T) {
	p := newPorts()
	files := map[string]string{
		"billing/charge.py": "STRIPE_KEY = \"" + stripeKey + "\"\n",
		"refunds/refund.py": "STRIPE_KEY = \"" + otherKey + "\"\n",
		"vault.env":         "SLACK_TOKEN=vault:secret/data/pushvault/acme/shop/chat_token#value\n",
		"chat/notify.py":    "SLACK_TOKEN = \"" + slackKey + "\"\n",
	}
	res, err := p.run(t, []*scanner.Finding{
		finding("pv_00000000000000000008", "Stripe", stripeKey, "billing/charge.py", 1),
		finding("pv_00000000000000000009", "Stripe", otherKey, "refunds/refund.py", 1),
		finding("pv_00000000000000000010", "Slack", slackKey, "chat/notify.py", 1),
	}, files)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(string(p.fix.Files["vault.env"]), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			if _, dup := env[k]; dup {
				t.Errorf("vault.env maps %s twice", k)
			}
			env[k] = v
		}
	}
	if env["SLACK_TOKEN"] != "vault:secret/data/pushvault/acme/shop/chat_token#value" {
		t.Errorf("vault.env's existing SLACK_TOKEN repointed to %q", env["SLACK_TOKEN"])
	}
	for _, v := range res.Plan.Secrets {
		if len(v.Edits) != 1 {
			t.Fatalf("%s: edits %v, manual %v", v.Finding.ID, v.Edits, v.Manual)
		}
		e := v.Edits[0]
		if env[e.EnvName] != e.Ref.Vault() {
			t.Errorf("%s reads %s, which vault.env maps to %q, not its own secret %q", e.Path, e.EnvName, env[e.EnvName], e.Ref.Vault())
		}
		if code := string(p.fix.Files[e.Path]); !strings.Contains(code, `"`+e.EnvName+`"`) {
			t.Errorf("%s does not read %s:\n%s", e.Path, e.EnvName, code)
		}
	}
}

// Secrets are written several at once, and still as if one after another:
// of the secrets read under one name, the first found keeps it and each
// later one gets a suffix, on every run; the plan lists them in the
// findings' order.
func TestPipelineVaultsConcurrentlyInOrder(t *testing.T) {
	var fs []*scanner.Finding
	files := map[string]string{}
	g := secrettest.Fresh(t)
	for i := range 12 {
		key := g.Stripe()
		path := fmt.Sprintf("svc%02d/charge.py", i)
		if i%3 == 0 {
			path = fmt.Sprintf("svc%02d/chat.py", i)
			key = g.Slack()
			files[path] = fmt.Sprintf("SLACK_TOKEN_%d = \"%s\"\n", i, key)
			fs = append(fs, finding(fmt.Sprintf("pv_%020d", i), "Slack", key, path, 1))
			continue
		}
		files[path] = "STRIPE_KEY = \"" + key + "\"\n"
		fs = append(fs, finding(fmt.Sprintf("pv_%020d", i), "Stripe", key, path, 1))
	}
	for run := range 2 {
		p := newPorts()
		res, err := p.run(t, fs, files)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if len(res.Plan.Secrets) != len(fs) {
			t.Fatalf("run %d: plan holds %d secrets, want %d", run, len(res.Plan.Secrets), len(fs))
		}
		stripe := 0
		for i, v := range res.Plan.Secrets {
			if v.Finding != fs[i] {
				t.Fatalf("run %d: plan's secret %d is %s, want %s (the findings' order)", run, i, v.Finding.ID, fs[i].ID)
			}
			if v.Finding.Detector != "Stripe" {
				continue
			}
			plain := strings.HasSuffix(v.Stored.Path, "/"+v.Name)
			if stripe == 0 && !plain || stripe > 0 && plain {
				t.Errorf("run %d: Stripe key %d of the shared name %q stored at %s", run, stripe, v.Name, v.Stored.Path)
			}
			stripe++
		}
	}
}
