package awstest

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	vault "github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/vaulttest"
)

// vaultAWS mounts Vault's AWS secrets engine at "aws" on a real Vault dev
// server, configured with a stand-in user's key and the stand-in as its
// IAM and STS endpoints.
func vaultAWS(t *testing.T, s *Server) (*vault.Client, Credentials) {
	t.Helper()
	root := newUserWithKey(t, s, "vault-root")
	v := vaulttest.Start(t)
	vc := v.Client(t)
	if err := vc.Sys().Mount("aws", &vault.MountInput{Type: "aws"}); err != nil {
		t.Fatalf("mount aws: %v", err)
	}
	if _, err := vc.Logical().Write("aws/config/root", map[string]any{
		"access_key":   root.AccessKeyID,
		"secret_key":   root.SecretAccessKey,
		"region":       s.Region(),
		"iam_endpoint": s.URL,
		"sts_endpoint": s.URL,
		"sts_region":   s.Region(),
		"max_retries":  0,
	}); err != nil {
		t.Fatalf("aws/config/root: %v", err)
	}
	return vc, root
}

func credsOf(t *testing.T, sec *vault.Secret) Credentials {
	t.Helper()
	if sec == nil {
		t.Fatal("no credentials in Vault's answer")
	}
	str := func(k string) string { v, _ := sec.Data[k].(string); return v }
	return Credentials{AccessKeyID: str("access_key"), SecretAccessKey: str("secret_key"), SessionToken: str("session_token")}
}

// TestVaultStaticRole runs Vault's own AWS secrets engine against the
// stand-in: a static role takes over a user that already has two keys
// (the leaked one oldest), Vault deletes the oldest and creates its own;
// the pair aws/static-creds returns passes STS GetCallerIdentity as that
// user, the deleted key is refused, and every call Vault made was
// on-model and signed.
func TestVaultStaticRole(t *testing.T) {
	s := New(t)
	leaked := newUserWithKey(t, s, "app")
	second, err := s.CreateAccessKey("app")
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := vaultAWS(t, s)
	if _, err := vc.Logical().Write("aws/static-roles/app", map[string]any{"username": "app", "rotation_period": "24h"}); err != nil {
		t.Fatalf("aws/static-roles/app: %v", err)
	}
	sec, err := vc.Logical().Read("aws/static-creds/app")
	if err != nil {
		t.Fatalf("aws/static-creds/app: %v", err)
	}
	managed := credsOf(t, sec)
	c := ctx(t)
	id, err := stsClient(s, managed).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if want := "arn:aws:iam::" + DefaultAccount + ":user/app"; err != nil || aws.ToString(id.Arn) != want {
		t.Fatalf("Vault's pair: %v (%v), want %s", id, err, want)
	}
	_, err = stsClient(s, leaked).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if got := errorCode(t, err); got != "InvalidClientTokenId" {
		t.Errorf("the leaked key Vault deleted: %q, want InvalidClientTokenId", got)
	}
	keys, _ := s.AccessKeys("app")
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.AccessKeyID)
	}
	if want := []string{second.AccessKeyID, managed.AccessKeyID}; !slices.Equal(ids, want) {
		t.Errorf("app's keys %v, want %v", ids, want)
	}
	for _, op := range []string{"GetUser", "ListAccessKeys", "DeleteAccessKey", "CreateAccessKey"} {
		if s.CallCount(op, "") == 0 {
			t.Errorf("Vault never called %s", op)
		}
	}
	if strings.Contains(strings.Join(callsText(s), "\n"), managed.SecretAccessKey) {
		t.Error("the call log shows a secret key")
	}
}

func callsText(s *Server) []string {
	var out []string
	for _, c := range s.Calls() {
		out = append(out, c.Service+" "+c.Operation+" "+c.AccessKeyID+" "+c.Error)
	}
	return out
}

// TestVaultDynamicRoles runs Vault's iam_user and assumed_role role types
// against the stand-in: an iam_user lease is a new user with its inline
// policy and a working key, gone (user and key) once the lease is
// revoked; an assumed_role read is an STS session that signs as the role.
func TestVaultDynamicRoles(t *testing.T) {
	s := New(t)
	vc, _ := vaultAWS(t, s)
	c := ctx(t)
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:UpdateAccessKey","iam:DeleteAccessKey","iam:ListAccessKeys"],"Resource":"*"}]}`
	if _, err := vc.Logical().Write("aws/roles/revoker", map[string]any{"credential_type": "iam_user", "policy_document": policy}); err != nil {
		t.Fatalf("aws/roles/revoker: %v", err)
	}
	sec, err := vc.Logical().Read("aws/creds/revoker")
	if err != nil {
		t.Fatalf("aws/creds/revoker: %v", err)
	}
	user := credsOf(t, sec)
	id, err := stsClient(s, user).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if err != nil || !strings.Contains(aws.ToString(id.Arn), ":user/vault-") {
		t.Fatalf("the iam_user pair: %v, %v", id, err)
	}
	name := aws.ToString(id.Arn)[strings.LastIndex(aws.ToString(id.Arn), "/")+1:]
	pols, err := iamClient(s, user).ListUserPolicies(c, &iam.ListUserPoliciesInput{UserName: aws.String(name)})
	if err != nil || len(pols.PolicyNames) != 1 {
		t.Errorf("the user's inline policies: %v, %v", pols, err)
	}
	if err := vc.Sys().Revoke(sec.LeaseID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	_, err = stsClient(s, user).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if got := errorCode(t, err); got != "InvalidClientTokenId" {
		t.Errorf("a revoked iam_user pair: %q, want InvalidClientTokenId", got)
	}
	if slices.Contains(s.UserNames(), name) {
		t.Errorf("user %s survived the revocation", name)
	}

	arn, err := s.CreateRole("pushvault-rotator")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Logical().Write("aws/roles/rotator", map[string]any{"credential_type": "assumed_role", "role_arns": arn}); err != nil {
		t.Fatalf("aws/roles/rotator: %v", err)
	}
	sec, err = vc.Logical().Read("aws/creds/rotator")
	if err != nil {
		t.Fatalf("aws/creds/rotator: %v", err)
	}
	sess := credsOf(t, sec)
	if sess.SessionToken == "" {
		t.Fatal("no session token from an assumed_role read")
	}
	id, err = stsClient(s, sess).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if err != nil || !strings.HasPrefix(aws.ToString(id.Arn), "arn:aws:sts::"+DefaultAccount+":assumed-role/pushvault-rotator/") {
		t.Errorf("the assumed_role session: %v, %v", id, err)
	}
}
