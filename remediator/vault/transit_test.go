package vault_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/vault"
)

// transitPlanted is data that must never show up in an error.
const transitPlanted = "ghp_TRANSITplanted0123456789abcdefABCDEF"

func transitSetup(t *testing.T) (*vaulttest.Server, *vault.Transit) {
	t.Helper()
	srv := vaulttest.Start(t)
	tr := vault.NewTransit(srv.Client(t), "")
	ctx := context.Background()
	if err := tr.Enable(ctx); err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]string{"fp": "hmac", "fp2": "hmac", "ev": "ed25519", "ev2": "ed25519"} {
		if err := tr.EnsureKey(ctx, name, typ); err != nil {
			t.Fatal(err)
		}
	}
	return srv, tr
}

func TestTransitEnableAndEnsureKeyAreIdempotent(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	ctx := context.Background()

	for _, mount := range []string{"", "/pv-transit/"} {
		tr := vault.NewTransit(c, mount)
		for i := 0; i < 2; i++ {
			if err := tr.Enable(ctx); err != nil {
				t.Fatalf("Enable(%q) #%d: %v", mount, i+1, err)
			}
		}
		for _, typ := range []string{"ed25519", "hmac", "aes256-gcm96"} {
			for i := 0; i < 2; i++ {
				if err := tr.EnsureKey(ctx, "k-"+typ, typ); err != nil {
					t.Fatalf("EnsureKey(%s) #%d at %q: %v", typ, i+1, mount, err)
				}
			}
		}
	}
	if got := vault.NewTransit(c, "/pv-transit/").Mount(); got != "pv-transit" {
		t.Errorf("Mount() = %q, want pv-transit", got)
	}
	mounts, err := c.Sys().ListMountsWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"transit/", "pv-transit/"} {
		if mounts[m] == nil || mounts[m].Type != "transit" {
			t.Errorf("mount %s: %+v, want a transit engine", m, mounts[m])
		}
	}

	tr := vault.NewTransit(c, "")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"key of another type", tr.EnsureKey(ctx, "k-ed25519", "hmac"), `exists with type "ed25519", want "hmac"`},
		{"key name with a slash", tr.EnsureKey(ctx, "a/b", "hmac"), "invalid key name"},
		{"empty key name", tr.EnsureKey(ctx, "", "hmac"), "empty key name"},
		{"mount used by kv", vault.NewTransit(c, "secret").Enable(ctx), `holds a "kv" engine`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", tt.err, tt.want)
			}
		})
	}
}

