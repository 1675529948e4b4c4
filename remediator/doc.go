// Package remediator turns findings into remediated secrets: each distinct
// secret is written to Vault (vault), the code is rewritten to read it from
// there (rewrite), and every step is appended to the evidence ledger
// (evidence). Rotation lands in rotate.
package remediator
