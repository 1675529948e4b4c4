package secretstore

import (
	"strings"
	"testing"

	"github.com/pushvault/pushvault/app/policy"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"PUSHVAULT_STORE_TYPE": "aws_secretsmanager", "PUSHVAULT_STORE_AWS_REGION": "eu-west-1",
		"PUSHVAULT_STORE_AWS_ENDPOINT": "http://127.0.0.1:4566", "PUSHVAULT_STORE_AWS_TIMEOUT": "3s",
	}
	c, err := FromEnv(Config{}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != TypeAWS || c.AWS.Region != "eu-west-1" || c.AWS.Endpoint != "http://127.0.0.1:4566" || c.AWS.Timeout.String() != "3s" {
		t.Errorf("FromEnv = %+v", c)
	}
	env["PUSHVAULT_STORE_TYPE"] = "s3"
	if _, err := FromEnv(Config{}, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "store.type") {
		t.Errorf("bad type: %v, want an error naming store.type", err)
	}
}

// TestRepositoryCannotChooseStore: the store is not a key of a
// repository's settings file; a file that sets it is refused, not obeyed.
func TestRepositoryCannotChooseStore(t *testing.T) {
	_, err := policy.Parse(".github/pushvault.yml", []byte("store:\n  type: aws_secretsmanager\n"))
	if err == nil || !strings.Contains(err.Error(), "store") {
		t.Fatalf("Parse: %v, want an error naming store", err)
	}
	for _, k := range policy.Keys() {
		if strings.HasPrefix(k, "store") {
			t.Errorf("repository_may_set can grant %q", k)
		}
	}
}
