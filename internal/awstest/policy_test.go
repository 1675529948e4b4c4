package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestPolicyEnforcement: with WithPolicyEnforcement a role scoped to the
// key-revocation calls may deactivate a key but not create one, a session
// policy narrows it further, a user without policies is refused (IAM and
// Secrets Manager each in its protocol's terms), and GetCallerIdentity is
// never denied.
func TestPolicyEnforcement(t *testing.T) {
	s := New(t, WithPolicyEnforcement())
	admin := newUserWithKey(t, s, "admin")
	if err := s.AttachUserPolicy("admin", AdministratorAccess); err != nil {
		t.Fatal(err)
	}
	leaked := newUserWithKey(t, s, "app")
	nobody := newUserWithKey(t, s, "nobody")
	arn, err := s.CreateRole("revoker")
	if err != nil {
		t.Fatal(err)
	}
	const scoped = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:UpdateAccessKey","iam:DeleteAccessKey","iam:ListAccessKeys"],"Resource":"arn:aws:iam::123456789012:user/*"}]}`
	if err := s.SetRolePolicy("revoker", "revoke", scoped); err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	session := func(policy *string) Credentials {
		t.Helper()
		out, err := stsClient(s, admin).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("pv"), Policy: policy})
		if err != nil {
			t.Fatalf("AssumeRole: %v", err)
		}
		return Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
	}
	rev := iamClient(s, session(nil))
	if _, err := rev.UpdateAccessKey(c, &iam.UpdateAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(leaked.AccessKeyID), Status: types.StatusTypeInactive}); err != nil {
		t.Errorf("the scoped role deactivating a key: %v", err)
	}
	_, err = rev.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if got := errorCode(t, err); got != "AccessDenied" {
		t.Errorf("the scoped role creating a key: %q, want AccessDenied", got)
	}
	listOnly := `{"Statement":[{"Effect":"Allow","Action":"iam:List*","Resource":"*"}]}`
	narrow := iamClient(s, session(&listOnly))
	if _, err := narrow.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: aws.String("app")}); err != nil {
		t.Errorf("a session policy allowing List*: %v", err)
	}
	_, err = narrow.UpdateAccessKey(c, &iam.UpdateAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(leaked.AccessKeyID), Status: types.StatusTypeActive})
	if got := errorCode(t, err); got != "AccessDenied" {
		t.Errorf("UpdateAccessKey outside the session policy: %q, want AccessDenied", got)
	}
	_, err = iamClient(s, nobody).ListAccessKeys(c, &iam.ListAccessKeysInput{})
	if got := errorCode(t, err); got != "AccessDenied" {
		t.Errorf("a user without policies: %q, want AccessDenied", got)
	}
	_, err = smClient(s, nobody).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")})
	if got := errorCode(t, err); got != "AccessDeniedException" {
		t.Errorf("Secrets Manager without policies: %q, want AccessDeniedException", got)
	}
	if _, err := stsClient(s, nobody).GetCallerIdentity(c, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity is never denied: %v", err)
	}
	deny := `{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},{"Effect":"Deny","Action":"iam:DeleteAccessKey","Resource":"*"}]}`
	if err := s.SetUserPolicy("nobody", "mostly", deny); err != nil {
		t.Fatal(err)
	}
	_, err = iamClient(s, nobody).DeleteAccessKey(c, &iam.DeleteAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(leaked.AccessKeyID)})
	if got := errorCode(t, err); got != "AccessDenied" {
		t.Errorf("an explicit Deny: %q, want AccessDenied", got)
	}
}
