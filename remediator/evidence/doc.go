// Package evidence is the evidence ledger: an append-only chain of JSON
// records, one per finding transition (detected, vaulted, rotated or
// rotation_manual, fix_proposed, closed), each carrying the hash of the
// record before it and a signature (Vault transit ed25519 in production), so
// that an auditor can check that nothing was changed, removed, reordered or
// forged (Ledger.Verify) and read it as JSON Lines or Markdown
// (Ledger.Export). Storage is a small Backend interface: a local JSON Lines
// file with an exclusive file lock (File) here, a NATS JetStream stream in
// the server. Records never hold secret values: the type has no field for
// one, and Links and Detail are for identifiers and URLs only.
package evidence
