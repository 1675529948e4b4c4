package rotate_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pushvault/pushvault/remediator/rotate"
)

func parse(t *testing.T, src string) (rotate.Settings, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "rotation" {
			return rotate.ParseSettings("pushvault.yml", root.Content[i+1])
		}
	}
	t.Fatal("no rotation section")
	return rotate.Settings{}, nil
}

func TestParseSettings(t *testing.T) {
	s, err := parse(t, `
rotation:
  enabled: [postgresql, vault_token]
  destroy_exposed: false
  approval: required
  databases:
    - match: {host: "db*.internal", port: "5432", database: shop}
      vault_connection: shop-db
      rotation_period: 12h
  pki:
    - {mount: pki, role: web}
  owned:
    - {name: session_secret}
    - {path: "config/**/webhook*.yml", shape: "hex:32"}
  aws:
    - account: "111122223333"
      vault_credentials_role: pushvault-keys
      users: "svc-*"
      rotation_period: 720h
      delete_leaked_key: at_once
`)
	if err != nil {
		t.Fatal(err)
	}
	var w rotate.Settings
	w.Enabled = []string{"postgresql", "vault_token"}
	f := false
	w.DestroyExposed = &f
	w.Approval = "required"
	w.Databases = []rotate.Database{{Connection: "shop-db", RotationPeriod: "12h"}}
	w.Databases[0].Match.Host, w.Databases[0].Match.Port, w.Databases[0].Match.Database = "db*.internal", "5432", "shop"
	w.PKI = []rotate.PKIMount{{Mount: "pki", Role: "web"}}
	w.Owned = []rotate.OwnedSecret{{Name: "session_secret"}, {Path: "config/**/webhook*.yml", Shape: "hex:32"}}
	w.AWS = []rotate.AWSAccount{{Account: "111122223333", CredentialsRole: "pushvault-keys", Users: "svc-*", RotationPeriod: "720h", DeleteLeakedKey: "at_once"}}
	want(t, "settings", w, s)
	if s.Destroy() || err != nil || s.Validate() != nil {
		t.Errorf("destroy %v, validate %v", s.Destroy(), s.Validate())
	}
}

func TestParseSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "rotation:\n  destroy: true\n", []string{"pushvault.yml:2: rotation.destroy: unknown key (known keys here: approval, aws, databases, destroy_exposed, enabled, owned, pki)"}},
		{"unknown rotator", "rotation:\n  enabled: [postgres]\n", []string{`pushvault.yml:2: rotation.enabled[0]: "postgres" is not one of postgresql, mysql, vault_token, vault_pki, github_token, owned, aws_iam`}},
		{"bad approval and bool", "rotation:\n  approval: later\n  destroy_exposed: maybe\n", []string{
			`pushvault.yml:2: rotation.approval: "later" is not one of auto, required`,
			"pushvault.yml:3: rotation.destroy_exposed: must be true or false"}},
		{"database without connection, bad glob", "rotation:\n  databases:\n    - match: {host: \"db[\"}\n", []string{
			`pushvault.yml:3: rotation.databases[0].match.host: invalid glob "db["`,
			"pushvault.yml:3: rotation.databases[0].vault_connection: required"}},
		{"owned without path or name, bad shape", "rotation:\n  owned:\n    - shape: hex:4\n", []string{
			`pushvault.yml:3: rotation.owned[0].shape: "hex:4": want same, hex:N, base64:N, base64url:N or alnum:N with N from 16 to 1024`,
			"pushvault.yml:3: rotation.owned[0]: path or name is required"}},
		{"pki not a list", "rotation:\n  pki: pki\n", []string{"pushvault.yml:2: rotation.pki: must be a list"}},
		{"aws account, role, period, delete mode", "rotation:\n  aws:\n    - {account: \"1234\", rotation_period: 30s, delete_leaked_key: never}\n", []string{
			`pushvault.yml:3: rotation.aws[0].account: "1234" is not a 12-digit AWS account id`,
			"pushvault.yml:3: rotation.aws[0].vault_credentials_role: required (a role on the mount whose short-lived credentials may list, deactivate and delete the users' access keys)",
			`pushvault.yml:3: rotation.aws[0].rotation_period: "30s", want a duration of at least 1m (Vault's minimum)`,
			`pushvault.yml:3: rotation.aws[0].delete_leaked_key: "never" is not one of on_approval, at_once`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.yaml)
			if err == nil {
				t.Fatal("no error")
			}
			want(t, "errors", tc.want, strings.Split(err.Error(), "\n"))
		})
	}
}
