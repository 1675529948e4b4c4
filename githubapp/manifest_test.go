package githubapp_test

import (
	"os"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/githubapp"
)

func TestShippedManifest(t *testing.T) {
	data, err := os.ReadFile("../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := githubapp.ParseManifest(data)
	if err != nil {
		t.Fatalf("app.yml: %v", err)
	}
	if !m.HookAttributes.Active || m.Name != "pushvault" {
		t.Errorf("manifest %+v", m)
	}
}

func TestManifestErrors(t *testing.T) {
	bad := `name: ""
url: ftp://x
hook_attributes: {url: "", active: true}
default_permissions: {contents: read, pull_requests: write, checks: write, issues: write}
default_events: [push]
`
	_, err := githubapp.ParseManifest([]byte(bad))
	if err == nil {
		t.Fatal("invalid manifest accepted")
	}
	for _, want := range []string{
		"name is required", "url must be an http(s) URL", "hook_attributes.url must be an http(s) URL",
		"default_permissions.contents must be write", "default_permissions.metadata must be read",
		"default_events must include pull_request", "default_events must include check_run", "default_events must include check_suite",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := githubapp.ParseManifest([]byte("name: x\nbogus: 1\n")); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown key: %v", err)
	}
}
