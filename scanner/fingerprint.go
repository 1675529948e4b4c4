package scanner

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Fingerprint is a keyed HMAC-SHA256 of a secret's value, hex encoded with a
// prefix naming the key source ("hmac-local:", "hmac-vault:"). It identifies
// a secret across runs on systems sharing the key without being a bare hash
// that anyone could test guesses against.
type Fingerprint string

// Short is the first 8 hex digits, for name collisions and display.
func (f Fingerprint) Short() string {
	s := string(f)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

// Fingerprinter computes fingerprints. Implementations must be safe for
// concurrent use.
type Fingerprinter interface {
	Fingerprint(ctx context.Context, value []byte) (Fingerprint, error)
}

// BatchFingerprinter fingerprints many values in one call (one request
// to Vault for a whole push's findings). FingerprintFindings uses it when
// a Fingerprinter has it.
type BatchFingerprinter interface {
	FingerprintAll(ctx context.Context, values [][]byte) ([]Fingerprint, error)
}

// LocalKey fingerprints with HMAC-SHA256 under a key held on this machine.
// It is the fallback when no Vault transit key is configured.
type LocalKey struct {
	key []byte
}

var _ Fingerprinter = (*LocalKey)(nil)

// NewLocalKey returns a fingerprinter for key, which must be at least 32 bytes.
func NewLocalKey(key []byte) (*LocalKey, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("fingerprint key: %d bytes, need at least 32", len(key))
	}
	return &LocalKey{key: append([]byte(nil), key...)}, nil
}

// LoadOrCreateLocalKey reads a hex key from path, creating the file with a
// fresh random key (mode 0600) when it does not exist.
func LoadOrCreateLocalKey(path string) (*LocalKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("fingerprint key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("fingerprint key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateLocalKey(path) // another process won the race
		}
		if err != nil {
			return nil, fmt.Errorf("fingerprint key: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("fingerprint key %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("fingerprint key %s: %w", path, err)
		}
		return NewLocalKey(key)
	}
	if err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("fingerprint key %s: not hex", path)
	}
	return NewLocalKey(key)
}

// Fingerprint implements Fingerprinter.
func (k *LocalKey) Fingerprint(_ context.Context, value []byte) (Fingerprint, error) {
	m := hmac.New(sha256.New, k.key)
	m.Write(value)
	return Fingerprint("hmac-local:" + hex.EncodeToString(m.Sum(nil))), nil
}
