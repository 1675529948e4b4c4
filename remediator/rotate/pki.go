package rotate

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sort"
	"strings"

	"github.com/hashicorp/vault/api"
)

// PKI rotates private keys whose certificates the organisation's Vault PKI
// issued: every unrevoked certificate of the leaked key is revoked by
// serial and a replacement is issued by the mount's configured role for the
// same names (common name, DNS and IP SANs). The next KV version holds the
// new private key and certificate. Proof: the mount's CRL lists every
// revoked serial.
type PKI struct {
	c      *api.Client
	mounts []PKIMount
}

// NewPKI returns the rotator for the given mounts.
func NewPKI(c *api.Client, mounts []PKIMount) *PKI { return &PKI{c: c, mounts: mounts} }

var _ Rotator = (*PKI)(nil)

// issued is a certificate of the leaked key found in a mount.
type issued struct {
	mount   PKIMount
	serial  string // Vault's form: 7a:0b:...
	cert    *x509.Certificate
	revoked bool
}

// find returns the certificates of t's private key in the configured
// mounts, or none.
func (p *PKI) find(ctx context.Context, t Target) ([]issued, error) {
	pub, err := publicKey(t.Exposed.Reveal("value"))
	if err != nil {
		return nil, nil // not a key we can read: not ours to rotate
	}
	var out []issued
	for _, m := range p.mounts {
		list, err := p.c.Logical().ListWithContext(ctx, m.Mount+"/certs")
		if err != nil {
			return nil, fmt.Errorf("vault list %s/certs: %w", m.Mount, err)
		}
		if list == nil {
			continue
		}
		keys, _ := list.Data["keys"].([]any)
		for _, k := range keys {
			serial, _ := k.(string)
			sec, err := p.c.Logical().ReadWithContext(ctx, m.Mount+"/cert/"+serial)
			if err != nil {
				return nil, fmt.Errorf("vault read %s/cert/%s: %w", m.Mount, serial, err)
			}
			if sec == nil {
				continue
			}
			pemText, _ := sec.Data["certificate"].(string)
			block, _ := pem.Decode([]byte(pemText))
			if block == nil {
				continue
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil || cert.IsCA {
				continue
			}
			if eq, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(pub) {
				rt, _ := sec.Data["revocation_time"].(interface{ String() string })
				out = append(out, issued{mount: m, serial: serial, cert: cert, revoked: rt != nil && rt.String() != "0"})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].serial < out[j].serial })
	return out, nil
}

// publicKey reads the public half of a PEM private key.
func publicKey(pemText string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, errors.New("unreadable private key")
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("unsupported private key")
	}
	return s.Public(), nil
}

// Match implements Rotator: a private key with a certificate in a
// configured mount.
func (p *PKI) Match(ctx context.Context, t Target) (bool, error) {
	if t.Detector != "PrivateKey" || len(p.mounts) == 0 {
		return false, nil
	}
	certs, err := p.find(ctx, t)
	return len(certs) > 0, err
}

// Rotate implements Rotator.
func (p *PKI) Rotate(ctx context.Context, t Target) (Change, error) {
	certs, err := p.find(ctx, t)
	if err != nil {
		return Change{}, err
	}
	if len(certs) == 0 {
		return Change{}, errors.New("no certificate of this key in the configured PKI mounts")
	}
	var serials []string
	for _, c := range certs {
		serials = append(serials, c.mount.Mount+":"+c.serial)
		if c.revoked {
			continue
		}
		if _, err := p.c.Logical().WriteWithContext(ctx, c.mount.Mount+"/revoke", map[string]any{"serial_number": c.serial}); err != nil {
			return Change{}, fmt.Errorf("vault write %s/revoke (serial %s): %w", c.mount.Mount, c.serial, err)
		}
	}
	detail := map[string]string{"revoked_serials": strings.Join(serials, ",")}
	if t.Prior != nil && t.Prior.Reveal("value") != "" {
		// An earlier attempt issued the replacement already.
		detail["replacement_serial"] = t.Prior.Reveal("serial")
		return Change{Data: t.Prior, Detail: detail}, nil
	}
	newest := certs[len(certs)-1]
	for _, c := range certs {
		if c.cert.NotAfter.After(newest.cert.NotAfter) {
			newest = c
		}
	}
	req := map[string]any{"common_name": newest.cert.Subject.CommonName}
	var alt []string
	for _, n := range newest.cert.DNSNames {
		if n != newest.cert.Subject.CommonName {
			alt = append(alt, n)
		}
	}
	if len(alt) > 0 {
		req["alt_names"] = strings.Join(alt, ",")
	}
	var ips []string
	for _, ip := range newest.cert.IPAddresses {
		ips = append(ips, net.IP(ip).String())
	}
	if len(ips) > 0 {
		req["ip_sans"] = strings.Join(ips, ",")
	}
	m := newest.mount
	sec, err := p.c.Logical().WriteWithContext(ctx, m.Mount+"/issue/"+m.Role, req)
	if err != nil {
		return Change{}, fmt.Errorf("vault write %s/issue/%s (cn %s): %w", m.Mount, m.Role, newest.cert.Subject.CommonName, err)
	}
	key, _ := sec.Data["private_key"].(string)
	cert, _ := sec.Data["certificate"].(string)
	serial, _ := sec.Data["serial_number"].(string)
	if key == "" || cert == "" {
		return Change{}, fmt.Errorf("vault %s/issue/%s returned no key or certificate", m.Mount, m.Role)
	}
	detail["replacement_serial"] = serial
	return Change{Data: Data{"value": key, "certificate": cert, "serial": serial}, Detail: detail}, nil
}

// CheckDead implements Rotator: every certificate of the exposed key must
// be on its mount's CRL.
func (p *PKI) CheckDead(ctx context.Context, t Target) error {
	certs, err := p.find(ctx, t)
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		return errors.New("no certificate of this key in the configured PKI mounts")
	}
	crls := map[string]map[string]bool{}
	for _, c := range certs {
		revoked, ok := crls[c.mount.Mount]
		if !ok {
			if revoked, err = p.crl(ctx, c.mount.Mount); err != nil {
				return err
			}
			crls[c.mount.Mount] = revoked
		}
		if !revoked[c.cert.SerialNumber.String()] {
			return fmt.Errorf("%w: the CRL of %s does not list serial %s", ErrStillWorks, c.mount.Mount, c.serial)
		}
	}
	return nil
}

// crl reads a mount's CRL and returns the revoked serials (decimal).
func (p *PKI) crl(ctx context.Context, mount string) (map[string]bool, error) {
	sec, err := p.c.Logical().ReadWithContext(ctx, mount+"/cert/crl")
	if err != nil {
		return nil, fmt.Errorf("vault read %s/cert/crl: %w", mount, err)
	}
	if sec == nil {
		return nil, fmt.Errorf("vault read %s/cert/crl: no CRL", mount)
	}
	pemText, _ := sec.Data["certificate"].(string)
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, fmt.Errorf("%s/cert/crl: not a PEM CRL", mount)
	}
	list, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s/cert/crl: %w", mount, err)
	}
	out := map[string]bool{}
	for _, e := range list.RevokedCertificateEntries {
		out[new(big.Int).Set(e.SerialNumber).String()] = true
	}
	return out, nil
}
