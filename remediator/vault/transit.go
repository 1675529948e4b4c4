package vault

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/scanner"
)

// Transit is Vault's transit secrets engine at one mount: keyed HMACs for
// fingerprints and ed25519 signatures for the evidence ledger. The data
// passed to it never appears in its errors. Safe for concurrent use (the
// *api.Client is).
type Transit struct {
	c     *api.Client
	mount string
}

// NewTransit returns a Transit over the engine mounted at mount ("transit"
// when empty). It makes no request.
func NewTransit(c *api.Client, mount string) *Transit {
	mount = strings.Trim(mount, "/")
	if mount == "" {
		mount = "transit"
	}
	return &Transit{c: c, mount: mount}
}

// Mount is the engine's mount path, without slashes.
func (t *Transit) Mount() string { return t.mount }

// Enable mounts the transit engine at the mount unless it is already there.
// It first asks Vault what is mounted at the path (which any token with a
// capability under the mount may do), so a least-privilege token that can
// use an engine an operator enabled needs no sys/mounts rights. A path used
// by another engine type is an error. When the token may neither see nor
// mount the engine, the error wraps ErrDenied and the *api.ResponseError.
func (t *Transit) Enable(ctx context.Context) error {
	if typ, err := t.mountType(ctx); err == nil {
		if typ != "transit" {
			return fmt.Errorf("vault transit enable %s: the path holds a %q engine, not transit", t.mount, typ)
		}
		return nil
	}
	err := t.c.Sys().MountWithContext(ctx, t.mount, &api.MountInput{
		Type:        "transit",
		Description: "pushvault: fingerprints and evidence signatures",
	})
	if err == nil {
		return nil
	}
	// Another process may have mounted it between the look and the mount
	// ("path is already in use", a 400): look again rather than read the
	// message.
	if typ, lookErr := t.mountType(ctx); lookErr == nil && typ == "transit" {
		return nil
	}
	if transitStatus(err) == http.StatusForbidden {
		return fmt.Errorf("vault transit enable %s: %w: the token may not mount secrets engines "+
			"(needs create/update on sys/mounts/%s; or have an operator run `vault secrets enable -path=%s transit`): %w",
			t.mount, ErrDenied, t.mount, t.mount, err)
	}
	return fmt.Errorf("vault transit enable %s: %w", t.mount, err)
}

// mountType returns the type of the engine mounted at the mount. Vault
// answers 403 both when nothing is mounted there and when the token has no
// capability under the path.
func (t *Transit) mountType(ctx context.Context) (string, error) {
	s, err := t.c.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+t.mount)
	if err != nil {
		return "", err
	}
	if s == nil || s.Data == nil {
		return "", fmt.Errorf("vault transit enable %s: empty mount description", t.mount)
	}
	typ, _ := s.Data["type"].(string)
	return typ, nil
}

// EnsureKey creates the named key with keyType ("ed25519" for signing;
// "hmac" for HMACs, created with a 32-byte key to match SHA-256) unless it
// exists. An existing key of another type is an error, not replaced.
// Idempotent; needs only update on <mount>/keys/<name>.
func (t *Transit) EnsureKey(ctx context.Context, name, keyType string) error {
	if err := transitCheckKey(name); err != nil {
		return fmt.Errorf("vault transit key: %w", err)
	}
	body := map[string]any{"type": keyType}
	if keyType == "hmac" {
		// Vault has no default size for hmac keys.
		body["key_size"] = 32
	}
	// Vault creates the key or, when it exists, leaves it as it is and
	// answers with its description either way.
	s, err := t.c.Logical().WriteWithContext(ctx, t.mount+"/keys/"+name, body)
	if err != nil {
		return t.wrap("key", name, err)
	}
	if s == nil || s.Data == nil {
		return fmt.Errorf("vault transit key %s: empty response", name)
	}
	if got, _ := s.Data["type"].(string); got != keyType {
		return fmt.Errorf("vault transit key %s: exists with type %q, want %q", name, got, keyType)
	}
	return nil
}

// HMAC returns the HMAC-SHA256 of data under key, as Vault writes it:
// "vault:v<key version>:<base64>".
func (t *Transit) HMAC(ctx context.Context, key string, data []byte) (string, error) {
	if err := transitCheckKey(key); err != nil {
		return "", fmt.Errorf("vault transit hmac: %w", err)
	}
	s, err := t.c.Logical().WriteWithContext(ctx, t.mount+"/hmac/"+key, map[string]any{
		"input":     base64.StdEncoding.EncodeToString(data),
		"algorithm": "sha2-256",
	})
	if err != nil {
		return "", t.wrap("hmac", key, err)
	}
	return transitDataString(s, "hmac", key, "hmac")
}

