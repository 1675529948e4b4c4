// Package vault is pushvault's HashiCorp Vault side: the client (address,
// namespace, CA and the token, AppRole, JWT and Kubernetes auth methods),
// the KV v2 secret store with check-and-set writes and idempotence keyed by
// fingerprint, reference parsing and resolution for `pushvault exec`, and
// the transit engine (HMAC fingerprints, evidence signatures).
package vault
