package rotate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/awstest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// awsSetup starts the AWS stand-in and a Vault whose AWS secrets engine
// (mount "aws") talks to it as Vault's own IAM user, with the role
// pushvault-keys handing out assumed-role credentials. c is a token with
// the README's least-privilege policy only.
func awsSetup(t *testing.T) (aw *awstest.Server, root, c *api.Client, s rotate.Settings) {
	t.Helper()
	aw = awstest.New(t)
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
	_, root = startVault(t)
	if err := root.Sys().Mount("aws", &api.MountInput{Type: "aws"}); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]map[string]any{
		"aws/config/root": {"access_key": vaultKey.AccessKeyID, "secret_key": vaultKey.SecretAccessKey, "region": aw.Region(),
			"iam_endpoint": aw.URL, "sts_endpoint": aw.URL},
		"aws/roles/pushvault-keys": {"credential_type": "assumed_role", "role_arns": roleARN, "default_sts_ttl": "15m", "max_sts_ttl": "15m"},
	} {
		if _, err := root.Logical().Write(path, data); err != nil {
			t.Fatalf("vault write %s: %v", path, err)
		}
	}
	if err := root.Sys().PutPolicy("pushvault", readmePolicy(t)); err != nil {
		t.Fatal(err)
	}
	tok, err := root.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"pushvault"}, NoDefaultPolicy: true, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ = root.Clone()
	c.SetToken(tok.Auth.ClientToken)
	s = rotate.Settings{AWS: []rotate.AWSAccount{{Account: aw.Account(), CredentialsRole: "pushvault-keys"}}}
	return aw, root, c, s
}

// callerARN asks the stand-in's STS who signs with creds: the ARN, or
// AWS's error code.
func callerARN(t *testing.T, aw *awstest.Server, id, secret, token string) (string, string) {
	t.Helper()
	cl := sts.New(sts.Options{Region: aw.Region(), BaseEndpoint: aws.String(aw.URL),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, token)})
	out, err := cl.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return "", ae.ErrorCode()
		}
		t.Fatalf("sts: %v", err)
	}
	return aws.ToString(out.Arn), ""
}

// keyStates lists a user's keys as id=status.
func keyStates(t *testing.T, aw *awstest.Server, user string) map[string]string {
	t.Helper()
	ks, err := aw.AccessKeys(user)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range ks {
		out[k.AccessKeyID] = k.Status
	}
	return out
}

func awsRoles(t *testing.T, c *api.Client) []string {
	t.Helper()
	sec, err := c.Logical().List("aws/static-roles")
	if err != nil {
		t.Fatal(err)
	}
	if sec == nil {
		return nil
	}
	var out []string
	for _, k := range sec.Data["keys"].([]any) {
		out = append(out, k.(string))
	}
	return out
}