// HMACAll is HMAC of each of data in one request (transit's batch_input),
// in order.
func (t *Transit) HMACAll(ctx context.Context, key string, data [][]byte) ([]string, error) {
	if err := transitCheckKey(key); err != nil {
		return nil, fmt.Errorf("vault transit hmac: %w", err)
	}
	batch := make([]map[string]any, len(data))
	for i, d := range data {
		batch[i] = map[string]any{"input": base64.StdEncoding.EncodeToString(d)}
	}
	s, err := t.c.Logical().WriteWithContext(ctx, t.mount+"/hmac/"+key, map[string]any{
		"batch_input": batch,
		"algorithm":   "sha2-256",
	})
	if err != nil {
		return nil, t.wrap("hmac", key, err)
	}
	var results []any
	if s != nil {
		results, _ = s.Data["batch_results"].([]any)
	}
	if len(results) != len(data) {
		return nil, fmt.Errorf("vault transit hmac %s: %d results for %d inputs", key, len(results), len(data))
	}
	out := make([]string, len(data))
	for i, r := range results {
		m, _ := r.(map[string]any)
		if e, _ := m["error"].(string); e != "" {
			return nil, fmt.Errorf("vault transit hmac %s: input %d: %s", key, i, e)
		}
		if out[i], _ = m["hmac"].(string); out[i] == "" {
			return nil, fmt.Errorf("vault transit hmac %s: input %d: unexpected response format", key, i)
		}
	}
	return out, nil
}

// Sign signs data with key (an ed25519 key) and returns Vault's signature,
// "vault:v<key version>:<base64>".
func (t *Transit) Sign(ctx context.Context, key string, data []byte) (string, error) {
	if err := transitCheckKey(key); err != nil {
		return "", fmt.Errorf("vault transit sign: %w", err)
	}
	s, err := t.c.Logical().WriteWithContext(ctx, t.mount+"/sign/"+key, map[string]any{
		"input": base64.StdEncoding.EncodeToString(data),
	})
	if err != nil {
		return "", t.wrap("sign", key, err)
	}
	return transitDataString(s, "signature", key, "sign")
}

// SignAll signs each of data with key in one request (transit's
// batch_input), in order.
func (t *Transit) SignAll(ctx context.Context, key string, data [][]byte) ([]string, error) {
	if err := transitCheckKey(key); err != nil {
		return nil, fmt.Errorf("vault transit sign: %w", err)
	}
	batch := make([]map[string]any, len(data))
	for i, d := range data {
		batch[i] = map[string]any{"input": base64.StdEncoding.EncodeToString(d)}
	}
	s, err := t.c.Logical().WriteWithContext(ctx, t.mount+"/sign/"+key, map[string]any{"batch_input": batch})
	if err != nil {
		return nil, t.wrap("sign", key, err)
	}
	var results []any
	if s != nil {
		results, _ = s.Data["batch_results"].([]any)
	}
	if len(results) != len(data) {
		return nil, fmt.Errorf("vault transit sign %s: %d results for %d inputs", key, len(results), len(data))
	}
	out := make([]string, len(data))
	for i, r := range results {
		m, _ := r.(map[string]any)
		if e, _ := m["error"].(string); e != "" {
			return nil, fmt.Errorf("vault transit sign %s: input %d: %s", key, i, e)
		}
		if out[i], _ = m["signature"].(string); out[i] == "" {
			return nil, fmt.Errorf("vault transit sign %s: input %d: unexpected response format", key, i)
		}
	}
	return out, nil
}

// Verify reports whether signature is key's signature of data. A signature
// that is malformed, not in the canonical form Vault writes, or names a key
// version the key doesn't have (or no longer accepts) doesn't verify:
// (false, nil). An error means the question couldn't be answered (no such
// key, no permission, Vault unreachable).
func (t *Transit) Verify(ctx context.Context, key string, data []byte, signature string) (bool, error) {
	if err := transitCheckKey(key); err != nil {
		return false, fmt.Errorf("vault transit verify: %w", err)
	}
	version, ok := parseTransitValue(signature)
	if !ok {
		return false, nil
	}
	s, err := t.c.Logical().WriteWithContext(ctx, t.mount+"/verify/"+key, map[string]any{
		"input":     base64.StdEncoding.EncodeToString(data),
		"signature": signature,
	})
	if err != nil {
		if transitStatus(err) == http.StatusBadRequest && t.versionUnusable(ctx, key, version) {
			return false, nil
		}
		return false, t.wrap("verify", key, err)
	}
	if s == nil || s.Data == nil {
		return false, fmt.Errorf("vault transit verify %s: empty response", key)
	}
	valid, ok := s.Data["valid"].(bool)
	if !ok {
		return false, fmt.Errorf("vault transit verify %s: response has no valid field", key)
	}
	return valid, nil
}

// versionUnusable reports whether version is outside the versions key
// verifies with, which Vault answers with a 400 rather than valid=false. It
// reads the key's description; when it can't, it says false and the caller
// returns Vault's original error.
func (t *Transit) versionUnusable(ctx context.Context, key string, version int) bool {
	s, err := t.c.Logical().ReadWithContext(ctx, t.mount+"/keys/"+key)
	if err != nil || s == nil || s.Data == nil {
		return false
	}
	latest, err1 := transitInt(s.Data["latest_version"])
	minDecrypt, err2 := transitInt(s.Data["min_decryption_version"])
	if err1 != nil || err2 != nil {
		return false
	}
	return version > latest || version < minDecrypt
}

