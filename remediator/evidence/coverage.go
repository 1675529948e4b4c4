package evidence

import (
	"strconv"
	"strings"
)

// CoverageSubject is the FindingID of a repository_added or
// repository_removed record: "installation:<id>:<owner>/<repo>".
func CoverageSubject(installation int64, repo string) string {
	return "installation:" + strconv.FormatInt(installation, 10) + ":" + repo
}

// parseCoverageSubject is CoverageSubject's inverse; ok is false for any
// other FindingID.
func parseCoverageSubject(s string) (installation int64, repo string, ok bool) {
	rest, found := strings.CutPrefix(s, "installation:")
	if !found {
		return 0, "", false
	}
	idText, repo, found := strings.Cut(rest, ":")
	if !found || repo == "" {
		return 0, "", false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return id, repo, true
}

// Coverage is a repository an installation of the GitHub App was given,
// as the ledger's repository_added and repository_removed records say.
type Coverage struct {
	Installation int64
	Repository   string
	// Removed is true when the last coverage record of the pair is
	// repository_removed: the installation no longer covers it.
	Removed bool
}

// Coverages returns every (installation, repository) pair the ledger
// records as added, in the order each was first added, with whether it
// was removed since. A removal never preceded by an addition is kept too
// (Removed true): the ledger may have started after the installation.
func Coverages(records []Record) []Coverage {
	at := map[string]int{}
	var out []Coverage
	for _, r := range records {
		if r.Transition != RepositoryAdded && r.Transition != RepositoryRemoved {
			continue
		}
		id, repo, ok := parseCoverageSubject(r.FindingID)
		if !ok {
			continue
		}
		key := CoverageSubject(id, repo)
		i, seen := at[key]
		if !seen {
			i = len(out)
			at[key] = i
			out = append(out, Coverage{Installation: id, Repository: repo})
		}
		out[i].Removed = r.Transition == RepositoryRemoved
	}
	return out
}
