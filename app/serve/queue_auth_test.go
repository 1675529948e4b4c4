package serve_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/tlstest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/vault"
)

// serve reads queue.password from Vault (queue.password_vault) and its
// embedded server, listening with TLS, takes that password and nothing
// less; the password is in no log line.
func TestServeQueuePasswordFromVault(t *testing.T) {
	gh := githubtest.New(t)
	app := gh.App()
	v := vaulttest.Start(t)
	password := secrettest.Fresh(t).Alnum(32)
	ctx := context.Background()
	if _, err := v.Client(t).KVv2("secret").Put(ctx, "pushvault/nats", map[string]any{"password": password}); err != nil {
		t.Fatal(err)
	}
	certs := tlstest.New(t)
	log, logs := queuetest.Logger()
	cfg := serve.DefaultServeConfig()
	cfg.DataDir, cfg.Listen, cfg.Queue = t.TempDir(), "127.0.0.1:0", queuetest.Config()
	cfg.Queue.Listen, cfg.Queue.User, cfg.Queue.PasswordVault = "127.0.0.1:0", "pushvault", "vault:secret/data/pushvault/nats#password"
	cfg.Queue.TLS = queue.TLSConfig{CertFile: certs.ServerCert, KeyFile: certs.ServerKey}
	cfg.GitHub = serve.GitHubConfig{AppID: app.ID, PrivateKey: string(app.PrivateKeyPEM), WebhookSecret: app.WebhookSecret,
		APIURL: gh.URL + "/", WebURL: gh.URL + "/", ActionPermission: "maintain"}
	cfg.Vault = vault.FromEnv(vault.Config{Address: v.Addr, Auth: vault.Auth{Token: v.Token}})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(ctx, log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	url := s.Queue.ClientURL()
	if _, err := nats.Connect(url, nats.RootCAs(certs.CA)); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("without the password: %v, want an authorization violation", err)
	}
	nc, err := nats.Connect(url, nats.RootCAs(certs.CA), nats.UserInfo("pushvault", password))
	if err != nil {
		t.Fatalf("with the password from Vault: %v", err)
	}
	nc.Close()
	if strings.Contains(logs.String(), password) {
		t.Error("the queue password is in serve's log")
	}
}
