// Package evidencetest has a hand-written fake evidence.Signer for tests of
// code that keeps a ledger without a Vault.
package evidencetest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// Signer is a fake evidence.Signer. Its signatures are
// "fake:" + hex(HMAC-SHA256(Key, data)), so they are deterministic, differ
// between keys, and verify across processes. The zero value is ready to use
// and safe for concurrent use; set the X fields before the first call.
type Signer struct {
	Key string // HMAC key; "evidencetest" when empty

	SignValue   string // when set, Sign returns it instead of a signature
	SignError   error  // when set, Sign returns it
	VerifyError error  // when set, Verify returns it

	mu          sync.Mutex
	signCalls   int
	verifyCalls int
}

// Sign implements evidence.Signer.
func (s *Signer) Sign(_ context.Context, data []byte) (string, error) {
	s.mu.Lock()
	s.signCalls++
	s.mu.Unlock()
	if s.SignError != nil {
		return "", s.SignError
	}
	if s.SignValue != "" {
		return s.SignValue, nil
	}
	return s.sign(data), nil
}

// SignAll implements evidence.Signer: one call, counted once by
// SignCalls (a request to Vault signs a batch in one).
func (s *Signer) SignAll(_ context.Context, data [][]byte) ([]string, error) {
	s.mu.Lock()
	s.signCalls++
	s.mu.Unlock()
	if s.SignError != nil {
		return nil, s.SignError
	}
	out := make([]string, len(data))
	for i, d := range data {
		out[i] = s.SignValue
		if out[i] == "" {
			out[i] = s.sign(d)
		}
	}
	return out, nil
}

// Verify implements evidence.Signer.
func (s *Signer) Verify(_ context.Context, data []byte, sig string) (bool, error) {
	s.mu.Lock()
	s.verifyCalls++
	s.mu.Unlock()
	if s.VerifyError != nil {
		return false, s.VerifyError
	}
	return hmac.Equal([]byte(sig), []byte(s.sign(data))), nil
}

// SignCalls is the number of Sign calls so far.
func (s *Signer) SignCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signCalls
}

// VerifyCalls is the number of Verify calls so far.
func (s *Signer) VerifyCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verifyCalls
}

func (s *Signer) sign(data []byte) string {
	key := s.Key
	if key == "" {
		key = "evidencetest"
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write(data)
	return "fake:" + hex.EncodeToString(m.Sum(nil))
}
