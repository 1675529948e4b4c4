// Package phase times the phases of one piece of work (a push through
// serve's pipeline) for metrics. The observer travels in the context, so
// the layers that do the work (the push handler, the remediation
// pipeline) mark their phases without knowing who counts them, and mark
// nothing when no one does (the CLI).
package phase

import (
	"context"
	"time"
)

// The phases a push goes through. Each is timed on its own (none holds
// another), so their sum is the time a push spends in them.
const (
	Settings    = "settings"     // the repository's and organisation's settings from GitHub
	Fetch       = "fetch"        // git fetch into the mirror
	Scan        = "scan"         // the scanner
	Vault       = "vault"        // KV writes and fingerprints of the found secrets
	Rotate      = "rotate"       // rotations and their proofs
	Rewrite     = "rewrite"      // the files' rewrite
	FixCommit   = "fix_commit"   // the fix commit and its branch push
	PullRequest = "pull_request" // opening (or finding) the fix pull request
	CheckRun    = "check_run"    // creating and completing the check run
	Ledger      = "ledger"       // signing and appending evidence records
)

// Observer is told how long each phase took.
type Observer interface {
	ObservePhase(name string, d time.Duration)
}

type key struct{}

// With returns ctx carrying o.
func With(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, key{}, o)
}

// Start starts timing phase name; the returned function ends it and tells
// ctx's observer, if it has one.
func Start(ctx context.Context, name string) (end func()) {
	o, _ := ctx.Value(key{}).(Observer)
	if o == nil {
		return func() {}
	}
	started := time.Now()
	return func() { o.ObservePhase(name, time.Since(started)) }
}
