// Package serve wires `pushvault serve`: its configuration (strict decode,
// PUSHVAULT_ overrides, one Validate), and the one constructor (New) that
// opens Vault, the queue, the claim store and the ledger, builds every
// event handler, and serves the webhook endpoint, /metrics, /healthz and
// /readyz while the workers run.
package serve
