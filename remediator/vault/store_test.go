package vault_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

const planted = "sk_live_51HqLyjWDarjtT1zdp7dcQZ8x"

func item(name, fp string, data map[string]string) vault.Item {
	d := map[string]scanner.Secret{}
	for k, v := range data {
		d[k] = scanner.NewSecret(v)
	}
	return vault.Item{Owner: "acme", Repo: "shop", Name: name, Fingerprint: scanner.Fingerprint(fp), Data: d,
		Source: vault.Source{Repository: "acme/shop", Commit: "a984ea0", Path: ".env", Line: 2, Detector: "Stripe",
			DetectedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
}

func TestStorePutIsIdempotent(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	store := vault.NewStore(c, "", "")

	first, err := store.Put(ctx, item("stripe_api_key", "hmac-vault:v1:AAA", map[string]string{"value": planted}))
	if err != nil {
		t.Fatal(err)
	}
	want := vault.Stored{Path: "pushvault/acme/shop/stripe_api_key", Version: 1, Created: true}
	if first != want {
		t.Fatalf("first put %+v, want %+v", first, want)
	}
	again, err := store.Put(ctx, item("stripe_api_key", "hmac-vault:v1:AAA", map[string]string{"value": planted}))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Version != 1 || again.Path != first.Path {
		t.Fatalf("second put %+v: want the first version, nothing created", again)
	}
	meta, err := c.KVv2("secret").GetMetadata(ctx, first.Path)
	if err != nil {
		t.Fatal(err)
	}
	if meta.CurrentVersion != 1 {
		t.Errorf("current version %d after two puts, want 1", meta.CurrentVersion)
	}
	for k, v := range map[string]string{"fingerprint": "hmac-vault:v1:AAA", "source_repo": "acme/shop", "source_commit": "a984ea0",
		"source_path": ".env", "source_line": "2", "detector": "Stripe", "detected_at": "2026-01-01T00:00:00Z", "state": "vaulted"} {
		if meta.CustomMetadata[k] != v {
			t.Errorf("custom_metadata[%s] = %v, want %q", k, meta.CustomMetadata[k], v)
		}
	}
	got, err := c.KVv2("secret").Get(ctx, first.Path)
	if err != nil || got.Data["value"] != planted {
		t.Fatalf("stored value differs (err %v)", err)
	}

	// A different secret wanting the same name gets a suffixed one.
	other, err := store.Put(ctx, item("stripe_api_key", "hmac-vault:v1:BBBBBBBBBBBB", map[string]string{"value": "sk_live_other"}))
	if err != nil {
		t.Fatal(err)
	}
	if other.Path == first.Path || !strings.HasPrefix(other.Path, first.Path+"_") {
		t.Errorf("colliding name stored at %s", other.Path)
	}

	// Multi-part credentials are one secret with named keys.
	aws, err := store.Put(ctx, item("aws", "hmac-vault:v1:CCC", map[string]string{"access_key_id": "AKIAEXAMPLEEXAMPLE12", "secret_access_key": "abc"}))
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := c.KVv2("secret").Get(ctx, aws.Path)
	if sec.Data["access_key_id"] != "AKIAEXAMPLEEXAMPLE12" || sec.Data["secret_access_key"] != "abc" {
		t.Errorf("multi-part data %v", sec.Data)
	}
}

// A crash after the metadata was written and before the data: the next put
// finishes the job with version 1.
func TestStorePutResumesAfterCrash(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	if _, err := c.Logical().Write("secret/metadata/pushvault/acme/shop/token", map[string]any{
		"custom_metadata": map[string]string{"fingerprint": "hmac-vault:v1:DDD"}}); err != nil {
		t.Fatal(err)
	}
	st, err := vault.NewStore(c, "", "").Put(ctx, item("token", "hmac-vault:v1:DDD", map[string]string{"value": planted}))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Created || st.Version != 1 || st.Path != "pushvault/acme/shop/token" {
		t.Fatalf("resumed put %+v", st)
	}
}

func TestStoreFailures(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	root := srv.Client(t)
	if err := root.Sys().PutPolicy("read-only", `path "secret/*" { capabilities = ["read", "list"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := root.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"read-only"}})
	if err != nil {
		t.Fatal(err)
	}
	denied, err := vault.Connect(ctx, vault.Config{Address: srv.Addr, Auth: vault.Auth{Method: "token", Token: tok.Auth.ClientToken}, PathTemplate: vault.DefaultPathTemplate})
	if err != nil {
		t.Fatal(err)
	}
	_, err = vault.NewStore(denied, "", "").Put(ctx, item("x", "hmac-vault:v1:E", map[string]string{"value": planted}))
	assertErr(t, "denied", err, vault.ErrDenied)
	assertResponseError(t, "denied", err, 403)

	down := vaulttest.Start(t)
	downClient := down.Client(t)
	down.Stop()
	_, err = vault.NewStore(downClient, "", "").Put(ctx, item("x", "hmac-vault:v1:E", map[string]string{"value": planted}))
	assertErr(t, "unreachable", err, vault.ErrUnreachable)

	sealed := vaulttest.Start(t)
	sc := sealed.Client(t)
	if err := sc.Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	_, err = vault.NewStore(sc, "", "").Put(ctx, item("x", "hmac-vault:v1:E", map[string]string{"value": planted}))
	assertErr(t, "sealed", err, vault.ErrSealed)
	assertResponseError(t, "sealed", err, 503)
}

// assertResponseError checks that Vault's own error, with its status, is
// still inside the explained one.
func assertResponseError(t *testing.T, name string, err error, status int) {
	t.Helper()
	var re *api.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: errors.As finds no *api.ResponseError in %v", name, err)
		return
	}
	if re.StatusCode != status {
		t.Errorf("%s: status %d, want %d", name, re.StatusCode, status)
	}
}

func assertErr(t *testing.T, name string, err, is error) {
	t.Helper()
	if err == nil || !errors.Is(err, is) {
		t.Errorf("%s: error %v, want %v", name, err, is)
		return
	}
	if strings.Contains(err.Error(), planted) {
		t.Errorf("%s: error leaks the secret", name)
	}
}

func TestConnectAuthMethods(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	root := srv.Client(t)
	if err := root.Sys().PutPolicy("pushvault", `path "secret/*" { capabilities = ["create", "read", "update", "list"] }`); err != nil {
		t.Fatal(err)
	}

	// AppRole.
	if err := root.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/approle/role/pushvault", map[string]any{"token_policies": "pushvault"}); err != nil {
		t.Fatal(err)
	}
	rid, _ := root.Logical().Read("auth/approle/role/pushvault/role-id")
	sid, _ := root.Logical().Write("auth/approle/role/pushvault/secret-id", nil)
	roleID, secretID := rid.Data["role_id"].(string), sid.Data["secret_id"].(string)

	// JWT, with a key pair made here.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err := root.Sys().EnableAuthWithOptions("jwt", &api.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/jwt/config", map[string]any{"jwt_validation_pubkeys": []string{pub}}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/jwt/role/ci", map[string]any{"role_type": "jwt", "user_claim": "sub",
		"bound_audiences": "pushvault", "token_policies": "pushvault"}); err != nil {
		t.Fatal(err)
	}
	jwt := signJWT(t, key, map[string]any{"sub": "ci", "aud": "pushvault", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	badJWT := signJWT(t, key, map[string]any{"sub": "ci", "aud": "someone-else", "exp": time.Now().Add(time.Hour).Unix()})

	// Namespaces pass through as X-Vault-Namespace (Vault OSS has none:
	// a proxy records and strips the header).
	var mu sync.Mutex
	var namespaces []string
	target, _ := url.Parse(srv.Addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		namespaces = append(namespaces, r.Header.Get("X-Vault-Namespace"))
		mu.Unlock()
		r.Header.Del("X-Vault-Namespace")
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	cases := []struct {
		name    string
		cfg     vault.Config
		wantErr string
	}{
		{"token", vault.Config{Address: srv.Addr, Auth: vault.Auth{Method: "token", Token: srv.Token}}, ""},
		{"approle", vault.Config{Address: srv.Addr, Auth: vault.Auth{Method: "approle", RoleID: roleID, SecretID: secretID}}, ""},
		{"approle wrong secret", vault.Config{Address: srv.Addr, Auth: vault.Auth{Method: "approle", RoleID: roleID, SecretID: "00000000-0000-0000-0000-000000000000"}}, "approle login"},
		{"jwt", vault.Config{Address: srv.Addr, Auth: vault.Auth{Method: "jwt", Role: "ci", JWT: jwt}}, ""},
		{"jwt wrong audience", vault.Config{Address: srv.Addr, Auth: vault.Auth{Method: "jwt", Role: "ci", JWT: badJWT}}, "jwt login"},
		{"namespace header", vault.Config{Address: proxy.URL, Namespace: "team-a", Auth: vault.Auth{Method: "token", Token: srv.Token}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.PathTemplate = vault.DefaultPathTemplate
			c, err := vault.Connect(ctx, cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				for _, cred := range []string{secretID, jwt, badJWT} {
					if strings.Contains(err.Error(), cred) {
						t.Fatal("login error carries a credential")
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st, err := vault.NewStore(c, "", "").Put(ctx, item("k_"+strings.ReplaceAll(tc.name, " ", "_"), "hmac-vault:v1:"+tc.name, map[string]string{"value": planted}))
			if err != nil || st.Version != 1 {
				t.Fatalf("put through %s: %+v, %v", tc.name, st, err)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(namespaces) == 0 || namespaces[0] != "team-a" {
		t.Errorf("namespace headers seen by the proxy: %q", namespaces)
	}
}

func TestConfigValidate(t *testing.T) {
	err := vault.Config{Address: "ftp://x", Auth: vault.Auth{Method: "ldap"}, PathTemplate: "pushvault/{repo}"}.Validate()
	for _, want := range []string{"vault.address", "vault.auth.method", "lacks {owner}", "lacks {name}"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %v lacks %q", err, want)
		}
	}
}

func signJWT(t *testing.T, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig)
}
