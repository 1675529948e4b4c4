package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pushvault/pushvault/remediator/evidence"
)

// Options choose what a report covers. At most one of Installation and
// Repository is set; neither: every repository the ledger names.
type Options struct {
	// Installation limits the report to the repositories the ledger
	// records as added to this GitHub App installation (removed ones
	// included, marked so).
	Installation int64
	// Repository limits it to one repository (owner/repo, any case).
	Repository string
	// AsOf reports the ledger as it stood then: records stamped later are
	// left out, and ages are counted to it. Required.
	AsOf time.Time
}

// ErrNothing says the ledger holds nothing for the scope asked.
var ErrNothing = errors.New("nothing recorded")

// Report is the remediation state of a set of repositories, per repository
// and overall. Its JSON encoding is the json format's document.
type Report struct {
	AsOf         time.Time `json:"as_of"`
	Installation int64     `json:"installation,omitempty"`
	Repository   string    `json:"repository,omitempty"`
	// Repositories are sorted by name.
	Repositories []*Figures `json:"repositories"`
	Overall      *Figures   `json:"overall"`
}

// Figures are the counts and times of one repository, or of all of them
// (Repository empty).
type Figures struct {
	Repository string `json:"repository,omitempty"`
	// Coverage is "covered" when an installation of the App covers the
	// repository, "removed" when every installation that covered it had
	// it removed, and "" when the ledger has no coverage record of it
	// (repositories only seen by scan --fix or the hook).
	Coverage string `json:"coverage,omitempty"`

	Found            int `json:"found"`
	Vaulted          int `json:"vaulted"`
	Rotated          int `json:"rotated"`
	WaitingForPerson int `json:"waiting_for_person"`
	Closed           int `json:"closed"`
	Open             int `json:"open"`

	OldestOpen *Exposure `json:"oldest_open"`

	ToVaulted Durations `json:"time_to_vaulted"`
	ToRotated Durations `json:"time_to_rotated"`
	ToClosed  Durations `json:"time_to_closed"`

	samples [3][]time.Duration // to vaulted, rotated, closed
}

// Exposure is an open secret: where it was first added and since when
// pushvault knows of it.
type Exposure struct {
	Repository string    `json:"repository"`
	FindingID  string    `json:"finding_id"`
	Detector   string    `json:"detector"`
	Commit     string    `json:"commit,omitempty"`
	Path       string    `json:"path,omitempty"`
	Line       string    `json:"line,omitempty"`
	DetectedAt time.Time `json:"detected_at"`
	AgeSeconds float64   `json:"age_seconds"`
}

// Durations summarise the time from detection to a transition over the
// secrets that reached it: how many, and the 50th and 90th percentiles in
// seconds (nearest rank: the smallest value with at least p% of the
// values at or below it); the percentiles are null when Count is 0.
type Durations struct {
	Count int      `json:"count"`
	P50   *float64 `json:"p50_seconds"`
	P90   *float64 `json:"p90_seconds"`
}

