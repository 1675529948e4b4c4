// Package secrettest makes fake credentials that look real to detectors:
// right prefixes, lengths, alphabets and (for keys) real key material. They
// are generated from a seed so golden files stay stable, and they grant
// nothing anywhere.
package secrettest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"golang.org/x/crypto/ssh"
)

const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64         = alnum + "+/"
	digits      = "0123456789"
)

// Gen generates secrets from a seed.
type Gen struct{ r *rand.Rand }

// New returns a generator; the same seed gives the same secrets.
func New(seed uint64) *Gen { return &Gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

// Fresh returns a generator with a random seed, so each run plants values
// never planted before; the seed is logged so a failure can be replayed
// with New.
func Fresh(t testing.TB) *Gen {
	seed := rand.Uint64()
	if s, err := strconv.ParseUint(os.Getenv("SECRETTEST_SEED"), 10, 64); err == nil {
		seed = s // rerun a failure with the seed it logged
	}
	t.Logf("secrettest seed %d", seed)
	return New(seed)
}

func (g *Gen) pick(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

// mixed returns n characters of alphabet with at least one upper, lower and digit.
func (g *Gen) mixed(n int) string {
	for {
		s := g.pick(alnum, n)
		var u, l, d bool
		for _, c := range s {
			switch {
			case c >= 'A' && c <= 'Z':
				u = true
			case c >= 'a' && c <= 'z':
				l = true
			default:
				d = true
			}
		}
		if u && l && d {
			return s
		}
	}
}

// AWS returns an access key id and its secret access key.
func (g *Gen) AWS() (id, secret string) {
	return "AKIA" + g.pick(upperDigits, 16), g.pick(b64, 40)
}

// GitHub returns a classic personal access token.
func (g *Gen) GitHub() string { return "ghp_" + g.mixed(36) }

// Stripe returns a live secret key.
func (g *Gen) Stripe() string { return "sk_live_" + g.mixed(24) }

// Slack returns a bot token.
func (g *Gen) Slack() string {
	return fmt.Sprintf("xoxb-%s-%s-%s", g.pick(digits, 12), g.pick(digits, 13), g.mixed(24))
}

// SendGrid returns an API key.
func (g *Gen) SendGrid() string { return "SG." + g.mixed(22) + "." + g.mixed(43) }

// NPM returns an npm access token.
func (g *Gen) NPM() string { return "npm_" + g.mixed(36) }

// PostgresPassword returns a password that looks generated.
func (g *Gen) PostgresPassword() string { return g.mixed(20) }

// VaultToken returns a Vault service token.
func (g *Gen) VaultToken() string { return "hvs." + g.mixed(91) }

// OpenSSHKey returns an OpenSSH-format Ed25519 private key; its base64
// body has long runs of "A", like every real one.
func (g *Gen) OpenSSHKey() string {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(g.r.IntN(256))
	}
	block, err := ssh.MarshalPrivateKey(ed25519.NewKeyFromSeed(seed), "")
	if err != nil {
		panic(err) // cannot happen for a valid ed25519 key
	}
	return string(pem.EncodeToMemory(block))
}

// PrivateKey returns a PEM ("EC PRIVATE KEY") ECDSA P-256 private key.
func (g *Gen) PrivateKey() string {
	for {
		scalar := make([]byte, 32)
		for i := range scalar {
			scalar[i] = byte(g.r.IntN(256))
		}
		key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
		if err != nil {
			continue // scalar out of range: draw again
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			panic(err) // cannot happen for a valid P-256 key
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	}
}

// Alnum returns n random letters and digits, at least one of each case and
// a digit: the body of a keyword-and-entropy detector's match.
func (g *Gen) Alnum(n int) string { return g.mixed(n) }

// Hex returns n random lower-case hex digits (a SHA-1 is 40).
func (g *Gen) Hex(n int) string { return g.pick("0123456789abcdef", n) }
