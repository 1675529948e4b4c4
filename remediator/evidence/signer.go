package evidence

import (
	"context"

	"github.com/pushvault/pushvault/remediator/vault"
)

// Signer signs and verifies records' canonical bytes. Implementations must
// be safe for concurrent use. Verify answers (false, nil) for a signature
// that is not a valid signature of data, and an error only when it cannot
// tell (signer unreachable, no permission).
type Signer interface {
	Sign(ctx context.Context, data []byte) (string, error)
	// SignAll signs each of data, in order, in one request where the
	// signer allows it.
	SignAll(ctx context.Context, data [][]byte) ([]string, error)
	Verify(ctx context.Context, data []byte, sig string) (bool, error)
}

// DefaultKey is the transit key the ledger signs with unless told otherwise.
const DefaultKey = "pushvault-evidence"

// TransitSigner signs with an ed25519 key of Vault's transit engine. Its
// signatures are "vault:v<key version>:<base64>": a record signed before a
// key rotation still verifies after it (until the key's
// min_decryption_version passes that version).
type TransitSigner struct {
	T   *vault.Transit
	Key string // DefaultKey when empty
}

var _ Signer = TransitSigner{}

func (s TransitSigner) key() string {
	if s.Key == "" {
		return DefaultKey
	}
	return s.Key
}

// Ensure creates the ed25519 signing key if it is missing.
func (s TransitSigner) Ensure(ctx context.Context) error {
	return s.T.EnsureKey(ctx, s.key(), "ed25519")
}

// Sign implements Signer.
func (s TransitSigner) Sign(ctx context.Context, data []byte) (string, error) {
	return s.T.Sign(ctx, s.key(), data)
}

// SignAll implements Signer: one transit request (batch_input).
func (s TransitSigner) SignAll(ctx context.Context, data [][]byte) ([]string, error) {
	return s.T.SignAll(ctx, s.key(), data)
}

// Verify implements Signer.
func (s TransitSigner) Verify(ctx context.Context, data []byte, sig string) (bool, error) {
	return s.T.Verify(ctx, s.key(), data, sig)
}
