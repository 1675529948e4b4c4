// Package local holds the commands that run on one machine without the
// GitHub App: scan (and scan --fix, which runs the remediation pipeline on
// a checkout), the pre-receive hook (which runs it to vault what it
// blocks), hook install, exec, rotated, and the evidence ledger's verify and
// export.
package local
