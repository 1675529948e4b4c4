package rotate_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/remediator/rotate"
)

func crlSerials(t *testing.T, c *api.Client) map[string]bool {
	t.Helper()
	sec, err := c.Logical().Read("pki/cert/crl")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(sec.Data["certificate"].(string)))
	crl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range crl.RevokedCertificateEntries {
		out[new(big.Int).Set(e.SerialNumber).String()] = true
	}
	return out
}

func parseCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(p))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestPKIRotation: the leaked key's certificate is revoked by serial (the
// CRL lists it), a replacement is issued for the same names, and the new
// key and certificate are the next version.
func TestPKIRotation(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	if err := c.Sys().Mount("pki", &api.MountInput{Type: "pki", Config: api.MountConfigInput{MaxLeaseTTL: "87600h"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("pki/root/generate/internal", map[string]any{"common_name": "Acme Test Root", "ttl": "8760h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("pki/roles/web", map[string]any{"allow_any_name": true, "max_ttl": "720h"}); err != nil {
		t.Fatal(err)
	}
	issued, err := c.Logical().Write("pki/issue/web", map[string]any{"common_name": "shop.example.com", "alt_names": "api.example.com", "ttl": "24h"})
	if err != nil {
		t.Fatal(err)
	}
	leakedKey := issued.Data["private_key"].(string)
	oldCert := parseCert(t, issued.Data["certificate"].(string))
	// Another certificate on the mount, not of the leaked key, stays valid.
	other, err := c.Logical().Write("pki/issue/web", map[string]any{"common_name": "other.example.com", "ttl": "24h"})
	if err != nil {
		t.Fatal(err)
	}
	otherCert := parseCert(t, other.Data["certificate"].(string))
	if crlSerials(t, c)[oldCert.SerialNumber.String()] {
		t.Fatal("before: the certificate is already on the CRL")
	}

	tg := vaultSecret(t, c, "tls_key", "PrivateKey", rotate.Data{"value": leakedKey})
	rec := &recorder{}
	s := rotate.Settings{PKI: []rotate.PKIMount{{Mount: "pki", Role: "web"}}}
	res, err := rotate.NewRunner(c, s, rec).Run(ctx, tg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	crl := crlSerials(t, c)
	if !crl[oldCert.SerialNumber.String()] {
		t.Fatal("after: the CRL does not list the leaked key's certificate")
	}
	if crl[otherCert.SerialNumber.String()] {
		t.Error("another key's certificate was revoked")
	}
	v2, err := c.KVv2("secret").GetVersion(ctx, tg.Path, 2)
	if err != nil {
		t.Fatal(err)
	}
	newCert := parseCert(t, v2.Data["certificate"].(string))
	want(t, "names", []string{"api.example.com", "shop.example.com"}, append([]string(nil), newCert.DNSNames...), cmpopts.SortSlices(func(a, b string) bool { return a < b }))
	if newCert.Subject.CommonName != "shop.example.com" || newCert.SerialNumber.Cmp(oldCert.SerialNumber) == 0 {
		t.Errorf("replacement: cn %s serial %s", newCert.Subject.CommonName, newCert.SerialNumber)
	}
	if v2.Data["value"] == leakedKey || v2.Data["value"] == "" {
		t.Error("the replacement key is not new")
	}
	if res.State != rotate.StateRotated || !res.ExposedDead || !res.ExposedDestroyed {
		t.Errorf("result %+v", res)
	}
	_, destroyed, _ := versions(t, c, tg)
	want(t, "versions", map[int]bool{1: true, 2: false}, destroyed)
	want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
	noLeak(t, []string{leakedKey[40:120], v2.Data["value"].(string)[40:120]}, res, rec.events, err)
}