func TestTransitHMAC(t *testing.T) {
	srv, tr := transitSetup(t)
	ctx := context.Background()
	hmac := func(key, data string) string {
		t.Helper()
		v, err := tr.HMAC(ctx, key, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	a := hmac("fp", transitPlanted)
	if !regexp.MustCompile(`^vault:v1:[A-Za-z0-9+/]{43}=$`).MatchString(a) {
		t.Errorf("HMAC = %q, want vault:v1:<base64 of 32 bytes>", a)
	}
	if b := hmac("fp", transitPlanted); b != a {
		t.Errorf("HMAC not deterministic: %q then %q", a, b)
	}
	if b := hmac("fp2", transitPlanted); b == a {
		t.Errorf("HMAC under another key is the same: %q", b)
	}
	if b := hmac("fp", transitPlanted+"x"); b == a {
		t.Errorf("HMAC of other data is the same: %q", b)
	}
	if b := hmac("ev", transitPlanted); b == a {
		t.Errorf("HMAC under an ed25519 key is the same as under the hmac key")
	}
	if strings.Contains(a, transitPlanted) {
		t.Errorf("HMAC contains the data")
	}

	f := tr.Fingerprinter("fp")
	fp, err := f.Fingerprint(ctx, []byte(transitPlanted))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^hmac-vault:v1:[0-9a-f]{64}$`).MatchString(string(fp)) {
		t.Errorf("Fingerprint = %q, want hmac-vault:v1:<64 hex digits>", fp)
	}
	if again, _ := f.Fingerprint(ctx, []byte(transitPlanted)); again != fp {
		t.Errorf("Fingerprint not stable: %q then %q", fp, again)
	}
	if short := fp.Short(); !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(short) {
		t.Errorf("Short() = %q, want 8 hex digits", short)
	}
	if other, _ := tr.Fingerprinter("fp2").Fingerprint(ctx, []byte(transitPlanted)); other == fp {
		t.Errorf("fingerprints under two keys are equal")
	}

	// After a key rotation the version in the fingerprint says which key made it.
	if _, err := srv.Client(t).Logical().WriteWithContext(ctx, "transit/keys/fp/rotate", nil); err != nil {
		t.Fatal(err)
	}
	rotated, err := f.Fingerprint(ctx, []byte(transitPlanted))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(rotated), "hmac-vault:v2:") || rotated == fp {
		t.Errorf("after rotation Fingerprint = %q, want a different hmac-vault:v2: value", rotated)
	}
}

func TestTransitSignVerify(t *testing.T) {
	_, tr := transitSetup(t)
	ctx := context.Background()
	data := []byte(`{"seq":1,"finding_id":"pv_0123"}`)

	sig, err := tr.Sign(ctx, "ev", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sig, "vault:v1:") {
		t.Fatalf("Sign = %q, want vault:v1:...", sig)
	}
	b64 := strings.TrimPrefix(sig, "vault:v1:")
	// An ed25519 signature is 64 bytes: 86 base64 digits and "==". The last
	// digit carries 2 bits; flipping its lowest bit leaves the bytes as they
	// are under lenient decoding but is not the canonical spelling.
	last := strings.IndexByte(base64Alphabet, b64[85])
	nonCanonical := "vault:v1:" + b64[:85] + string(base64Alphabet[last^1]) + "=="
	flipped := []byte(b64)
	flipped[10] = base64Alphabet[(strings.IndexByte(base64Alphabet, flipped[10])+1)%64]

	tests := []struct {
		name string
		key  string
		data []byte
		sig  string
		want bool
	}{
		{"round trip", "ev", data, sig, true},
		{"tampered data", "ev", append([]byte("x"), data...), sig, false},
		{"empty data", "ev", nil, sig, false},
		{"other key", "ev2", data, sig, false},
		{"flipped signature digit", "ev", data, "vault:v1:" + string(flipped), false},
		{"non-canonical base64", "ev", data, nonCanonical, false},
		{"version too new", "ev", data, "vault:v2:" + b64, false},
		{"version zero", "ev", data, "vault:v0:" + b64, false},
		{"version with leading zero", "ev", data, "vault:v01:" + b64, false},
		{"no prefix", "ev", data, b64, false},
		{"garbage", "ev", data, "vault:v1:!!!", false},
		{"empty", "ev", data, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tr.Verify(ctx, tt.key, tt.data, tt.sig)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}

	// Signatures are deterministic for ed25519; a second one verifies too.
	sig2, err := tr.Sign(ctx, "ev", data)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := tr.Verify(ctx, "ev", data, sig2); err != nil || !ok {
		t.Errorf("second signature: Verify = %v, %v", ok, err)
	}

	if _, err := tr.Verify(ctx, "missing", data, sig); err == nil {
		t.Errorf("Verify with a missing key: no error")
	}
	if _, err := tr.Sign(ctx, "missing", data); err == nil {
		t.Errorf("Sign with a missing key: no error")
	}
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func TestTransitPermissionDenied(t *testing.T) {
	srv, tr := transitSetup(t)
	ctx := context.Background()
	root := srv.Client(t)
	sig, err := tr.Sign(ctx, "ev", []byte(transitPlanted))
	if err != nil {
		t.Fatal(err)
	}

	// A policy that grants something unrelated and explicitly denies transit.
	if err := root.Sys().PutPolicyWithContext(ctx, "no-transit", `
path "secret/data/*" { capabilities = ["read"] }
path "transit/*"     { capabilities = ["deny"] }
`); err != nil {
		t.Fatal(err)
	}
	tok, err := root.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{
		Policies: []string{"no-transit"}, NoDefaultPolicy: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	limited := srv.Client(t)
	limited.SetToken(tok.Auth.ClientToken)
	lt := vault.NewTransit(limited, "")
	data := []byte(transitPlanted)

	calls := []struct {
		name string
		call func() error
	}{
		{"enable new mount", func() error { return vault.NewTransit(limited, "other-transit").Enable(ctx) }},
		{"ensure key", func() error { return lt.EnsureKey(ctx, "new", "ed25519") }},
		{"hmac", func() error { _, err := lt.HMAC(ctx, "fp", data); return err }},
		{"sign", func() error { _, err := lt.Sign(ctx, "ev", data); return err }},
		{"verify", func() error { _, err := lt.Verify(ctx, "ev", data, sig); return err }},
		{"fingerprint", func() error { _, err := lt.Fingerprinter("fp").Fingerprint(ctx, data); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, vault.ErrDenied) {
				t.Errorf("err = %v, want it to wrap ErrDenied", err)
			}
			var re *api.ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
				t.Errorf("err = %v, want a 403 *api.ResponseError inside", err)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, "permission denied") {
				t.Errorf("err = %q, want it to say permission denied", msg)
			}
			for _, leak := range []string{transitPlanted, base64.StdEncoding.EncodeToString(data)} {
				if strings.Contains(msg, leak) {
					t.Errorf("error contains the data: %q", msg)
				}
			}
		})
	}
}

// TestTransitFingerprintAll: the batch gives, in order, what one request
// per value gives, in a single request; an empty input and a binary one
// are fingerprinted too.
func TestTransitFingerprintAll(t *testing.T) {
	_, tr := transitSetup(t)
	ctx := context.Background()
	f := tr.Fingerprinter("fp")
	values := [][]byte{[]byte(transitPlanted), []byte(transitPlanted + "x"), {0, 1, 2, 255}, []byte("é"), {}}
	all, err := f.FingerprintAll(ctx, values)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(values) {
		t.Fatalf("%d fingerprints for %d values", len(all), len(values))
	}
	for i, v := range values {
		one, err := f.Fingerprint(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		if all[i] != one {
			t.Errorf("value %d: batch %q, alone %q", i, all[i], one)
		}
	}
	if _, err := tr.Fingerprinter("no/such key").FingerprintAll(ctx, values); err == nil {
		t.Error("a bad key name fingerprinted")
	}
}