// Fingerprinter returns a scanner.Fingerprinter computing HMACs under key
// (create it with EnsureKey(ctx, key, "hmac")).
func (t *Transit) Fingerprinter(key string) *TransitFingerprinter {
	return &TransitFingerprinter{t: t, key: key}
}

// TransitFingerprinter fingerprints secret values with a transit HMAC key.
// Safe for concurrent use.
type TransitFingerprinter struct {
	t   *Transit
	key string
}

var (
	_ scanner.Fingerprinter      = (*TransitFingerprinter)(nil)
	_ scanner.BatchFingerprinter = (*TransitFingerprinter)(nil)
)

// Fingerprint returns "hmac-vault:v<key version>:<hex HMAC-SHA256>". The key
// version stays in so that fingerprints made before and after a key
// rotation are told apart rather than silently differing; the digest is hex
// like the local fingerprints, so Short is safe in a Vault path.
func (f *TransitFingerprinter) Fingerprint(ctx context.Context, value []byte) (scanner.Fingerprint, error) {
	mac, err := f.t.HMAC(ctx, f.key, value)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	return f.fingerprint(mac)
}

// FingerprintAll implements scanner.BatchFingerprinter: one request for
// every value.
func (f *TransitFingerprinter) FingerprintAll(ctx context.Context, values [][]byte) ([]scanner.Fingerprint, error) {
	macs, err := f.t.HMACAll(ctx, f.key, values)
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %w", err)
	}
	out := make([]scanner.Fingerprint, len(macs))
	for i, mac := range macs {
		if out[i], err = f.fingerprint(mac); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fingerprint is the fingerprint of Vault's HMAC mac.
func (f *TransitFingerprinter) fingerprint(mac string) (scanner.Fingerprint, error) {
	rest, ok := strings.CutPrefix(mac, "vault:")
	version, b64, ok2 := strings.Cut(rest, ":")
	sum, err := base64.StdEncoding.DecodeString(b64)
	if !ok || !ok2 || err != nil || !strings.HasPrefix(version, "v") {
		return "", fmt.Errorf("fingerprint: vault transit hmac %s: unexpected response format", f.key)
	}
	return scanner.Fingerprint("hmac-vault:" + version + ":" + hex.EncodeToString(sum)), nil
}

// parseTransitValue checks that s is exactly "vault:v<N>:<base64>" as Vault
// writes it (N a positive decimal without leading zeros, canonical padded
// standard base64) and returns N. Anything else is not a signature Vault
// made: accepting other spellings of the same bytes would let a stored
// signature change without failing verification.
func parseTransitValue(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "vault:v")
	if !ok {
		return 0, false
	}
	num, b64, ok := strings.Cut(rest, ":")
	if !ok || num == "" || num[0] == '0' {
		return 0, false
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	version, err := strconv.Atoi(num)
	if err != nil {
		return 0, false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) == 0 || base64.StdEncoding.EncodeToString(raw) != b64 {
		return 0, false
	}
	return version, true
}

// wrap names the operation and key (never the data) and, for a 403, adds
// ErrDenied and the path the policy must allow.
func (t *Transit) wrap(op, key string, err error) error {
	if transitStatus(err) == http.StatusForbidden {
		seg := op
		if op == "key" {
			seg = "keys"
		}
		return fmt.Errorf("vault transit %s %s: %w (the token's policy must grant update on %s/%s/%s): %w",
			op, key, ErrDenied, t.mount, seg, key, err)
	}
	return fmt.Errorf("vault transit %s %s: %w", op, key, err)
}

// transitStatus is the HTTP status of a Vault response error, 0 for others.
func transitStatus(err error) int {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

func transitDataString(s *api.Secret, field, key, op string) (string, error) {
	if s == nil || s.Data == nil {
		return "", fmt.Errorf("vault transit %s %s: empty response", op, key)
	}
	v, ok := s.Data[field].(string)
	if !ok || v == "" {
		return "", fmt.Errorf("vault transit %s %s: response has no %s", op, key, field)
	}
	return v, nil
}

func transitInt(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case float64:
		return int(n), nil
	case interface{ Int64() (int64, error) }: // json.Number
		i, err := n.Int64()
		return int(i), err
	}
	return 0, fmt.Errorf("not a number: %T", v)
}

// transitCheckKey rejects names that would address another Vault path.
func transitCheckKey(name string) error {
	if name == "" {
		return errors.New("empty key name")
	}
	if strings.ContainsAny(name, "/?#% \t\r\n") || name == "." || name == ".." {
		return fmt.Errorf("invalid key name %q", name)
	}
	return nil
}
