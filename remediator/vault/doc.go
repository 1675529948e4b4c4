// Package vault is pushvault's HashiCorp Vault side: the client (address,
// namespace, CA and the token, AppRole, JWT and Kubernetes auth methods),
// the KV v2 secret store with check-and-set writes and idempotence keyed by
// fingerprint, the one writer of KV custom_metadata (WriteMetadata, shared
// by the store and the rotations), reference parsing and resolution for
// `pushvault exec`, and the transit engine (HMAC fingerprints, evidence
// signatures).
package vault
