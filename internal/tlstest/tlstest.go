// Package tlstest makes a throwaway certificate authority at test time: a
// CA, a server certificate for 127.0.0.1 and localhost, and a client
// certificate, written as PEM files under the test's temporary directory.
// Nothing here is checked in; every run has fresh keys.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Files are the PEM files of one test CA.
type Files struct {
	CA                    string // the CA certificate
	ServerCert, ServerKey string // for 127.0.0.1, ::1 and localhost
	ClientCert, ClientKey string // a client-auth certificate
}

// New makes a CA and a server and client certificate it signed.
func New(t testing.TB) Files {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert := issue(t, "pushvault test CA", nil, nil, func(c *x509.Certificate) {
		c.IsCA, c.BasicConstraintsValid = true, true
		c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	})
	f := Files{CA: filepath.Join(dir, "ca.pem")}
	write(t, f.CA, "CERTIFICATE", caCert.Raw)
	f.ServerCert, f.ServerKey = pair(t, dir, "server", caKey, caCert, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		c.DNSNames = []string{"localhost"}
	})
	f.ClientCert, f.ClientKey = pair(t, dir, "client", caKey, caCert, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	return f
}

// pair issues a leaf certificate signed by the CA and writes it and its key.
func pair(t testing.TB, dir, name string, caKey *ecdsa.PrivateKey, ca *x509.Certificate, shape func(*x509.Certificate)) (cert, key string) {
	k, c := issue(t, "pushvault test "+name, caKey, ca, func(c *x509.Certificate) {
		c.KeyUsage = x509.KeyUsageDigitalSignature
		shape(c)
	})
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	write(t, cert, "CERTIFICATE", c.Raw)
	write(t, key, "EC PRIVATE KEY", der)
	return cert, key
}

// issue makes a key and a certificate for it, signed by parent (self-signed
// when parent is nil).
func issue(t testing.TB, cn string, parentKey *ecdsa.PrivateKey, parent *x509.Certificate, shape func(*x509.Certificate)) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	shape(tmpl)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func write(t testing.TB, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
