package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/awstest"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// TestFixResumesAWSRotation: `pushvault scan --fix` rotating a leaked IAM
// user key is stopped at each durable step of the rotation — killed
// (SIGKILL) while the AWS stand-in holds the request that follows the
// step, or failed by one IAM call Vault makes — and run again on the same
// data dir. Each time the rerun finishes the rotation with exactly one
// static role, no key beyond the two IAM allows (the leaked one inactive
// or, approved, deleted; Vault's active; a second key the user had stays
// active), one vaulted secret whose one new version the rotation wrote, one
// rotated record in a ledger whose chain verifies, and STS refusing the
// leaked pair while accepting the one Vault holds.
//
// How the process is stopped at a step without a hook in pushvault: a
// HoldRequest fault holds the request that would take the next step
// (nothing happens at AWS), a HoldResponse fault serves it and holds the
// answer (the step happens; pushvault never learns it did); the test kills
// pushvault once the request is held and its effect visible, never on a
// timer.
func TestFixResumesAWSRotation(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	for i, tc := range []struct {
		name string
		// twoKeys gives svc-app a second, older active key: one a running
		// service uses.
		twoKeys bool
		approve bool
		fault   func(w *resumeWorld) awstest.Fault
		// kill: the first run is killed once the fault holds a request and
		// effect says its effect is visible (nil: no effect to wait for);
		// else the first run ends on its own, the rotation failed.
		kill   bool
		effect func(t *testing.T, w *resumeWorld) bool
		// atStop are the rotation records the ledger holds when the first
		// run stopped.
		atStop []string
	}{
		{name: "role created and Vault's key made, leaked key still active", kill: true,
			fault: func(w *resumeWorld) awstest.Fault {
				return awstest.Fault{Operation: "UpdateAccessKey", Kind: awstest.HoldRequest}
			},
			effect: func(t *testing.T, w *resumeWorld) bool {
				return len(w.keys(t)) == 2 && w.keys(t)[w.leaked.AccessKeyID] == "Active"
			},
			atStop: []string{"rotation_started"}},
		{name: "leaked key deactivated, rotated not recorded", kill: true,
			fault: func(w *resumeWorld) awstest.Fault {
				return awstest.Fault{Operation: "UpdateAccessKey", Kind: awstest.HoldResponse}
			},
			effect: func(t *testing.T, w *resumeWorld) bool { return w.keys(t)[w.leaked.AccessKeyID] == "Inactive" },
			atStop: []string{"rotation_started"}},
		{name: "rotated recorded, leaked key not yet proven dead", kill: true,
			// The leaked pair signs STS GetCallerIdentity three times: the
			// two-keys check, finding the owner, and proving it dead.
			fault: func(w *resumeWorld) awstest.Fault {
				return awstest.Fault{Operation: "GetCallerIdentity", AccessKeyID: w.leaked.AccessKeyID, Skip: 2, Kind: awstest.HoldRequest}
			},
			atStop: []string{"rotation_started", "rotated"}},
		{name: "approved: leaked key deleted, rotated not recorded", approve: true, kill: true,
			fault: func(w *resumeWorld) awstest.Fault {
				return awstest.Fault{Operation: "DeleteAccessKey", Kind: awstest.HoldResponse}
			},
			effect: func(t *testing.T, w *resumeWorld) bool { _, ok := w.keys(t)[w.leaked.AccessKeyID]; return !ok },
			atStop: []string{"rotation_started"}},
		{name: "two keys, approved: leaked key deleted, no static role yet", twoKeys: true, approve: true, kill: true,
			fault: func(w *resumeWorld) awstest.Fault {
				return awstest.Fault{Operation: "DeleteAccessKey", Kind: awstest.HoldResponse}
			},
			effect: func(t *testing.T, w *resumeWorld) bool { _, ok := w.keys(t)[w.leaked.AccessKeyID]; return !ok },
			atStop: []string{"rotation_started"}},
		{name: "Vault saved the role but failed to make its key",
			// Every CreateAccessKey Vault's engine tries fails (its IAM
			// client retries, and pushvault's Vault client retries the
			// role write) until the first run is over.
			fault: func(w *resumeWorld) awstest.Fault {
				return awstest.Fault{Operation: "CreateAccessKey", AccessKeyID: w.vaultKeyID, Kind: awstest.ServerError, Count: 1000}
			},
			atStop: []string{"rotation_started", "rotation_failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newResumeWorld(t, c, fmt.Sprintf("aws%d", i), tc.twoKeys)
			repo := fmt.Sprintf("shop%d", i)
			r := gittest.New(t)
			r.Git("remote", "add", "origin", "https://github.com/acme/"+repo+".git")
			r.Commit("Dev <dev@example.com>", "configuration", map[string]string{
				".github/pushvault.yml": w.settings,
				".env":                  "AWS_ACCESS_KEY_ID=" + w.leaked.AccessKeyID + "\nAWS_SECRET_ACCESS_KEY=" + w.leaked.SecretAccessKey + "\n",
			})
			data := t.TempDir()
			args := []string{"scan", "--fix"}
			if tc.approve {
				args = append(args, "--approve-rotation")
			}
			w.aw.Fault(tc.fault(w))

			var first result
			if tc.kill {
				p := startBinary(t, srv, data, r.Dir, args...)
				waitFor(t, "the stand-in holds the request after the step", func() bool {
					return w.aw.FaultHits() == 1 && (tc.effect == nil || tc.effect(t, w))
				})
				first = p.kill(t)
			} else {
				first = vaultRun(t, srv, data, r.Dir, args...)
				if w.aw.FaultHits() == 0 || !strings.Contains(first.stdout, "rotation: FAILED (attempt 1)") {
					t.Fatalf("the first run: %d faults hit, exit %d\n%s%s", w.aw.FaultHits(), first.code, first.stdout, first.stderr)
				}
				w.aw.ClearFaults()
			}
			if got := rotationRecords(t, data); !slices.Equal(got, tc.atStop) {
				t.Fatalf("the ledger when the first run stopped: %v, want %v\n%s%s", got, tc.atStop, first.stdout, first.stderr)
			}

			again := vaultRun(t, srv, data, r.Dir, args...)
			if again.code != 1 || !strings.Contains(again.stdout, "rotated by aws_iam; exposed value proven dead") {
				t.Fatalf("the rerun: exit %d\n%s%s", again.code, again.stdout, again.stderr)
			}
			role := rotate.AWSRoleName(w.aw.Account(), "svc-app")
			if roles := w.staticRoles(t); len(roles) != 1 || roles[0] != role {
				t.Errorf("static roles %v, want [%s]", roles, role)
			}
			if !strings.Contains(again.stdout, "AWS_ACCESS_KEY_ID (vault:"+w.mount+"/static-creds/"+role+"#access_key)") {
				t.Errorf("the rerun's fix does not point at the static role:\n%s", again.stdout)
			}
			creds, err := c.Logical().Read(w.mount + "/static-creds/" + role)
			if err != nil || creds == nil {
				t.Fatalf("static creds: %v", err)
			}
			newID, newSecret := creds.Data["access_key"].(string), creds.Data["secret_key"].(string)
			want := map[string]string{newID: "Active", w.leaked.AccessKeyID: "Inactive"}
			switch {
			case tc.twoKeys:
				want = map[string]string{newID: "Active", w.other: "Active"}
			case tc.approve:
				want = map[string]string{newID: "Active"}
			}
			if got := w.keys(t); !maps.Equal(got, want) {
				t.Errorf("svc-app's keys %v, want %v (Vault's %s)", got, want, newID)
			}
			if arn, code := w.caller(t, newID, newSecret); arn != w.userARN {
				t.Errorf("the pair Vault holds: %q %s, want %s", arn, code, w.userARN)
			}
			if _, code := w.caller(t, w.leaked.AccessKeyID, w.leaked.SecretAccessKey); code != "InvalidClientTokenId" {
				t.Errorf("the leaked pair: %q, want InvalidClientTokenId", code)
			}
			listed, err := c.Logical().List("secret/metadata/pushvault/acme/" + repo)
			if err != nil || listed == nil || len(listed.Data["keys"].([]any)) != 1 {
				t.Fatalf("vaulted secrets: %v %v, want one for the pair", listed, err)
			}
			name := listed.Data["keys"].([]any)[0]
			if meta, err := c.KVv2("secret").GetMetadata(context.Background(), fmt.Sprintf("pushvault/acme/%s/%v", repo, name)); err != nil || meta.CurrentVersion != 2 {
				t.Errorf("%v: %v, want version 2 current (the exposed one and the rotation's)", name, err)
			}
			counts := map[string]int{}
			for _, tr := range rotationRecords(t, data) {
				counts[tr]++
			}
			for tr, n := range map[string]int{"rotated": 1, "exposed_verified_dead": 1, "exposed_destroyed": 1, "rotation_manual": 0} {
				if counts[tr] != n {
					t.Errorf("ledger: %d %s, want %d (all: %v)", counts[tr], tr, n, counts)
				}
			}
			if ver := vaultRun(t, srv, data, r.Dir, "evidence", "verify"); ver.code != 0 {
				t.Errorf("evidence verify: exit %d %s", ver.code, ver.stderr)
			}
			ledger, _ := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
			for _, out := range []string{first.stdout + first.stderr, again.stdout + again.stderr, string(ledger)} {
				for _, v := range []string{w.leaked.SecretAccessKey, newSecret} {
					if strings.Contains(out, v) {
						t.Errorf("a secret access key (starts %q) appears in pushvault's output or ledger", v[:4])
					}
				}
			}
		})
	}
}

