package serve_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/app/serve"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "serve.yml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const validConfig = `
listen: 127.0.0.1:9000
data_dir: /var/lib/pushvault
workers: 8
github:
  app_id: 4242
  private_key_file: /etc/pushvault/serve.pem
  webhook_secret_vault: vault:secret/data/pushvault/app#webhook_secret
  api_url: https://ghe.acme.test/api/v3/
  web_url: https://ghe.acme.test/
vault:
  address: https://vault.acme.test:8200
  auth:
    method: approle
    role_id: pushvault
    secret_id_file: /etc/pushvault/secret-id
queue:
  url: nats://nats-1.acme.test:4222,nats://nats-2.acme.test:4222
  replicas: 3
  backoff: [1s, 1m]
`

func TestLoadServeConfig(t *testing.T) {
	cfg, err := serve.LoadServeConfig(writeConfig(t, validConfig), envOf(map[string]string{
		"PUSHVAULT_WORKERS":            "16",
		"PUSHVAULT_QUEUE_ACK_WAIT":     "45s",
		"PUSHVAULT_QUEUE_BACKOFF":      "2s, 3m",
		"PUSHVAULT_VAULT_AUTH_ROLE_ID": "pushvault-prod",
		"PUSHVAULT_REPOSITORY_MAY_SET": "allowlist.paths, rotation.approval",
		"VAULT_ADDR":                   "https://ignored.acme.test", // the file's address wins
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 16 || cfg.Queue.AckWait != 45*time.Second || cfg.Vault.Auth.RoleID != "pushvault-prod" {
		t.Errorf("env overrides not applied: workers %d, ack_wait %v, role_id %q", cfg.Workers, cfg.Queue.AckWait, cfg.Vault.Auth.RoleID)
	}
	if diff := cmp.Diff([]string{"allowlist.paths", "rotation.approval"}, cfg.RepositoryMaySet); diff != "" {
		t.Errorf("repository_may_set from the environment (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{2 * time.Second, 3 * time.Minute}, cfg.Queue.Backoff); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	if cfg.Vault.Address != "https://vault.acme.test:8200" || cfg.GitHub.APIURL != "https://ghe.acme.test/api/v3/" || cfg.Queue.Replicas != 3 {
		t.Errorf("file values lost: %+v", cfg)
	}
	if cfg.Queue.MaxAttempts != 5 || cfg.Queue.DedupWindow != 24*time.Hour || cfg.ShutdownTimeout != 30*time.Second {
		t.Errorf("defaults lost: %+v", cfg.Queue)
	}
}

func TestLoadServeConfigFromEnvOnly(t *testing.T) {
	cfg, err := serve.LoadServeConfig("", envOf(map[string]string{
		"PUSHVAULT_GITHUB_APP_ID":         "7",
		"PUSHVAULT_GITHUB_PRIVATE_KEY":    "-----BEGIN RSA PRIVATE KEY-----",
		"PUSHVAULT_GITHUB_WEBHOOK_SECRET": "s3cret",
		"PUSHVAULT_DATA_DIR":              "/data",
		"VAULT_ADDR":                      "http://127.0.0.1:8200",
		"VAULT_TOKEN":                     "hvs.x",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GitHub.AppID != 7 || cfg.DataDir != "/data" || cfg.Vault.Auth.Token != "hvs.x" || cfg.Queue.URL != "" {
		t.Errorf("%+v", cfg)
	}
}

func TestLoadServeConfigStrict(t *testing.T) {
	_, err := serve.LoadServeConfig(writeConfig(t, validConfig+"  ack_wiat: 10s\n"), envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "line 21: unknown key ack_wiat") || !strings.Contains(err.Error(), "serve.yml") {
		t.Errorf("err = %v, want the file, line 21 and the unknown key", err)
	}
	_, err = serve.LoadServeConfig(writeConfig(t, "workers: many\n"), envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v, want a type error on line 1", err)
	}
}

// badFields is a configuration with a bad value in every field Validate
// checks.
const badFields = `
listen: nowhere
workers: 0
log_level: loud
github:
  private_key: inline
  private_key_file: /also/a/file
  webhook_secret_vault: secret/no-prefix
  api_url: ftp://x
vault:
  auth:
    method: password
queue:
  url: http://nats:4222
  listen: 127.0.0.1:4222
  replicas: 9
  ack_wait: 10ms
  delivery_timeout: 10ms
  max_attempts: 0
  backoff: [-1s]
  dedup_window: 1s
  claim_lease: 1ms
webhook:
  max_body_bytes: 10
rotation:
  database_timeout: 10ms
backfill:
  github_reserve: 120%
`

func TestServeConfigValidateNamesEveryBadField(t *testing.T) {
	_, err := serve.LoadServeConfig(writeConfig(t, badFields), envOf(map[string]string{"PUSHVAULT_SHUTDOWN_TIMEOUT": "soon"}))
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), `PUSHVAULT_SHUTDOWN_TIMEOUT: "soon" is not a duration`) {
		t.Errorf("bad env value not named: %v", err)
	}
	_, err = serve.LoadServeConfig(writeConfig(t, badFields+"repository_may_set: [allowlist.paths, rotation.database]\n"), envOf(nil))
	for _, want := range []string{
		`listen: "nowhere"`, "workers: 0", `log_level: "loud"`, "github.app_id: required",
		"github.private_key: set only one of", `github.webhook_secret_vault: "secret/no-prefix"`, `github.api_url: "ftp://x"`,
		"vault.address: required", `vault.auth.method: "password"`, `queue.url: "http://nats:4222"`, "queue.listen: only for the embedded server",
		"queue.replicas: 9", "queue.ack_wait: 10ms", "queue.delivery_timeout: 10ms", "queue.max_attempts: 0", "queue.backoff[0]: -1s", "queue.dedup_window: 1s",
		"queue.claim_lease: 1ms", "webhook.max_body_bytes: 10", "rotation.database_timeout: 10ms",
		`backfill.github_reserve: "120%" is not a percentage`, `repository_may_set: "rotation.database" not a settings key`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "inline") {
		t.Errorf("the private key's value is in the error: %v", err)
	}
}

// The bypass settings: inline_allow and github.action_permission default
// to record and maintain, come from the file or the environment, and a bad
// value is named.
func TestServeConfigBypassSettings(t *testing.T) {
	cfg, err := serve.LoadServeConfig(writeConfig(t, validConfig), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InlineAllow != "record" || cfg.GitHub.ActionPermission != "maintain" {
		t.Errorf("defaults: inline_allow %q, github.action_permission %q", cfg.InlineAllow, cfg.GitHub.ActionPermission)
	}
	cfg, err = serve.LoadServeConfig(writeConfig(t, validConfig+"inline_allow: ignore\n"),
		envOf(map[string]string{"PUSHVAULT_GITHUB_ACTION_PERMISSION": "admin"}))
	if err != nil || cfg.InlineAllow != "ignore" || cfg.GitHub.ActionPermission != "admin" {
		t.Errorf("set: inline_allow %q, github.action_permission %q, err %v", cfg.InlineAllow, cfg.GitHub.ActionPermission, err)
	}
	_, err = serve.LoadServeConfig(writeConfig(t, validConfig+"inline_allow: honor\n"),
		envOf(map[string]string{"PUSHVAULT_GITHUB_ACTION_PERMISSION": "owner"}))
	for _, want := range []string{`inline_allow: "honor" is not one of honour, record, ignore`,
		`github.action_permission: "owner" is not one of read, triage, write, maintain, admin`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// generic_secrets defaults to report, comes from the file or the
// environment, and a bad value is named.
func TestServeConfigGenericSecrets(t *testing.T) {
	cfg, err := serve.LoadServeConfig(writeConfig(t, validConfig), envOf(nil))
	if err != nil || cfg.GenericSecrets != "report" {
		t.Errorf("default: generic_secrets %q, err %v", cfg.GenericSecrets, err)
	}
	cfg, err = serve.LoadServeConfig(writeConfig(t, validConfig+"generic_secrets: fix\n"), envOf(nil))
	if err != nil || cfg.GenericSecrets != "fix" {
		t.Errorf("file: generic_secrets %q, err %v", cfg.GenericSecrets, err)
	}
	cfg, err = serve.LoadServeConfig(writeConfig(t, validConfig), envOf(map[string]string{"PUSHVAULT_GENERIC_SECRETS": "off"}))
	if err != nil || cfg.GenericSecrets != "off" {
		t.Errorf("environment: generic_secrets %q, err %v", cfg.GenericSecrets, err)
	}
	_, err = serve.LoadServeConfig(writeConfig(t, validConfig+"generic_secrets: vault\n"), envOf(nil))
	if want := `generic_secrets: "vault" is not one of report, fix, off`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("missing %q in:\n%v", want, err)
	}
}

// The http timeouts and webhook.max_concurrent have defaults (GitHub's 10 s
// per delivery), come from the file or the environment, and bad values are
// named.
func TestServeConfigHTTPLimits(t *testing.T) {
	cfg, err := serve.LoadServeConfig(writeConfig(t, validConfig), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := serve.HTTPConfig{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 15 * time.Second, IdleTimeout: time.Minute}
	if diff := cmp.Diff(want, cfg.HTTP); diff != "" || cfg.Webhook.MaxConcurrent != 16 || cfg.Webhook.MaxBodyBytes != 25<<20 {
		t.Errorf("defaults (-want +got):\n%s\nwebhook %+v", diff, cfg.Webhook)
	}
	cfg, err = serve.LoadServeConfig(writeConfig(t, validConfig+"http:\n  read_timeout: 30s\n  idle_timeout: 5s\nwebhook:\n  max_concurrent: 4\n"),
		envOf(map[string]string{"PUSHVAULT_HTTP_WRITE_TIMEOUT": "40s", "PUSHVAULT_WEBHOOK_MAX_CONCURRENT": "8"}))
	want.ReadTimeout, want.IdleTimeout, want.WriteTimeout = 30*time.Second, 5*time.Second, 40*time.Second
	if diff := cmp.Diff(want, cfg.HTTP); err != nil || diff != "" || cfg.Webhook.MaxConcurrent != 8 {
		t.Errorf("set: err %v (-want +got):\n%s\nwebhook.max_concurrent %d", err, diff, cfg.Webhook.MaxConcurrent)
	}
	_, err = serve.LoadServeConfig(writeConfig(t, validConfig+"http:\n  read_header_timeout: 20s\n  write_timeout: 0s\n  idle_timeout: -1s\nwebhook:\n  max_concurrent: 0\n"), envOf(nil))
	for _, want := range []string{"http.write_timeout: 0s, want a positive duration", "http.idle_timeout: -1s, want a positive duration",
		"http.read_header_timeout: 20s is longer than http.read_timeout (10s)", "webhook.max_concurrent: 0, want at least 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// serveBase is validConfig's required keys, with the embedded queue.
const serveBase = `
github:
  app_id: 4242
  private_key_file: /etc/pushvault/serve.pem
  webhook_secret_file: /etc/pushvault/webhook-secret
vault:
  address: https://vault.acme.test:8200
  auth:
    method: token
    token: hvs.x
queue:
`

// queue.listen off loopback needs credentials and TLS; on loopback it may
// go without; credentials come from one source each and one method.
func TestServeConfigQueueSecurity(t *testing.T) {
	for _, tc := range []struct {
		name, queue string
		want        []string // substrings of the error; none: valid
	}{
		{"loopback without auth", "  listen: 127.0.0.1:4222\n", nil},
		{"localhost without auth", "  listen: localhost:4222\n", nil},
		{"every interface without auth or TLS", "  listen: 0.0.0.0:4222\n", []string{
			`queue.listen: "0.0.0.0:4222" is not a loopback address: set queue.user and queue.password`,
			`queue.listen: "0.0.0.0:4222" is not a loopback address: set queue.tls.cert_file and queue.tls.key_file`}},
		{"empty host with auth, without TLS", "  listen: :4222\n  user: pushvault\n  password_file: /etc/pushvault/nats-password\n",
			[]string{`queue.listen: ":4222" is not a loopback address: set queue.tls.cert_file`}},
		{"host name with TLS, without auth", "  listen: nats.acme.test:4222\n  tls: {cert_file: /c.pem, key_file: /k.pem}\n",
			[]string{`queue.listen: "nats.acme.test:4222" is not a loopback address: set queue.user`}},
		{"off loopback with a password and TLS", "  listen: 10.0.0.5:4222\n  user: pushvault\n  password_vault: vault:secret/data/pushvault/nats#password\n  tls: {cert_file: /c.pem, key_file: /k.pem, ca_file: /ca.pem}\n", nil},
		{"off loopback with an nkey and TLS", "  listen: 0.0.0.0:4222\n  nkey_seed_file: /etc/pushvault/nats.nk\n  tls: {cert_file: /c.pem, key_file: /k.pem}\n", nil},
		{"password without user", "  listen: 127.0.0.1:4222\n  password_file: /p\n", []string{"queue.user: queue.user and queue.password"}},
		{"two password sources", "  listen: 127.0.0.1:4222\n  user: u\n  password: inline\n  password_file: /p\n",
			[]string{"queue.password: set only one of queue.password, queue.password_file and queue.password_vault"}},
		{"bad vault reference", "  listen: 127.0.0.1:4222\n  nkey_seed_vault: secret/nats\n", []string{`queue.nkey_seed_vault: "secret/nats": want vault:PATH#KEY`}},
		{"two methods", "  listen: 127.0.0.1:4222\n  user: u\n  password_file: /p\n  nkey_seed_file: /n\n", []string{"queue.user: set only one of"}},
		{"creds file on the embedded server", "  listen: 127.0.0.1:4222\n  creds_file: /x.creds\n", []string{"queue.creds_file: only with queue.url"}},
		{"url with creds and TLS", "  url: tls://nats.acme.test:4222\n  creds_file: /x.creds\n  tls: {ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem}\n", nil},
		{"url with an nkey from the environment's value", "  url: nats://nats.acme.test:4222\n  nkey_seed: SUAKEY\n", nil},
		{"cert without key", "  url: tls://nats.acme.test:4222\n  tls: {cert_file: /c.pem}\n", []string{"queue.tls: cert_file and key_file go together"}},
		{"TLS without a server", "  tls: {ca_file: /ca.pem}\n", []string{"queue.tls: only with queue.listen or queue.url"}},
		{"client CA without server cert", "  listen: 127.0.0.1:4222\n  tls: {ca_file: /ca.pem}\n", []string{"queue.tls.ca_file: with queue.listen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := serve.LoadServeConfig(writeConfig(t, serveBase+tc.queue), envOf(nil))
			if len(tc.want) == 0 && err != nil {
				t.Fatalf("want valid, got:\n%v", err)
			}
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("missing %q in:\n%v", want, err)
				}
			}
			if err != nil && strings.Contains(err.Error(), "inline") {
				t.Errorf("a password's value is in the error: %v", err)
			}
		})
	}
}

// The queue's TLS and credential keys come from the environment too.
func TestServeConfigQueueSecurityFromEnv(t *testing.T) {
	cfg, err := serve.LoadServeConfig(writeConfig(t, serveBase), envOf(map[string]string{
		"PUSHVAULT_QUEUE_LISTEN":         "0.0.0.0:4222",
		"PUSHVAULT_QUEUE_NKEY_SEED_FILE": "/etc/pushvault/nats.nk",
		"PUSHVAULT_QUEUE_TLS_CERT_FILE":  "/etc/pushvault/nats.pem",
		"PUSHVAULT_QUEUE_TLS_KEY_FILE":   "/etc/pushvault/nats-key.pem",
		"PUSHVAULT_QUEUE_TLS_CA_FILE":    "/etc/pushvault/clients-ca.pem",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Queue.NkeySeedFile != "/etc/pushvault/nats.nk" || cfg.Queue.TLS.CertFile != "/etc/pushvault/nats.pem" || cfg.Queue.TLS.CAFile != "/etc/pushvault/clients-ca.pem" {
		t.Errorf("environment not applied: %+v", cfg.Queue)
	}
}
