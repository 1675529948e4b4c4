package scanner

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// SliceProgress is what ScanSlices reports after each slice.
type SliceProgress struct {
	Slice, Slices int // 1-based: slice Slice of Slices is read
	// Commits is how many commits the slices read so far; Total how many
	// the target holds.
	Commits, Total int
}

// CountCommits is how many commits target holds (git rev-list --count: no
// tree or file is read).
func CountCommits(ctx context.Context, dir string, target Target) (int, error) {
	git, err := openRepo(ctx, dir, nil, target.names()...)
	if err != nil {
		return 0, err
	}
	return countCommits(ctx, git, target)
}

func countCommits(ctx context.Context, git *gitRepo, target Target) (int, error) {
	revs, err := target.Slice(0, 0).logArgs(ctx, git)
	if err != nil {
		return 0, err
	}
	out, err := git.output(ctx, append([]string{"rev-list", "--count"}, append(revs, "--")...)...)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0, errors.New("git rev-list --count: unexpected output")
	}
	return n, nil
}

// ScanSlices scans target as Scan does, in slices of at most size commits
// (newest first; size <= 0: one slice), so that what a scan keeps per
// commit read stays bounded by size however long the history is. Every
// commit is read once; a secret found in several slices is one finding,
// its locations oldest first and its ID its oldest location's, as one
// Scan would give. progress, when not nil, is called after each slice.
// Limits (WithLimits) do not apply: the caller chose to read it all.
func (s *Scanner) ScanSlices(ctx context.Context, dir string, target Target, size int, progress func(SliceProgress)) (*Result, error) {
	git, err := openRepo(ctx, dir, nil, target.names()...)
	if err != nil {
		return nil, err
	}
	total, err := countCommits(ctx, git, target)
	if err != nil {
		return nil, err
	}
	if size <= 0 || size > total {
		size = max(total, 1)
	}
	slices := max((total+size-1)/size, 1)
	limits := s.limits
	s.limits = Limits{}
	defer func() { s.limits = limits }()
	out := &Result{Stats: Stats{Reasons: map[SkipReason]int{}, Dropped: map[DropReason]int{}}, Allowed: map[string]int{}}
	found, inline := map[string]*Finding{}, map[string]*Finding{}
	for i := range slices {
		res, err := s.scan(ctx, git, target.Slice(i*size, size))
		if err != nil {
			return nil, err
		}
		// Locations are numbered oldest = 0 within the slice; the slices
		// after this one hold the older commits.
		older := total - i*size - res.Stats.Commits
		join(found, &out.Findings, res.Findings, older)
		join(inline, &out.InlineAllowed, res.InlineAllowed, older)
		addStats(&out.Stats, res.Stats)
		out.Skipped = append(out.Skipped, res.Skipped...)
		for k, n := range res.Allowed {
			out.Allowed[k] += n
		}
		if progress != nil {
			progress(SliceProgress{Slice: i + 1, Slices: slices, Commits: out.Stats.Commits, Total: total})
		}
	}
	for _, fs := range [][]*Finding{out.Findings, out.InlineAllowed} {
		for _, f := range fs {
			sortLocations(f.Locations)
			f.ID = f.Locations[0].ID
		}
		sortFindings(fs)
	}
	return out, nil
}

// join adds a slice's findings to the ones found so far (by secret), their
// locations' order moved past the older slices' commits.
func join(by map[string]*Finding, list *[]*Finding, fs []*Finding, older int) {
	for _, f := range fs {
		for i := range f.Locations {
			f.Locations[i].order += older
		}
		if have := by[f.key()]; have != nil {
			have.Locations = append(have.Locations, f.Locations...)
			if f.Verified == VerifiedTrue || (f.Verified == VerifiedFalse && have.Verified == VerifiedUnknown) {
				have.Verified = f.Verified
			}
			continue
		}
		by[f.key()] = f
		*list = append(*list, f)
	}
}

func addStats(to *Stats, st Stats) {
	to.Commits += st.Commits
	to.Files += st.Files
	to.Bytes += st.Bytes
	to.Skipped += st.Skipped
	for k, n := range st.Reasons {
		to.Reasons[k] += n
	}
	for k, n := range st.Dropped {
		to.Dropped[k] += n
	}
}
