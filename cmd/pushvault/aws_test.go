package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/awstest"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// awsWorld is the AWS stand-in with Vault's AWS secrets engine (mount
// "aws") configured against it, the role pushvault-keys handing out
// assumed-role credentials, and IAM user svc-app with one key: the one
// that leaks.
type awsWorld struct {
	aw      *awstest.Server
	userARN string
	leaked  awstest.Credentials
	// settings is the rotation section mapping the stand-in's account.
	settings string
}

func newAWSWorld(t *testing.T, c *vaultapi.Client) *awsWorld {
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
	if err := c.Sys().Mount("aws", &vaultapi.MountInput{Type: "aws"}); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]map[string]any{
		"aws/config/root": {"access_key": vaultKey.AccessKeyID, "secret_key": vaultKey.SecretAccessKey, "region": aw.Region(),
			"iam_endpoint": aw.URL, "sts_endpoint": aw.URL},
		"aws/roles/pushvault-keys": {"credential_type": "assumed_role", "role_arns": roleARN, "default_sts_ttl": "15m", "max_sts_ttl": "15m"},
	} {
		if _, err := c.Logical().Write(path, data); err != nil {
			t.Fatalf("vault write %s: %v", path, err)
		}
	}
	w := &awsWorld{aw: aw}
	if w.userARN, err = aw.CreateUser("svc-app"); err != nil {
		t.Fatal(err)
	}
	if w.leaked, err = aw.CreateAccessKey("svc-app"); err != nil {
		t.Fatal(err)
	}
	w.settings = "rotation:\n  aws:\n    - account: \"" + aw.Account() + "\"\n      vault_credentials_role: pushvault-keys\n"
	return w
}

// caller asks the stand-in's STS who signs with the pair: the ARN, or
// AWS's error code.
func (w *awsWorld) caller(t *testing.T, id, secret string) (arn, code string) {
	t.Helper()
	cl := sts.New(sts.Options{Region: w.aw.Region(), BaseEndpoint: aws.String(w.aw.URL),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	out, err := cl.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae):
		return "", ae.ErrorCode()
	case err != nil:
		t.Fatalf("sts: %v", err)
	}
	return aws.ToString(out.Arn), ""
}

// keys lists svc-app's keys as id=status.
func (w *awsWorld) keys(t *testing.T) map[string]string {
	t.Helper()
	ks, err := w.aw.AccessKeys("svc-app")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range ks {
		out[k.AccessKeyID] = k.Status
	}
	return out
}

