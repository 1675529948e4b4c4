package githubapp

import "github.com/pushvault/pushvault/scanner"

// Conclusions of the pushvault check run.
const (
	ConclusionSuccess        = "success"         // nothing found
	ConclusionActionRequired = "action_required" // found and remediated; fix PR open
	ConclusionFailure        = "failure"         // remediation failed or settings invalid
	ConclusionNeutral        = "neutral"         // not all of the push could be scanned: its head is gone, or it is over the scan limits
)

// Outcome is what pushvault did about one push, in the terms GitHub shows
// it: check run, fix pull request body, commit comments. It holds no secret
// value: only redacted previews, vault paths and references.
type Outcome struct {
	Owner, Repo string
	Branch      string // the pushed branch, without refs/heads/ ("" for a tag)
	HeadSHA     string // the pushed commit (for a tag, the commit it points at)
	Scanned     int    // commits scanned
	Skipped     map[string]int
	// Unscanned are the files the scan skipped (Skipped counts them by
	// reason); the summary lists them and says how to scan those too large.
	Unscanned []scanner.SkippedFile
	// Base is where the scanned range starts ("" for a new branch's own
	// commits), for the local command the summary suggests.
	Base    string
	Secrets []SecretOutcome
	// Failure, when set, is why remediation did not finish, already safe to
	// show (it never carries a secret value). The check run concludes
	// "failure" with it.
	Failure string
	// PR is the fix pull request, when one is open.
	PR *PRLink
	// PendingRotations: some rotation waits for a person's approval; the
	// check run offers the "Approve rotation" button.
	PendingRotations bool
	// Settings says where the settings that governed the push came from
	// ("" when not known, e.g. a dead letter).
	Settings string
	// Tag is the pushed tag, without refs/tags/ ("" for a branch); a tag
	// gets no fix pull request (none can change it), only what to do.
	Tag string
	// Orphaned: the pushed head was force-pushed over before pushvault
	// ran. Its commits are on no branch, yet GitHub serves them by id
	// until it collects garbage, so they were scanned; no fix pull
	// request, which would bring them back onto the branch.
	Orphaned bool
	// Gone: the pushed head was force-pushed over and GitHub no longer
	// holds it, so nothing could be scanned; the check run is neutral and
	// says how to scan it where it still exists.
	Gone bool
	// Truncated, when set, says the push was over the server's scan
	// limits: its newest commits were scanned (and what they hold
	// handled), the rest not; the check run is neutral and says how to
	// scan it all.
	Truncated *Truncated
	// Pusher is who pushed, as the push event names them.
	Pusher string
	// InlineAllowed are the places where an inline allow comment let a
	// finding through and pushvault recorded it (the server's
	// inline_allow: record). They do not change the conclusion.
	InlineAllowed []InlineAllowed
	// Backfill: the secrets were found by a history backfill of the
	// default branch, not in a push.
	Backfill bool
}

// Truncated is what a scan stopped by the server's scan limits did not
// read, with the limits and what it did read (Outcome.Scanned commits,
// Bytes of diff text).
type Truncated struct {
	scanner.Truncation
	Bytes  int64
	Limits scanner.Limits
}

// InlineAllowed is one location an inline allow comment let through: no
// value, no preview.
type InlineAllowed struct {
	FindingID string
	Detector  string
	Location  scanner.Location
}

// SecretOutcome is one distinct secret found in the push.
type SecretOutcome struct {
	FindingID    string
	Fingerprint  string // keyed HMAC of the value (never the value)
	Detector     string
	Redacted     string
	Locations    []scanner.Location
	VaultPath    string // "secret/data/pushvault/acme/shop/stripe_api_key", empty when not vaulted
	VaultVersion int
	Reference    string   // the canonical reference the fix writes
	EnvNames     []string // environment variables the fix reads it through
	Rotation     string   // rotation outcome in a few words ("revoked", "manual: see #12", "not attempted")
	Manual       []string // steps left to a person
}

// Ref names the pushed ref for people: "`main`" or "tag `v1`".
func (o *Outcome) Ref() string {
	if o.Tag != "" {
		return "tag `" + inline(o.Tag) + "`"
	}
	return "`" + inline(o.Branch) + "`"
}

// PRLink identifies a pull request.
type PRLink struct {
	Number int
	URL    string
	Branch string
}

// Conclusion is the check run's conclusion for the outcome.
func (o *Outcome) Conclusion() string {
	switch {
	case o.Failure != "":
		return ConclusionFailure
	case o.Gone, o.Truncated != nil:
		return ConclusionNeutral
	case len(o.Secrets) == 0:
		return ConclusionSuccess
	default:
		return ConclusionActionRequired
	}
}
