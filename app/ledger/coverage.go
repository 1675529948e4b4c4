package ledger

import (
	"strconv"
	"strings"

	"github.com/pushvault/pushvault/remediator/evidence"
)

// Covered is what the ledger's records say installation id covers: the
// repositories (owner/name) recorded as added to it and not removed since,
// in the order they were first added.
func Covered(recs []evidence.Record, id int64) []string {
	prefix := "installation:" + strconv.FormatInt(id, 10) + ":"
	on := map[string]bool{}
	var order []string
	for _, rec := range recs {
		if !strings.HasPrefix(rec.FindingID, prefix) {
			continue
		}
		switch rec.Transition {
		case evidence.RepositoryAdded:
			if _, seen := on[rec.Repository]; !seen {
				order = append(order, rec.Repository)
			}
			on[rec.Repository] = true
		case evidence.RepositoryRemoved:
			on[rec.Repository] = false
		}
	}
	var out []string
	for _, name := range order {
		if on[name] {
			out = append(out, name)
		}
	}
	return out
}