// staticRoles lists aws/static-roles.
func awsStaticRoles(t *testing.T, c *vaultapi.Client) []string {
	t.Helper()
	sec, err := c.Logical().List("aws/static-roles")
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

// TestFixRotatesAWSKey runs `pushvault scan --fix` on a repository leaking
// an IAM user's access key pair in .env: the user goes under a Vault
// static role, the leaked key is deactivated (STS refuses it), the fix's
// references point at aws/static-creds and `pushvault exec` resolves them
// to a pair STS accepts as the same user; a rerun adds no key, role or
// version; the approved rerun deletes the leaked key; the ledger tells it.
func TestFixRotatesAWSKey(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	w := newAWSWorld(t, c)
	r := gittest.New(t)
	r.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	r.Commit("Dev <dev@example.com>", "configuration", map[string]string{
		".github/pushvault.yml": w.settings,
		".env":                  "AWS_ACCESS_KEY_ID=" + w.leaked.AccessKeyID + "\nAWS_SECRET_ACCESS_KEY=" + w.leaked.SecretAccessKey + "\n",
	})
	head := r.Head()
	data := t.TempDir()

	run := vaultRun(t, srv, data, r.Dir, "scan", "--fix")
	if run.code != 1 || !strings.Contains(run.stdout, "rotation: rotated by aws_iam; exposed value proven dead; version 1 destroyed; current version 2; the leaked key "+w.leaked.AccessKeyID+" of IAM user svc-app is inactive") ||
		!strings.Contains(run.stdout, "deleting it waits for approval (rerun with --approve-rotation)") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", run.code, run.stdout, run.stderr)
	}
	role := rotate.AWSRoleName(w.aw.Account(), "svc-app")
	if roles := awsStaticRoles(t, c); len(roles) != 1 || roles[0] != role {
		t.Errorf("static roles %v, want [%s]", roles, role)
	}
	if _, code := w.caller(t, w.leaked.AccessKeyID, w.leaked.SecretAccessKey); code != "InvalidClientTokenId" {
		t.Errorf("the leaked pair: %q, want InvalidClientTokenId", code)
	}
	keys := w.keys(t)
	if len(keys) != 2 || keys[w.leaked.AccessKeyID] != "Inactive" {
		t.Errorf("keys after the rotation: %v, want the leaked one inactive beside Vault's", keys)
	}

	// The fix's references resolve to the pair Vault holds, which works.
	wt := gittest.Clone(t, r.Dir, "--branch", "pushvault/fix-"+head[:7])
	dotenv, err := os.ReadFile(filepath.Join(wt.Dir, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"vault:aws/static-creds/" + role + "#access_key", "vault:aws/static-creds/" + role + "#secret_key"} {
		if !strings.Contains(string(dotenv), ref) {
			t.Errorf(".env on the fix branch lacks %s:\n%s", ref, dotenv)
		}
	}
	env := vaultRun(t, srv, data, wt.Dir, "exec", "--env-file", ".env", "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec: exit %d: %s", env.code, env.stderr)
	}
	vars := envMap(env.stdout)
	newID, newSecret := vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"]
	if arn, code := w.caller(t, newID, newSecret); arn != w.userARN {
		t.Errorf("the pair exec resolves: %q %s, want %s", arn, code, w.userARN)
	}

	// A rerun adds nothing: same keys, roles, version.
	again := vaultRun(t, srv, data, r.Dir, "scan", "--fix")
	if again.code != 1 || !strings.Contains(again.stdout, "done earlier") {
		t.Fatalf("rerun: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	if got := w.keys(t); len(got) != 2 || got[newID] != "Active" || got[w.leaked.AccessKeyID] != "Inactive" {
		t.Errorf("keys after the rerun: %v", got)
	}
	// One vaulted secret for the pair, written by the rotation a second
	// time (the pair Vault holds) and not again by the rerun.
	listed, err := c.Logical().List("secret/metadata/pushvault/acme/shop")
	if err != nil || listed == nil {
		t.Fatalf("after the rerun: list the vaulted secrets: %v", err)
	}
	names, _ := listed.Data["keys"].([]any)
	if len(names) != 1 {
		t.Fatalf("after the rerun: vaulted secrets %v, want one for the pair", names)
	}
	if meta, err := c.KVv2("secret").GetMetadata(context.Background(), fmt.Sprintf("pushvault/acme/shop/%v", names[0])); err != nil || meta.CurrentVersion != 2 {
		t.Errorf("after the rerun: %v: %v %+v", names[0], err, meta)
	}

	// Approved, the leaked key is deleted; the pair Vault holds stays.
	approved := vaultRun(t, srv, data, r.Dir, "scan", "--fix", "--approve-rotation")
	if approved.code != 1 || !strings.Contains(approved.stdout, "the exposed credential deleted (approved)") {
		t.Fatalf("approved: exit %d\n%s%s", approved.code, approved.stdout, approved.stderr)
	}
	if got := w.keys(t); len(got) != 1 || got[newID] != "Active" {
		t.Errorf("keys after approval: %v, want only %s", got, newID)
	}
	if arn, _ := w.caller(t, newID, newSecret); arn != w.userARN {
		t.Errorf("after approval the pair Vault holds no longer works")
	}

	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(ledger)), "\n") {
		var rec evidence.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		counts[rec.Transition]++
	}
	for tr, n := range map[string]int{"detected": 1, "vaulted": 1, "rotation_started": 1, "rotated": 1,
		"exposed_verified_dead": 1, "exposed_destroyed": 1, "exposed_deleted": 1, "rotation_failed": 0, "rotation_manual": 0} {
		if counts[tr] != n {
			t.Errorf("ledger: %d %s, want %d (all: %v)", counts[tr], tr, n, counts)
		}
	}
	if ver := vaultRun(t, srv, data, r.Dir, "evidence", "verify"); ver.code != 0 {
		t.Errorf("evidence verify: exit %d %s", ver.code, ver.stderr)
	}
	for _, out := range []result{run, again, approved, {stdout: string(ledger)}} {
		for _, v := range []string{w.leaked.SecretAccessKey, newSecret} {
			if strings.Contains(out.stdout+out.stderr, v) {
				t.Errorf("a secret access key (starts %q) appears in pushvault's output or ledger", v[:4])
			}
		}
	}
}

