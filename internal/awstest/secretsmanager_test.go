package awstest

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// TestSecretsManagerVersions drives Secrets Manager with aws-sdk-go-v2 as
// a store would: a secret created with tags and a first value
// (AWSCURRENT), PutSecretValue retried with its ClientRequestToken (no
// second version) and reused with another value (refused), a rotation
// (AWSCURRENT moves, AWSPREVIOUS follows), an own staging label, reads by
// id and stage, tags merged, versions listed, then deletion.
func TestSecretsManagerVersions(t *testing.T) {
	s := New(t)
	api := smClient(s, newUserWithKey(t, s, "store"))
	c := ctx(t)
	const exposed, rotated, other = "exposed-value-6e1f", "rotated-value-93ab", "other-value-71c0"
	tok1 := strings.Repeat("1", 32)
	tok2 := strings.Repeat("2", 36)

	created, err := api.CreateSecret(c, &secretsmanager.CreateSecretInput{
		Name: aws.String("pushvault/acme/shop/stripe_key"), SecretString: aws.String(exposed), ClientRequestToken: aws.String(tok1),
		Tags: []types.Tag{{Key: aws.String("pushvault:fingerprint"), Value: aws.String("abc")}},
	})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	if aws.ToString(created.VersionId) != tok1 || !strings.HasPrefix(aws.ToString(created.ARN), "arn:aws:secretsmanager:us-east-1:"+DefaultAccount+":secret:pushvault/acme/shop/stripe_key-") {
		t.Errorf("CreateSecret answered %s %s", aws.ToString(created.VersionId), aws.ToString(created.ARN))
	}
	// A retried CreateSecret (same token, same value) is answered as the first.
	again, err := api.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("pushvault/acme/shop/stripe_key"), SecretString: aws.String(exposed), ClientRequestToken: aws.String(tok1)})
	if err != nil || aws.ToString(again.VersionId) != tok1 {
		t.Errorf("retried CreateSecret: %v, %v", again, err)
	}
	_, err = api.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("pushvault/acme/shop/stripe_key"), SecretString: aws.String(other)})
	if got := errorCode(t, err); got != "ResourceExistsException" {
		t.Errorf("CreateSecret of a taken name: %q", got)
	}
	id := created.ARN // by ARN from here on

	for range 2 { // a retry of the same PutSecretValue adds nothing
		put, err := api.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: id, SecretString: aws.String(rotated), ClientRequestToken: aws.String(tok2)})
		if err != nil || aws.ToString(put.VersionId) != tok2 || !slices.Equal(put.VersionStages, []string{"AWSCURRENT"}) {
			t.Fatalf("PutSecretValue: %+v, %v", put, err)
		}
	}
	_, err = api.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: id, SecretString: aws.String(other), ClientRequestToken: aws.String(tok2)})
	if got := errorCode(t, err); got != "ResourceExistsException" {
		t.Errorf("a token reused with another value: %q, want ResourceExistsException", got)
	}
	if err != nil && strings.Contains(err.Error(), other) {
		t.Error("the error shows the secret value")
	}
	// The exposed version keeps a label of its own.
	if _, err := api.UpdateSecretVersionStage(c, &secretsmanager.UpdateSecretVersionStageInput{SecretId: id, VersionStage: aws.String("PUSHVAULT_EXPOSED"), MoveToVersionId: aws.String(tok1)}); err != nil {
		t.Fatalf("UpdateSecretVersionStage: %v", err)
	}
	_, err = api.UpdateSecretVersionStage(c, &secretsmanager.UpdateSecretVersionStageInput{SecretId: id, VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(tok1)})
	if got := errorCode(t, err); got != "InvalidParameterException" {
		t.Errorf("moving AWSCURRENT without RemoveFromVersionId: %q", got)
	}

	desc, err := api.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: id})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{tok1: {"AWSPREVIOUS", "PUSHVAULT_EXPOSED"}, tok2: {"AWSCURRENT"}}
	for v, stages := range desc.VersionIdsToStages {
		slices.Sort(stages)
		if !slices.Equal(stages, want[v]) {
			t.Errorf("version %s has %v, want %v", v, stages, want[v])
		}
	}
	if len(desc.VersionIdsToStages) != 2 {
		t.Errorf("%d versions, want 2", len(desc.VersionIdsToStages))
	}

	get := func(in *secretsmanager.GetSecretValueInput) string {
		t.Helper()
		in.SecretId = id
		out, err := api.GetSecretValue(c, in)
		if err != nil {
			t.Fatalf("GetSecretValue: %v", err)
		}
		return aws.ToString(out.SecretString)
	}
	if got := get(&secretsmanager.GetSecretValueInput{}); got != rotated {
		t.Error("AWSCURRENT is not the rotated value")
	}
	if got := get(&secretsmanager.GetSecretValueInput{VersionStage: aws.String("PUSHVAULT_EXPOSED")}); got != exposed {
		t.Error("PUSHVAULT_EXPOSED is not the exposed value")
	}
	if got := get(&secretsmanager.GetSecretValueInput{VersionId: aws.String(tok1), VersionStage: aws.String("AWSPREVIOUS")}); got != exposed {
		t.Error("version 1 as AWSPREVIOUS is not the exposed value")
	}
	_, err = api.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: id, VersionId: aws.String(tok1), VersionStage: aws.String("AWSCURRENT")})
	if got := errorCode(t, err); got != "ResourceNotFoundException" {
		t.Errorf("an id and a stage of different versions: %q", got)
	}

	// Destroying the exposed version: its labels go, it becomes deprecated.
	for _, l := range []string{"PUSHVAULT_EXPOSED", "AWSPREVIOUS"} {
		if _, err := api.UpdateSecretVersionStage(c, &secretsmanager.UpdateSecretVersionStageInput{SecretId: id, VersionStage: aws.String(l), RemoveFromVersionId: aws.String(tok1)}); err != nil {
			t.Fatalf("removing %s: %v", l, err)
		}
	}
	listed, err := api.ListSecretVersionIds(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: id})
	if err != nil || len(listed.Versions) != 1 || aws.ToString(listed.Versions[0].VersionId) != tok2 {
		t.Errorf("ListSecretVersionIds: %+v, %v; want only %s", listed, err, tok2)
	}
	all, err := api.ListSecretVersionIds(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: id, IncludeDeprecated: aws.Bool(true)})
	if err != nil || len(all.Versions) != 2 {
		t.Errorf("ListSecretVersionIds with deprecated: %+v, %v", all, err)
	}

	if _, err := api.TagResource(c, &secretsmanager.TagResourceInput{SecretId: id, Tags: []types.Tag{
		{Key: aws.String("pushvault:fingerprint"), Value: aws.String("def")}, {Key: aws.String("pushvault:state"), Value: aws.String("rotated")},
	}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	info, _ := s.Secret("pushvault/acme/shop/stripe_key")
	if info.Tags["pushvault:fingerprint"] != "def" || info.Tags["pushvault:state"] != "rotated" || len(info.Tags) != 2 {
		t.Errorf("tags %v", info.Tags)
	}

	del, err := api.DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: id, RecoveryWindowInDays: aws.Int64(7)})
	if err != nil || del.DeletionDate == nil {
		t.Fatalf("DeleteSecret: %v, %v", del, err)
	}
	_, err = api.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: id})
	if got := errorCode(t, err); got != "InvalidRequestException" {
		t.Errorf("reading a secret scheduled for deletion: %q", got)
	}
	if _, err := api.DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: id, ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatalf("DeleteSecret forced: %v", err)
	}
	_, err = api.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: id})
	if got := errorCode(t, err); got != "ResourceNotFoundException" {
		t.Errorf("a force-deleted secret: %q", got)
	}
}

// TestSecretsManagerRefusesBadKeys checks the JSON protocol's
// authentication errors: an unknown key and a wrong secret.
func TestSecretsManagerRefusesBadKeys(t *testing.T) {
	s := New(t)
	good := newUserWithKey(t, s, "store")
	bad := good
	bad.SecretAccessKey = strings.Repeat("y", 40)
	c := ctx(t)
	_, err := smClient(s, Credentials{AccessKeyID: "AKIA" + strings.Repeat("Z", 16), SecretAccessKey: good.SecretAccessKey}).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")})
	if got := errorCode(t, err); got != "UnrecognizedClientException" {
		t.Errorf("unknown key: %q", got)
	}
	_, err = smClient(s, bad).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")})
	if got := errorCode(t, err); got != "InvalidSignatureException" {
		t.Errorf("wrong secret: %q", got)
	}
	_, err = smClient(s, good).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")})
	if got := errorCode(t, err); got != "ResourceNotFoundException" {
		t.Errorf("a good key, no secret: %q", got)
	}
}