// TestFixAWSKeysItMayNotRotate: through `scan --fix`, a made-up key pair,
// an assumed-role session's credentials and the key of an IAM user that
// rotation.aws does not map (users: svc-*) each end rotation_manual, with
// the reason in the output and the ledger, and nothing is created or
// changed in AWS or in Vault's AWS mount: no static role, no key created,
// deactivated or deleted.
func TestFixAWSKeysItMayNotRotate(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	w := newResumeWorld(t, c, "aws", false)
	if _, err := w.aw.CreateUser("ci-bot"); err != nil {
		t.Fatal(err)
	}
	unmapped, err := w.aw.CreateAccessKey("ci-bot")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.Logical().Read("aws/creds/pushvault-keys")
	if err != nil || sess == nil {
		t.Fatalf("assumed-role credentials: %v", err)
	}
	sessID, sessSecret, sessToken := sess.Data["access_key"].(string), sess.Data["secret_key"].(string), sess.Data["security_token"].(string)
	madeUpID, madeUpSecret := "AKIA4QZP7MW2XK9RT3NB", "q7Vd0Zk3+Lr8/Hs2Wm5Yc9Tx1Nb6Pg4Ej0Uf7Ia3"
	before := map[string]map[string]string{"svc-app": w.keys(t), "ci-bot": w.userKeys(t, "ci-bot")}
	callsBefore := len(w.aw.Calls())

	r := gittest.New(t)
	r.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	r.Commit("Dev <dev@example.com>", "configuration", map[string]string{
		".github/pushvault.yml": "rotation:\n  aws:\n    - account: \"" + w.aw.Account() + "\"\n      vault_credentials_role: pushvault-keys\n      users: \"svc-*\"\n",
		"madeup/.env":           "AWS_ACCESS_KEY_ID=" + madeUpID + "\nAWS_SECRET_ACCESS_KEY=" + madeUpSecret + "\n",
		"session/.env":          "AWS_ACCESS_KEY_ID=" + sessID + "\nAWS_SECRET_ACCESS_KEY=" + sessSecret + "\nAWS_SESSION_TOKEN=" + sessToken + "\n",
		"ci/.env":               "AWS_ACCESS_KEY_ID=" + unmapped.AccessKeyID + "\nAWS_SECRET_ACCESS_KEY=" + unmapped.SecretAccessKey + "\n",
	})
	data := t.TempDir()
	run := vaultRun(t, srv, data, r.Dir, "scan", "--fix")
	reasons := map[string]string{
		"madeup/.env":  "the leaked key pair does not authenticate: STS GetCallerIdentity signed with it was refused (AWS refused the key pair (InvalidClientTokenId))",
		"session/.env": "the leaked key belongs to an assumed-role session (arn:aws:sts::" + w.aw.Account() + ":assumed-role/pushvault-keys/",
		"ci/.env":      "IAM user ci-bot of account " + w.aw.Account() + " is not among the users rotation.aws maps there (\"svc-*\")",
	}
	for path, reason := range reasons {
		if !strings.Contains(run.stdout, reason) {
			t.Errorf("the output does not say why %s's key is not rotated (%q)", path, reason)
		}
	}
	if run.code != 1 || t.Failed() {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", run.code, run.stdout, run.stderr)
	}

	if roles := w.staticRoles(t); len(roles) != 0 {
		t.Errorf("static roles created: %v", roles)
	}
	if got := w.keys(t); !maps.Equal(got, before["svc-app"]) {
		t.Errorf("svc-app's keys %v, want them as they were: %v", got, before["svc-app"])
	}
	if got := w.userKeys(t, "ci-bot"); !maps.Equal(got, before["ci-bot"]) {
		t.Errorf("ci-bot's keys %v, want them as they were: %v", got, before["ci-bot"])
	}
	for _, call := range w.aw.Calls()[callsBefore:] {
		if call.Operation != "GetCallerIdentity" {
			t.Errorf("pushvault called %s %s: it may only ask STS who the leaked pairs are", call.Service, call.Operation)
		}
	}
	manual := map[string]string{}
	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []evidence.Record
	for _, line := range strings.Split(strings.TrimSpace(string(ledger)), "\n") {
		var rec evidence.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	paths := map[string]string{} // finding id -> path
	for _, rec := range recs {
		if rec.Transition == evidence.Detected {
			paths[rec.FindingID] = rec.Detail["path"]
		}
	}
	for _, rec := range recs {
		switch rec.Transition {
		case evidence.RotationManual:
			manual[paths[rec.FindingID]] = rec.Detail["reason"]
		case evidence.Rotated, evidence.RotationFailed, evidence.RotationPending:
			t.Errorf("ledger: %s for %s", rec.Transition, paths[rec.FindingID])
		}
	}
	for path, reason := range reasons {
		if !strings.Contains(manual[path], reason) {
			t.Errorf("ledger: rotation_manual of %s says %q, want %q", path, manual[path], reason)
		}
	}
	if ver := vaultRun(t, srv, data, r.Dir, "evidence", "verify"); ver.code != 0 {
		t.Errorf("evidence verify: exit %d %s", ver.code, ver.stderr)
	}
	for _, out := range []string{run.stdout, run.stderr, string(ledger)} {
		for _, v := range []string{madeUpSecret, sessSecret, sessToken, unmapped.SecretAccessKey} {
			if strings.Contains(out, v) {
				t.Errorf("a planted secret (starts %q) appears in pushvault's output or ledger", v[:4])
			}
		}
	}
}

// TestFixAWSTwoKeysWaitForApproval: svc-app already has an active key a
// running service uses beside the leaked one. `scan --fix` changes nothing
// and says the rotation waits for approval, naming the other key; with
// --approve-rotation pushvault deletes the leaked key before Vault's
// takeover, so the other key stays active beside Vault's, and the ledger
// says which key was deleted and which one Vault's next rotation of the
// role will delete.
func TestFixAWSTwoKeysWaitForApproval(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	w := newResumeWorld(t, c, "aws", true)
	r := gittest.New(t)
	r.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	r.Commit("Dev <dev@example.com>", "configuration", map[string]string{
		".github/pushvault.yml": w.settings,
		".env":                  "AWS_ACCESS_KEY_ID=" + w.leaked.AccessKeyID + "\nAWS_SECRET_ACCESS_KEY=" + w.leaked.SecretAccessKey + "\n",
	})
	data := t.TempDir()
	before := w.keys(t)
	callsBefore := len(w.aw.Calls())

	held := vaultRun(t, srv, data, r.Dir, "scan", "--fix")
	if held.code != 1 || !strings.Contains(held.stdout, "rotation: waits for approval: IAM user svc-app already has two access keys, the leaked one and "+w.other+" (Active)") {
		t.Fatalf("exit %d\n%s%s", held.code, held.stdout, held.stderr)
	}
	if got := w.keys(t); !maps.Equal(got, before) {
		t.Errorf("keys while waiting: %v, want %v", got, before)
	}
	if roles := w.staticRoles(t); len(roles) != 0 {
		t.Errorf("static roles while waiting: %v", roles)
	}
	for _, call := range w.aw.Calls()[callsBefore:] {
		if call.Operation != "GetCallerIdentity" && call.Operation != "AssumeRole" && call.Operation != "ListAccessKeys" {
			t.Errorf("while waiting for approval pushvault (or Vault for it) called %s %s", call.Service, call.Operation)
		}
	}
	if got := rotationRecords(t, data); !slices.Equal(got, []string{"rotation_pending"}) {
		t.Errorf("ledger while waiting: %v, want [rotation_pending]", got)
	}

	approved := vaultRun(t, srv, data, r.Dir, "scan", "--fix", "--approve-rotation")
	if approved.code != 1 || !strings.Contains(approved.stdout, "rotation: rotated by aws_iam; exposed value proven dead") {
		t.Fatalf("approved: exit %d\n%s%s", approved.code, approved.stdout, approved.stderr)
	}
	role := rotate.AWSRoleName(w.aw.Account(), "svc-app")
	creds, err := c.Logical().Read("aws/static-creds/" + role)
	if err != nil || creds == nil {
		t.Fatalf("static creds: %v", err)
	}
	newID, newSecret := creds.Data["access_key"].(string), creds.Data["secret_key"].(string)
	if got, want := w.keys(t), map[string]string{w.other: "Active", newID: "Active"}; !maps.Equal(got, want) {
		t.Errorf("keys after the approved takeover: %v, want %v (the other key stays, the leaked one is deleted)", got, want)
	}
	if _, code := w.caller(t, w.leaked.AccessKeyID, w.leaked.SecretAccessKey); code != "InvalidClientTokenId" {
		t.Errorf("the leaked pair: %q, want InvalidClientTokenId", code)
	}
	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rotated []evidence.Record
	for _, line := range strings.Split(strings.TrimSpace(string(ledger)), "\n") {
		var rec evidence.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Transition == evidence.Rotated {
			rotated = append(rotated, rec)
		}
	}
	if len(rotated) != 1 {
		t.Fatalf("%d rotated records, want 1", len(rotated))
	}
	d := rotated[0].Detail
	if d["leaked_key_id"] != w.leaked.AccessKeyID || d["leaked_key"] != "deleted before the takeover (the user had two keys; approved)" ||
		!strings.HasPrefix(d["other_keys"], w.other+" (Active): left as they are; Vault's next rotation of the role deletes the user's oldest key") {
		t.Errorf("the rotated record does not say which key was deleted and which Vault deletes next: %v", d)
	}
	if ver := vaultRun(t, srv, data, r.Dir, "evidence", "verify"); ver.code != 0 {
		t.Errorf("evidence verify: exit %d %s", ver.code, ver.stderr)
	}
	for _, out := range []string{held.stdout + held.stderr, approved.stdout + approved.stderr, string(ledger)} {
		for _, v := range []string{w.leaked.SecretAccessKey, newSecret} {
			if strings.Contains(out, v) {
				t.Errorf("a secret access key (starts %q) appears in pushvault's output or ledger", v[:4])
			}
		}
	}
}

// resumeWorld is an awsWorld on a mount of its own (several share one
// Vault), with the key Vault's engine signs with and, when asked, a second
// key of svc-app that is older than the leaked one.
type resumeWorld struct {
	*awsWorld
	vault      *vaultapi.Client
	mount      string
	vaultKeyID string
	other      string
}

func newResumeWorld(t *testing.T, c *vaultapi.Client, mount string, twoKeys bool) *resumeWorld {
	t.Helper()
	aw := awstest.New(t)
	if _, err := aw.CreateUser("vault-root"); err != nil {
		t.Fatal(err)
	}
	vaultKey, err := aw.CreateAccessKey("vault-root")
	if err != nil {
		t.Fatal(err)
	}
	roleARN, err := aw.CreateRole("pushvault-keys")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Sys().Mount(mount, &vaultapi.MountInput{Type: "aws"}); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]map[string]any{
		mount + "/config/root": {"access_key": vaultKey.AccessKeyID, "secret_key": vaultKey.SecretAccessKey, "region": aw.Region(),
			"iam_endpoint": aw.URL, "sts_endpoint": aw.URL},
		mount + "/roles/pushvault-keys": {"credential_type": "assumed_role", "role_arns": roleARN, "default_sts_ttl": "15m", "max_sts_ttl": "15m"},
	} {
		if _, err := c.Logical().Write(path, data); err != nil {
			t.Fatalf("vault write %s: %v", path, err)
		}
	}
	w := &resumeWorld{awsWorld: &awsWorld{aw: aw}, vault: c, mount: mount, vaultKeyID: vaultKey.AccessKeyID}
	if w.userARN, err = aw.CreateUser("svc-app"); err != nil {
		t.Fatal(err)
	}
	if twoKeys {
		other, err := aw.CreateAccessKey("svc-app")
		if err != nil {
			t.Fatal(err)
		}
		w.other = other.AccessKeyID
	}
	if w.leaked, err = aw.CreateAccessKey("svc-app"); err != nil {
		t.Fatal(err)
	}
	w.settings = "rotation:\n  aws:\n    - account: \"" + aw.Account() + "\"\n      vault_mount: " + mount + "\n      vault_credentials_role: pushvault-keys\n"
	return w
}

