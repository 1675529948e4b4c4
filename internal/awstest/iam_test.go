package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestIAMAccessKeyLifecycle drives IAM with aws-sdk-go-v2 as a rotator
// would: a second key is issued, a third refused (two per user), the old
// key deactivated (STS then refuses it with InvalidClientTokenId),
// reactivated (it works again: deactivation is reversible), deleted
// (refused for good), and GetUser/ListAccessKeys default to the caller.
func TestIAMAccessKeyLifecycle(t *testing.T) {
	s := New(t)
	admin := newUserWithKey(t, s, "admin")
	leaked := newUserWithKey(t, s, "app")
	c := ctx(t)
	api := iamClient(s, admin)
	whoAmI := func(creds Credentials) string {
		_, err := stsClient(s, creds).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
		return errorCode(t, err)
	}

	me, err := api.GetUser(c, &iam.GetUserInput{})
	if err != nil || aws.ToString(me.User.UserName) != "admin" {
		t.Fatalf("GetUser without a name: %v, %v", me, err)
	}
	created, err := api.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	fresh := Credentials{AccessKeyID: aws.ToString(created.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(created.AccessKey.SecretAccessKey)}
	if got := whoAmI(fresh); got != "" {
		t.Fatalf("the new key: %s", got)
	}
	_, err = api.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if got := errorCode(t, err); got != "LimitExceeded" {
		t.Errorf("a third key: %q, want LimitExceeded", got)
	}
	_, err = api.CreateAccessKey(c, &iam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	if got := errorCode(t, err); got != "NoSuchEntity" {
		t.Errorf("a key for no user: %q, want NoSuchEntity", got)
	}

	list, err := api.ListAccessKeys(c, &iam.ListAccessKeysInput{UserName: aws.String("app")})
	if err != nil || len(list.AccessKeyMetadata) != 2 {
		t.Fatalf("ListAccessKeys: %v, %v", list, err)
	}

	if _, err := api.UpdateAccessKey(c, &iam.UpdateAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(leaked.AccessKeyID), Status: types.StatusTypeInactive}); err != nil {
		t.Fatalf("UpdateAccessKey Inactive: %v", err)
	}
	if got := whoAmI(leaked); got != "InvalidClientTokenId" {
		t.Errorf("an inactive key: %q, want InvalidClientTokenId", got)
	}
	if got := whoAmI(fresh); got != "" {
		t.Errorf("the other key after deactivating one: %s", got)
	}
	if _, err := api.UpdateAccessKey(c, &iam.UpdateAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(leaked.AccessKeyID), Status: types.StatusTypeActive}); err != nil {
		t.Fatalf("UpdateAccessKey Active: %v", err)
	}
	if got := whoAmI(leaked); got != "" {
		t.Errorf("a reactivated key: %s", got)
	}
	if _, err := api.DeleteAccessKey(c, &iam.DeleteAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(leaked.AccessKeyID)}); err != nil {
		t.Fatalf("DeleteAccessKey: %v", err)
	}
	if got := whoAmI(leaked); got != "InvalidClientTokenId" {
		t.Errorf("a deleted key: %q, want InvalidClientTokenId", got)
	}
	_, err = api.DeleteAccessKey(c, &iam.DeleteAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(leaked.AccessKeyID)})
	if got := errorCode(t, err); got != "NoSuchEntity" {
		t.Errorf("deleting it again: %q, want NoSuchEntity", got)
	}
	keys, err := s.AccessKeys("app")
	if err != nil || len(keys) != 1 || keys[0].AccessKeyID != fresh.AccessKeyID {
		t.Errorf("keys left: %v, %v; want only %s", keys, err, fresh.AccessKeyID)
	}
	// The key's own user may list its keys without naming itself.
	own, err := iamClient(s, fresh).ListAccessKeys(c, &iam.ListAccessKeysInput{})
	if err != nil || len(own.AccessKeyMetadata) != 1 || aws.ToString(own.AccessKeyMetadata[0].UserName) != "app" {
		t.Errorf("ListAccessKeys without a name: %v, %v", own, err)
	}
}

// TestAssumeRoleSession checks STS AssumeRole's temporary credentials: the
// session signs with its token and is an assumed-role identity; without
// the token, or once expired, it is refused. A root key is the account's
// root identity.
func TestAssumeRoleSession(t *testing.T) {
	now := timeNow()
	s := New(t, WithClock(now.Now))
	admin := newUserWithKey(t, s, "admin")
	arn, err := s.CreateRole("rotator")
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	out, err := stsClient(s, admin).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("pushvault"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	sess := Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
	id, err := stsClient(s, sess).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if want := "arn:aws:sts::" + DefaultAccount + ":assumed-role/rotator/pushvault"; err != nil || aws.ToString(id.Arn) != want {
		t.Fatalf("caller %v (%v), want %s", id, err, want)
	}
	rootKey, err := s.CreateRootKey()
	if err != nil {
		t.Fatal(err)
	}
	rootID, err := stsClient(s, rootKey).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if want := "arn:aws:iam::" + DefaultAccount + ":root"; err != nil || aws.ToString(rootID.Arn) != want || aws.ToString(rootID.UserId) != DefaultAccount {
		t.Errorf("root key's caller %v (%v), want %s", rootID, err, want)
	}
	noToken := sess
	noToken.SessionToken = ""
	_, err = stsClient(s, noToken).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if got := errorCode(t, err); got != "InvalidClientTokenId" {
		t.Errorf("session key without its token: %q, want InvalidClientTokenId", got)
	}
	_, err = stsClient(s, admin).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(arn + "x"), RoleSessionName: aws.String("pushvault")})
	if got := errorCode(t, err); got != "AccessDenied" {
		t.Errorf("an unknown role: %q, want AccessDenied", got)
	}
	now.Advance(901e9)
	_, err = stsClient(s, sess).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if got := errorCode(t, err); got != "ExpiredToken" {
		t.Errorf("an expired session: %q, want ExpiredToken", got)
	}
}