// TestAWSIAMRotation: a leaked key of IAM user svc-app goes under a Vault
// static role; the pair Vault holds authenticates as svc-app, the leaked
// one is refused (inactive, then deleted once approved); references point
// at aws/static-creds; a rerun adds no key, role or version; the approved
// rerun deletes the leaked key once.
func TestAWSIAMRotation(t *testing.T) {
	aw, root, c, s := awsSetup(t)
	ctx := context.Background()
	userARN, err := aw.CreateUser("svc-app")
	if err != nil {
		t.Fatal(err)
	}
	leaked, err := aw.CreateAccessKey("svc-app")
	if err != nil {
		t.Fatal(err)
	}
	if arn, code := callerARN(t, aw, leaked.AccessKeyID, leaked.SecretAccessKey, ""); arn != userARN {
		t.Fatalf("before: the leaked pair should authenticate as %s, got %q %s", userARN, arn, code)
	}
	tg := vaultSecret(t, root, "aws", "AWS", rotate.Data{"access_key_id": leaked.AccessKeyID, "secret_access_key": leaked.SecretAccessKey})
	rec := &recorder{}
	r := rotate.NewRunner(c, s, rec)
	res, err := r.Run(ctx, tg)
	if err != nil || res.State != rotate.StateRotated || !res.ExposedDead || !res.ExposedDestroyed {
		t.Fatalf("run: %+v %v", res, err)
	}
	role := rotate.AWSRoleName(aw.Account(), "svc-app")
	want(t, "static roles", []string{role}, awsRoles(t, root))
	credsPath := "aws/static-creds/" + role
	want(t, "refs", map[string]rotate.Ref{"access_key_id": {Path: credsPath, Key: "access_key"}, "secret_access_key": {Path: credsPath, Key: "secret_key"}}, res.Refs)
	if !strings.Contains(res.Held, "deleting it waits for approval") {
		t.Errorf("held: %q", res.Held)
	}
	creds, err := root.Logical().Read(credsPath)
	if err != nil || creds == nil {
		t.Fatalf("static creds: %v", err)
	}
	newID, newSecret := creds.Data["access_key"].(string), creds.Data["secret_key"].(string)
	if arn, code := callerARN(t, aw, newID, newSecret, ""); arn != userARN {
		t.Errorf("the pair Vault holds: %q %s, want %s", arn, code, userARN)
	}
	if _, code := callerARN(t, aw, leaked.AccessKeyID, leaked.SecretAccessKey, ""); code != "InvalidClientTokenId" {
		t.Errorf("the leaked pair: %q, want InvalidClientTokenId", code)
	}
	want(t, "keys", map[string]string{leaked.AccessKeyID: "Inactive", newID: "Active"}, keyStates(t, aw, "svc-app"))
	want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
	if d := rec.events[1].Detail; d["leaked_key"] != "inactive" || d["iam_user"] != userARN || d["held_for_approval"] == "" {
		t.Errorf("rotated detail: %v", d)
	}

	// A rerun: nothing new anywhere.
	again, err := r.Run(ctx, tg)
	if err != nil || !again.Already || again.Held == "" {
		t.Errorf("rerun: %+v %v", again, err)
	}
	want(t, "keys after the rerun", map[string]string{leaked.AccessKeyID: "Inactive", newID: "Active"}, keyStates(t, aw, "svc-app"))
	if cur, _, _ := versions(t, root, tg); cur != 2 {
		t.Errorf("current version %d after the rerun, want 2", cur)
	}

	// Approved: the leaked key is deleted, once.
	tg.Approved = true
	for i := 0; i < 2; i++ {
		res, err := r.Run(ctx, tg)
		if err != nil || res.Held != "" || res.HeldDone != (i == 0) {
			t.Errorf("approved run %d: %+v %v", i, res, err)
		}
	}
	want(t, "keys after approval", map[string]string{newID: "Active"}, keyStates(t, aw, "svc-app"))
	want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1", "exposed_deleted@1"}, rec.transitions())
	if cur, _, md := versions(t, root, tg); cur != 2 || md["rotation_held"] != "" {
		t.Errorf("after approval: version %d, metadata %v", cur, md)
	}
	noLeak(t, []string{leaked.SecretAccessKey, newSecret}, res, again, rec.events)
}

