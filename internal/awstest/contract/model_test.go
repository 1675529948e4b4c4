package contract

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestModelsLoad reads the three pinned models and checks the facts the
// stand-in relies on: each service's protocol, version and envelope.
func TestModelsLoad(t *testing.T) {
	want := map[Service]Metadata{
		IAM:            {APIVersion: "2010-05-08", Protocol: "query", XMLNamespace: "https://iam.amazonaws.com/doc/2010-05-08/", ServiceID: "IAM"},
		STS:            {APIVersion: "2011-06-15", Protocol: "query", XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/", ServiceID: "STS"},
		SecretsManager: {APIVersion: "2017-10-17", Protocol: "json", JSONVersion: "1.1", TargetPrefix: "secretsmanager", ServiceID: "Secrets Manager"},
	}
	for svc, md := range want {
		m, err := Load(svc)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(md, m.Metadata); diff != "" {
			t.Errorf("%s metadata (-want +got):\n%s", svc, diff)
		}
	}
}

// TestParseQueryShapes parses the query protocol's list, nested structure
// and scalar encodings (as aws-sdk-go v1 in Vault sends them) into a tree.
func TestParseQueryShapes(t *testing.T) {
	m, err := Load(IAM)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"Action": {"CreateUser"}, "Version": {"2010-05-08"},
		"UserName": {"app"}, "Path": {"/"},
		"Tags.member.2.Key": {"b"}, "Tags.member.2.Value": {"2"},
		"Tags.member.1.Key": {"a"}, "Tags.member.1.Value": {"1"},
	}
	op, tree, err := m.ParseQuery(form)
	if err != nil || op.Name != "CreateUser" {
		t.Fatalf("ParseQuery: %v %v", op, err)
	}
	want := map[string]any{"UserName": "app", "Path": "/", "Tags": []any{
		map[string]any{"Key": "a", "Value": "1"}, map[string]any{"Key": "b", "Value": "2"},
	}}
	if diff := cmp.Diff(want, tree); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}

	s, _ := Load(STS)
	_, tree, err = s.ParseQuery(url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {"arn"}, "RoleSessionName": {"s"}, "DurationSeconds": {"900"}, "Tags": {""}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"RoleArn": "arn", "RoleSessionName": "s", "DurationSeconds": int64(900), "Tags": []any{}}, tree); diff != "" {
		t.Errorf("empty list and integer (-want +got):\n%s", diff)
	}
	_, _, err = s.ParseQuery(url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {"arn"}, "RoleSessionName": {"s"}, "Tags.member.1.Key": {"k"}})
	if err == nil || !strings.Contains(err.Error(), "Tags[0].Value: required member missing") {
		t.Errorf("a tag without its required Value: %v", err)
	}
}

// TestXMLRoundTrip encodes an answer the way the stand-in does and checks
// it against the model, and that a wrong type is caught.
func TestXMLRoundTrip(t *testing.T) {
	m, err := Load(IAM)
	if err != nil {
		t.Fatal(err)
	}
	op := m.Op("ListAccessKeys")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body, err := m.EncodeXML(op, map[string]any{"IsTruncated": false, "AccessKeyMetadata": []any{
		map[string]any{"UserName": "app", "AccessKeyId": "AKIA", "Status": "Active", "CreateDate": created},
	}}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckXMLResponse(op, body); err != nil {
		t.Errorf("on-model answer refused: %v\n%s", err, body)
	}
	if !strings.Contains(string(body), "<CreateDate>2026-01-02T03:04:05Z</CreateDate>") {
		t.Errorf("timestamp not ISO 8601: %s", body)
	}
	bad := strings.Replace(string(body), "<IsTruncated>false</IsTruncated>", "<IsTruncated>no</IsTruncated>", 1)
	if err := m.CheckXMLResponse(op, []byte(bad)); err == nil || !strings.Contains(err.Error(), "IsTruncated: not a boolean") {
		t.Errorf("a wrong type: %v", err)
	}
	noList := strings.Replace(string(body), "AccessKeyMetadata", "Keys", 2)
	if err := m.CheckXMLResponse(op, []byte(noList)); err == nil || !strings.Contains(err.Error(), "AccessKeyMetadata: required member missing") {
		t.Errorf("a missing required member: %v", err)
	}
}

// TestViolationsNameNoValue: a sensitive value in a request that breaks
// the model does not appear in the violation.
func TestViolationsNameNoValue(t *testing.T) {
	m, err := Load(SecretsManager)
	if err != nil {
		t.Fatal(err)
	}
	const planted = "planted-secret-4f1d"
	_, err = m.ParseJSON(m.Op("PutSecretValue"), []byte(`{"SecretId":"x","SecretString":"`+planted+`","Bogus":"`+planted+`","VersionStages":"`+planted+`"}`))
	if err == nil {
		t.Fatal("an off-model request was accepted")
	}
	if strings.Contains(err.Error(), planted) {
		t.Errorf("the violation shows the value: %v", err)
	}
}
