// Package report sums up the evidence ledger for a security team: per
// repository and overall, how many secrets were found, vaulted, rotated,
// wait for a person and are closed, the oldest open exposure, and how long
// detection took to reach vaulted, rotated and closed (p50, p90). It reads
// nothing but ledger records, folded by evidence.Lifecycles, so its figures
// are those of `pushvault evidence export`.
package report