// TestAWSIAMTwoKeys: a user who already has two keys waits for approval,
// nothing changed; approved, pushvault deletes the leaked key before
// Vault's takeover and the other key stays.
func TestAWSIAMTwoKeys(t *testing.T) {
	aw, root, c, s := awsSetup(t)
	ctx := context.Background()
	if _, err := aw.CreateUser("svc-two"); err != nil {
		t.Fatal(err)
	}
	other, err := aw.CreateAccessKey("svc-two")
	if err != nil {
		t.Fatal(err)
	}
	leaked, err := aw.CreateAccessKey("svc-two")
	if err != nil {
		t.Fatal(err)
	}
	tg := vaultSecret(t, root, "aws", "AWS", rotate.Data{"access_key_id": leaked.AccessKeyID, "secret_access_key": leaked.SecretAccessKey})
	rec := &recorder{}
	r := rotate.NewRunner(c, s, rec)
	for i := 0; i < 2; i++ {
		res, err := r.Run(ctx, tg)
		if err != nil || res.State != rotate.StatePending || !strings.Contains(res.Reason, "already has two access keys") || !strings.Contains(res.Reason, other.AccessKeyID) {
			t.Fatalf("run %d: %+v %v", i, res, err)
		}
	}
	want(t, "events", []string{"rotation_pending@0"}, rec.transitions())
	want(t, "static roles", []string(nil), awsRoles(t, root))
	want(t, "keys while waiting", map[string]string{other.AccessKeyID: "Active", leaked.AccessKeyID: "Active"}, keyStates(t, aw, "svc-two"))

	tg.Approved = true
	res, err := r.Run(ctx, tg)
	if err != nil || res.State != rotate.StateRotated || !res.ExposedDead || res.Held != "" {
		t.Fatalf("approved: %+v %v", res, err)
	}
	keys := keyStates(t, aw, "svc-two")
	if len(keys) != 2 || keys[other.AccessKeyID] != "Active" || keys[leaked.AccessKeyID] != "" {
		t.Errorf("keys after the approved takeover: %v (the other key %s must stay active, the leaked one be gone)", keys, other.AccessKeyID)
	}
	// The ledger says which key was deleted, and which one Vault's first
	// rotation of the role will delete (the user's oldest: the other key).
	want(t, "events", []string{"rotation_pending@0", "rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
	d := rec.events[2].Detail
	if d["leaked_key_id"] != leaked.AccessKeyID || !strings.HasPrefix(d["leaked_key"], "deleted before the takeover") ||
		!strings.HasPrefix(d["other_keys"], other.AccessKeyID+" (Active): left as they are; Vault's next rotation of the role deletes the user's oldest key") {
		t.Errorf("rotated detail: %v", d)
	}
}

// TestAWSIAMNotAUserKey: a made-up pair and an assumed-role session's
// credentials are rotation_manual with the reason; no role is created and
// no key changes.
func TestAWSIAMNotAUserKey(t *testing.T) {
	aw, root, c, s := awsSetup(t)
	ctx := context.Background()
	if _, err := aw.CreateUser("svc-app"); err != nil {
		t.Fatal(err)
	}
	if _, err := aw.CreateAccessKey("svc-app"); err != nil {
		t.Fatal(err)
	}
	before := keyStates(t, aw, "svc-app")
	sess, err := root.Logical().Read("aws/creds/pushvault-keys")
	if err != nil || sess == nil {
		t.Fatalf("assumed-role credentials: %v", err)
	}
	sessID, sessSecret, sessToken := sess.Data["access_key"].(string), sess.Data["secret_key"].(string), sess.Data["security_token"].(string)
	madeUpSecret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	cases := []struct {
		name, detector string
		data           rotate.Data
		reason         string
	}{
		{"made up", "AWS", rotate.Data{"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": madeUpSecret},
			"the leaked key pair does not authenticate"},
		{"assumed role", "AWSSessionKey", rotate.Data{"access_key_id": sessID, "secret_access_key": sessSecret + ":" + sessToken},
			"belongs to an assumed-role session"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg := vaultSecret(t, root, strings.ReplaceAll(tc.name, " ", "_"), tc.detector, tc.data)
			rec := &recorder{}
			res, err := rotate.NewRunner(c, s, rec).Run(ctx, tg)
			if err != nil || res.State != rotate.StateManual || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("want rotation_manual with %q, got %+v %v", tc.reason, res, err)
			}
			if res.Guide != "https://howtorotate.com/docs/tutorials/aws/" || len(res.Steps) == 0 {
				t.Errorf("guide %q, steps %v", res.Guide, res.Steps)
			}
			want(t, "static roles", []string(nil), awsRoles(t, root))
			want(t, "keys", before, keyStates(t, aw, "svc-app"))
			noLeak(t, []string{madeUpSecret, sessSecret, sessToken}, res, rec.events)
		})
	}
}