func (w *resumeWorld) userKeys(t *testing.T, user string) map[string]string {
	t.Helper()
	ks, err := w.aw.AccessKeys(user)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range ks {
		out[k.AccessKeyID] = k.Status
	}
	return out
}

// staticRoles lists <mount>/static-roles.
func (w *resumeWorld) staticRoles(t *testing.T) []string {
	t.Helper()
	sec, err := w.vault.Logical().List(w.mount + "/static-roles")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if sec != nil {
		for _, k := range sec.Data["keys"].([]any) {
			out = append(out, k.(string))
		}
	}
	return out
}

// rotationRecords lists the ledger's rotation transitions (rotation_*,
// rotated, exposed_*) in order.
func rotationRecords(t *testing.T, data string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var rec evidence.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("ledger line %q: %v", line, err)
		}
		if tr := rec.Transition; strings.HasPrefix(tr, "rotation_") || tr == "rotated" || strings.HasPrefix(tr, "exposed_") {
			out = append(out, tr)
		}
	}
	return out
}

// fixProc is a `pushvault` run started in the background.
type fixProc struct {
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
}

// startBinary starts pushvault as vaultRun runs it, without waiting.
func startBinary(t *testing.T, srv *vaulttest.Server, data, dir string, args ...string) *fixProc {
	t.Helper()
	needBinary(t)
	p := &fixProc{cmd: exec.Command(binary, args...), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	p.cmd.Dir = dir
	p.cmd.Env = append(gittest.Env(), "PUSHVAULT_DATA_DIR="+data, "VAULT_ADDR="+srv.Addr, "VAULT_TOKEN="+srv.Token)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// kill stops the run with SIGKILL (no chance to record anything) and
// returns what it had printed.
func (p *fixProc) kill(t *testing.T) result {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("pushvault ended before it was killed (%v):\n%s%s", p.cmd.ProcessState, p.stdout, p.stderr)
	}
	return result{stdout: p.stdout.String(), stderr: p.stderr.String(), code: -1}
}