// TestAppRotatesAWSKey: through the GitHub App, a pushed IAM user key pair
// is rotated as with scan --fix: the fix PR's .env points at
// aws/static-creds and resolves to a working pair, the leaked key is
// inactive and refused, and the check run offers "Approve rotation";
// approved, the leaked key is deleted and the ledger records it once.
func TestAppRotatesAWSKey(t *testing.T) {
	e := newStandIn(t)
	w := newAWSWorld(t, e.vault.Client(t))
	e.config = w.settings
	e.start(t, "")
	work := e.clone(t)
	head := work.Commit("dev <dev@acme.test>", "deploy keys", map[string]string{
		".env": "AWS_ACCESS_KEY_ID=" + w.leaked.AccessKeyID + "\nAWS_SECRET_ACCESS_KEY=" + w.leaked.SecretAccessKey + "\n",
	})
	work.Git("push", "origin", "HEAD:main")
	waitFor(t, "the check run completes", func() bool {
		r := e.checkRun(head)
		return r != nil && r.Status == "completed"
	})
	r := e.checkRun(head)
	var approve bool
	for _, a := range r.Actions {
		approve = approve || a.Identifier == "approve_rotation"
	}
	if !approve || !strings.Contains(r.Summary, "rotated by aws_iam; exposed value proven dead") || !strings.Contains(r.Summary, "deleting it waits for approval") {
		t.Fatalf("check run (actions %+v):\n%s", r.Actions, r.Summary)
	}
	if _, code := w.caller(t, w.leaked.AccessKeyID, w.leaked.SecretAccessKey); code != "InvalidClientTokenId" {
		t.Errorf("the leaked pair: %q, want InvalidClientTokenId", code)
	}
	if keys := w.keys(t); len(keys) != 2 || keys[w.leaked.AccessKeyID] != "Inactive" {
		t.Errorf("keys after the rotation: %v, want the leaked one inactive beside Vault's", keys)
	}
	prs := e.srv.PullRequests()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests, want 1", len(prs))
	}
	tok, _, err := e.srv.Token(e.inst)
	if err != nil {
		t.Fatal(err)
	}
	fix := gittest.Clone(t, e.srv.AuthCloneURL("acme", "shop", tok), "--branch", prs[0].Head)
	role := rotate.AWSRoleName(w.aw.Account(), "svc-app")
	if dotenv := string(readFile(t, fix.Dir, ".env")); !strings.Contains(dotenv, "vault:aws/static-creds/"+role+"#access_key") ||
		!strings.Contains(dotenv, "vault:aws/static-creds/"+role+"#secret_key") {
		t.Errorf(".env in the fix PR does not point at the static role:\n%s", dotenv)
	}
	env := vaultRun(t, e.vault, t.TempDir(), fix.Dir, "exec", "--env-file", ".env", "--", "env", "-0")
	if env.code != 0 {
		t.Fatalf("exec: exit %d: %s", env.code, env.stderr)
	}
	vars := envMap(env.stdout)
	newSecret := vars["AWS_SECRET_ACCESS_KEY"]
	if arn, code := w.caller(t, vars["AWS_ACCESS_KEY_ID"], newSecret); arn != w.userARN {
		t.Errorf("the pair exec resolves: %q %s, want %s", arn, code, w.userARN)
	}

	setRoles(t, e.srv, map[string]string{"octocat": "maintain"})
	if _, err := e.srv.TriggerCheckRun(r.ID, "requested_action", "approve_rotation"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the approved run completes", func() bool {
		n := 0
		for _, c := range e.srv.CheckRuns() {
			if c.HeadSHA == head && c.Status == "completed" {
				n++
			}
		}
		return n == 2
	})
	if keys := w.keys(t); len(keys) != 1 || keys[vars["AWS_ACCESS_KEY_ID"]] != "Active" {
		t.Errorf("keys after approval: %v, want only Vault's", keys)
	}
	e.serve.stop(t)
	recs := exportLedger(t, e.vault, "--data-dir", e.data)
	counts := map[string]int{}
	for _, rec := range recs {
		counts[rec.Transition]++
	}
	for tr, n := range map[string]int{"rotated": 1, "exposed_verified_dead": 1, "exposed_deleted": 1, "rotation_approved": 1} {
		if counts[tr] != n {
			t.Errorf("ledger: %d %s, want %d (all: %v)", counts[tr], tr, n, counts)
		}
	}
	noPlantedValue(t, []string{w.leaked.SecretAccessKey, newSecret}, recs, e.githubTexts())
}