// Build reports records (oldest first, as the ledger returns them). A
// scope that names an installation or a repository the ledger has no
// record of is an error wrapping ErrNothing: a typo must not read as
// "all clear".
func Build(records []evidence.Record, o Options) (*Report, error) {
	if o.Installation != 0 && o.Repository != "" {
		return nil, errors.New("report: give an installation or a repository, not both")
	}
	if o.AsOf.IsZero() {
		return nil, errors.New("report: no as-of time")
	}
	asOf := o.AsOf.UTC()
	var recs []evidence.Record
	for _, r := range records {
		if !r.Time.After(asOf) {
			recs = append(recs, r)
		}
	}
	rep := &Report{AsOf: asOf, Installation: o.Installation, Repository: o.Repository, Overall: &Figures{}}
	rows := map[string]*Figures{}
	row := func(repo string) *Figures {
		f := rows[repo]
		if f == nil {
			f = &Figures{Repository: repo}
			rows[repo] = f
		}
		return f
	}

	// Which repositories: the installation's, the one asked, or all.
	inScope := func(string) bool { return true }
	coverage := map[string]string{}
	for _, c := range evidence.Coverages(recs) {
		if o.Installation != 0 && c.Installation != o.Installation {
			continue
		}
		if !c.Removed {
			coverage[c.Repository] = "covered"
		} else if coverage[c.Repository] == "" {
			coverage[c.Repository] = "removed"
		}
	}
	switch {
	case o.Installation != 0:
		if len(coverage) == 0 {
			return nil, fmt.Errorf("report: the ledger records no repository of installation %d: %w", o.Installation, ErrNothing)
		}
		inScope = func(repo string) bool { return coverage[repo] != "" }
		for repo := range coverage {
			row(repo)
		}
	case o.Repository != "":
		var name string
		for _, r := range recs {
			if strings.EqualFold(r.Repository, o.Repository) {
				name = r.Repository
				break
			}
		}
		if name == "" {
			return nil, fmt.Errorf("report: the ledger holds no record of %s: %w", o.Repository, ErrNothing)
		}
		inScope = func(repo string) bool { return strings.EqualFold(repo, o.Repository) }
		row(name)
	default:
		for repo := range coverage {
			row(repo)
		}
	}

	for _, l := range evidence.Lifecycles(recs) {
		if !inScope(l.Repository) {
			continue
		}
		for _, f := range []*Figures{row(l.Repository), rep.Overall} {
			f.add(l, asOf)
		}
	}
	for repo, f := range rows {
		f.Coverage = coverage[repo]
		f.finish()
		rep.Repositories = append(rep.Repositories, f)
	}
	slices.SortFunc(rep.Repositories, func(a, b *Figures) int { return strings.Compare(a.Repository, b.Repository) })
	rep.Overall.finish()
	return rep, nil
}

// add counts one secret.
func (f *Figures) add(l *evidence.Lifecycle, asOf time.Time) {
	f.Found++
	if !l.Vaulted.IsZero() {
		f.Vaulted++
		f.samples[0] = append(f.samples[0], l.Vaulted.Sub(l.Detected))
	}
	if l.Rotation.Rotated() {
		f.Rotated++
		f.samples[1] = append(f.samples[1], l.Rotated.Sub(l.Detected))
	}
	if !l.Open() {
		f.Closed++
		f.samples[2] = append(f.samples[2], l.Closed.Sub(l.Detected))
		return
	}
	f.Open++
	if l.Rotation.WaitsForPerson() {
		f.WaitingForPerson++
	}
	if f.OldestOpen == nil || l.Detected.Before(f.OldestOpen.DetectedAt) {
		f.OldestOpen = &Exposure{Repository: l.Repository, FindingID: l.FindingID, Detector: l.Detector,
			Commit: l.Commit, Path: l.Path, Line: l.Line, DetectedAt: l.Detected.UTC(), AgeSeconds: seconds(asOf.Sub(l.Detected))}
	}
}

// finish computes the percentiles.
func (f *Figures) finish() {
	f.ToVaulted = summarise(f.samples[0])
	f.ToRotated = summarise(f.samples[1])
	f.ToClosed = summarise(f.samples[2])
}

func summarise(d []time.Duration) Durations {
	if len(d) == 0 {
		return Durations{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	p50, p90 := seconds(percentile(s, 50)), seconds(percentile(s, 90))
	return Durations{Count: len(s), P50: &p50, P90: &p90}
}

// percentile is the nearest-rank percentile p of sorted (not empty): the
// value at rank ceil(p/100 × n).
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1000) / 1000
}

// Scope names what the report covers, for people.
func (r *Report) Scope() string {
	switch {
	case r.Installation != 0:
		return "installation " + strconv.FormatInt(r.Installation, 10)
	case r.Repository != "":
		return r.Repository
	}
	return "all repositories"
}
