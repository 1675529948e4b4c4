package ledger

import "github.com/pushvault/pushvault/remediator/evidence"

// Covered is what the ledger's records say installation id covers: the
// repositories (owner/name) recorded as added to it and not removed since,
// in the order they were first added (evidence.Coverages).
func Covered(recs []evidence.Record, id int64) []string {
	var out []string
	for _, c := range evidence.Coverages(recs) {
		if c.Installation == id && !c.Removed {
			out = append(out, c.Repository)
		}
	}
	return out
}