// TestAWSIAMResumes: a rotation stopped after a change at AWS, under the
// README's least-privilege Vault policy, is finished by the next run:
// pushvault's approved deletion of the leaked key whose answer never
// comes back (rotation.aws_timeout ends the call: the key is gone, STS no
// longer names its owner), and a static role Vault saved without its key
// (every CreateAccessKey by Vault's engine failing). The end is the same
// either way: one role, the leaked key gone or inactive, Vault's working
// key, the new version written once.
func TestAWSIAMResumes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		approved bool
		fault    func(vaultKeyID string) awstest.Fault
		keys     func(leaked, vaults string) map[string]string
	}{
		{"approved deletion done, its answer lost", true,
			func(string) awstest.Fault {
				return awstest.Fault{Operation: "DeleteAccessKey", Kind: awstest.HoldResponse}
			},
			func(_, vaults string) map[string]string { return map[string]string{vaults: "Active"} }},
		{"role saved without its key", false,
			func(vaultKeyID string) awstest.Fault {
				return awstest.Fault{Operation: "CreateAccessKey", AccessKeyID: vaultKeyID, Kind: awstest.ServerError, Count: 1000}
			},
			func(leaked, vaults string) map[string]string {
				return map[string]string{leaked: "Inactive", vaults: "Active"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aw, root, c, s := awsSetup(t)
			s.AWSTimeout = time.Second
			ctx := context.Background()
			userARN, err := aw.CreateUser("svc-app")
			if err != nil {
				t.Fatal(err)
			}
			leaked, err := aw.CreateAccessKey("svc-app")
			if err != nil {
				t.Fatal(err)
			}
			vaultKeys, err := aw.AccessKeys("vault-root")
			if err != nil || len(vaultKeys) != 1 {
				t.Fatalf("vault-root's keys: %v %v", vaultKeys, err)
			}
			tg := vaultSecret(t, root, "aws", "AWS", rotate.Data{"access_key_id": leaked.AccessKeyID, "secret_access_key": leaked.SecretAccessKey})
			tg.Approved = tc.approved
			rec := &recorder{}
			r := rotate.NewRunner(c, s, rec)
			aw.Fault(tc.fault(vaultKeys[0].AccessKeyID))
			if res, err := r.Run(ctx, tg); err == nil || res.State != rotate.StateFailed || aw.FaultHits() == 0 {
				t.Fatalf("the first run: %+v %v (%d faults hit), want rotation_failed", res, err, aw.FaultHits())
			}
			aw.ClearFaults()
			res, err := r.Run(ctx, tg)
			if err != nil || res.State != rotate.StateRotated || !res.ExposedDead || res.NewVersion != 2 {
				t.Fatalf("the rerun: %+v %v", res, err)
			}
			role := rotate.AWSRoleName(aw.Account(), "svc-app")
			want(t, "static roles", []string{role}, awsRoles(t, root))
			creds, err := root.Logical().Read("aws/static-creds/" + role)
			if err != nil || creds == nil {
				t.Fatalf("static creds: %v", err)
			}
			newID, newSecret := creds.Data["access_key"].(string), creds.Data["secret_key"].(string)
			if arn, code := callerARN(t, aw, newID, newSecret, ""); arn != userARN {
				t.Errorf("the pair Vault holds: %q %s, want %s", arn, code, userARN)
			}
			want(t, "keys", tc.keys(leaked.AccessKeyID, newID), keyStates(t, aw, "svc-app"))
			want(t, "events", []string{"rotation_started@1", "rotation_failed@1", "rotation_started@2", "rotated@2", "exposed_verified_dead@2", "exposed_destroyed@2"}, rec.transitions())
			if cur, _, _ := versions(t, root, tg); cur != 2 {
				t.Errorf("current version %d, want 2", cur)
			}
			noLeak(t, []string{leaked.SecretAccessKey, newSecret}, res, rec.events)
		})
	}
}
