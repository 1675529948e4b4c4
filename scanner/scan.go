package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Stats counts what a scan read.
type Stats struct {
	Commits int                `json:"commits"`
	Files   int                `json:"files"`
	Bytes   int64              `json:"bytes"`
	Skipped int                `json:"skipped"`
	Reasons map[SkipReason]int `json:"skipped_by_reason,omitempty"`
	// Dropped counts the detector results not reported, by reason: false
	// positives a rule recognised, and results pushvault could not place
	// in the text. A result found in several places counts once per place
	// a rule dropped.
	Dropped map[DropReason]int `json:"dropped_by_reason,omitempty"`
}

// Result is the outcome of a scan.
type Result struct {
	Findings []*Finding
	Stats    Stats
	// InlineAllowed are the findings at lines that carry an inline allow
	// marker ("pushvault:allow", "trufflehog:ignore"), kept apart from
	// Findings: whether a marker is honoured, recorded or ignored is the
	// caller's policy, not the scanner's. A secret found both at marked and
	// at unmarked lines is in both lists, each with its own locations (and
	// the ID of its own first location); DisregardInlineAllow joins them.
	InlineAllowed []*Finding
	// Allowed counts findings dropped by the detector and finding-id
	// allowlists, by reason ("detector", "finding"). Path globs drop
	// occurrences before detection and are not counted.
	Allowed map[string]int
	// Skipped lists the files not read, in log order (newest commit first);
	// Stats.Reasons counts them.
	Skipped []SkippedFile
	// Truncated, when not nil, says what the scan did not read because it
	// reached its Limits: the older commits of the target.
	Truncated *Truncation
}

// DisregardInlineAllow treats the inline-allowed findings as any other, as
// if their lines carried no marker: each joins the finding of the same
// secret in Findings (taking the ID of the earliest location of both), or
// becomes one. InlineAllowed is empty afterwards.
func (r *Result) DisregardInlineAllow() {
	byKey := map[string]*Finding{}
	for _, f := range r.Findings {
		byKey[f.key()] = f
	}
	for _, f := range r.InlineAllowed {
		g := byKey[f.key()]
		if g == nil {
			r.Findings = append(r.Findings, f)
			continue
		}
		g.Locations = append(g.Locations, f.Locations...)
		sortLocations(g.Locations)
		g.ID = g.Locations[0].ID
	}
	r.InlineAllowed = nil
	sortFindings(r.Findings)
}

// Scanner scans commit ranges of git repositories. It is safe for
// concurrent use; each Scan call is independent.
type Scanner struct {
	settings     *Settings
	verify       bool
	workers      int
	fingerprints Fingerprinter
	log          *slog.Logger
	chunkBytes   int
	overlapBytes int
	limits       Limits
	pace         func(context.Context) error
}

// Option configures a Scanner.
type Option func(*Scanner)

// WithSettings applies a repository's settings (allowlist, custom
// detectors, limits). Without it no allowlist applies.
func WithSettings(s *Settings) Option { return func(sc *Scanner) { sc.settings = s } }

// WithVerify turns on verification: detectors ask the provider whether each
// secret is live. It makes network calls; off by default.
func WithVerify(v bool) Option { return func(sc *Scanner) { sc.verify = v } }

// WithWorkers sets how many detection goroutines run; default GOMAXPROCS.
func WithWorkers(n int) Option { return func(sc *Scanner) { sc.workers = n } }

// WithPace has pace called before each chunk of text is handed to
// detection, and again before each detection goroutine takes one up. It
// may block, to leave the machine to more urgent work (detection and the
// git process feeding it wait meanwhile: the reader is held, the pipe
// fills); an error from it (its context's) ends the scan with that error.
func WithPace(pace func(context.Context) error) Option { return func(sc *Scanner) { sc.pace = pace } }

// WithFingerprinter sets how findings are fingerprinted. Without it
// Finding.Fingerprint is empty.
func WithFingerprinter(f Fingerprinter) Option { return func(sc *Scanner) { sc.fingerprints = f } }

// WithLogger sets the logger; default discards.
func WithLogger(l *slog.Logger) Option { return func(sc *Scanner) { sc.log = l } }

// New returns a Scanner.
func New(opts ...Option) *Scanner {
	s := &Scanner{
		settings:     &Settings{MaxFileBytes: DefaultMaxFileBytes},
		workers:      runtime.GOMAXPROCS(0),
		log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		chunkBytes:   64 << 10,
		overlapBytes: 8 << 10,
	}
	for _, o := range opts {
		o(s)
	}
	if s.workers < 1 {
		s.workers = 1
	}
	return s
}

// Scan scans target in the repository at dir. It returns ErrNotRepository
// (wrapped) when dir is not a git repository, and an error naming the
// revision when target doesn't resolve. Findings are sorted by their first
// introduction, oldest first.
func (s *Scanner) Scan(ctx context.Context, dir string, target Target) (*Result, error) {
	git, err := openRepo(ctx, dir, nil, target.names()...)
	if err != nil {
		return nil, err
	}
	return s.scan(ctx, git, target)
}

// ScanEnv is Scan with extra environment for git (a pre-receive hook's
// quarantine variables, for instance).
func (s *Scanner) ScanEnv(ctx context.Context, dir string, env []string, target Target) (*Result, error) {
	git, err := openRepo(ctx, dir, env, target.names()...)
	if err != nil {
		return nil, err
	}
	return s.scan(ctx, git, target)
}

func (s *Scanner) scan(ctx context.Context, git *gitRepo, target Target) (*Result, error) {
	revs, err := target.logArgs(ctx, git)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	extra := []extraDetector{VaultToken{}, PuTTYKey{}}
	for _, d := range s.settings.Detectors {
		extra = append(extra, d)
	}
	eng := newEngine(extra, s.verify, s.log)
	eng.generic = s.settings.GenericMode() != GenericOff

	chunks := make(chan *chunk, 4*s.workers)
	hitsCh := make(chan []hit, 4*s.workers)
	var wg sync.WaitGroup
	for range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				// Paced here too, so that the chunks already read stop at
				// once; a pace error is the context's, which ends the
				// scan through the reader (emit) as well.
				if s.pace != nil && s.pace(ctx) != nil {
					continue
				}
				if h := eng.detect(ctx, c); len(h) > 0 {
					hitsCh <- h
				}
			}
		}()
	}
	agg := newAggregator(s.settings)
	aggDone := make(chan struct{})
	go func() {
		defer close(aggDone)
		for h := range hitsCh {
			agg.add(h)
		}
	}()

	reader := &diffReader{
		maxFileBytes: s.settings.MaxFileBytes,
		limits:       s.limits,
		chunkBytes:   s.chunkBytes,
		overlapBytes: s.overlapBytes,
		blob: func(id string) ([]byte, error) {
			if !isObjectID(id) {
				return nil, fmt.Errorf("bad object id %q", id)
			}
			return git.output(ctx, "cat-file", "blob", id)
		},
		emit: func(c *chunk) error {
			if c.commit.message == "" && agg.pathAllowed(c.path) {
				return nil
			}
			if s.pace != nil {
				if err := s.pace(ctx); err != nil {
					return err
				}
			}
			select {
			case chunks <- c:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	readErr := s.readHistory(ctx, git, revs, reader)
	if errors.Is(readErr, errLimitReached) {
		// Not a failure: what was read is scanned, the rest reported.
		readErr = nil
	}
	if readErr == nil {
		readErr = s.readMessages(ctx, git, target, reader)
	}
	if readErr != nil {
		cancel()
	}
	close(chunks)
	wg.Wait()
	close(hitsCh)
	<-aggDone
	if readErr == nil && ctx.Err() != nil {
		// The context ended while detection ran (a paced worker skips
		// what it had not begun): a partial scan must not pass as whole.
		return nil, context.Cause(ctx)
	}

	if readErr != nil {
		if ctxErr := context.Cause(ctx); ctxErr != nil && errors.Is(readErr, context.Canceled) {
			return nil, ctxErr
		}
		var gitErr *gitLogError
		if errors.As(readErr, &gitErr) {
			return nil, fmt.Errorf("git log %s: %s", target, gitErr.stderr)
		}
		return nil, readErr
	}
	s.logSkipped(ctx, reader.stats.skippedFiles)

	res := &Result{
		Stats: Stats{
			Commits: reader.stats.commits,
			Files:   reader.stats.files,
			Bytes:   reader.stats.bytes,
			Reasons: reader.stats.skipped,
			Dropped: eng.dropped.counts(),
		},
		Skipped: reader.stats.skippedFiles,
	}
	for _, n := range reader.stats.skipped {
		res.Stats.Skipped += n
	}
	if reader.limited != "" {
		if res.Truncated, err = truncation(ctx, git, revs, reader); err != nil {
			return nil, err
		}
	}
	res.Findings, res.InlineAllowed, res.Allowed = agg.findings(reader.stats.commits)
	if s.fingerprints != nil {
		if err := FingerprintFindings(ctx, s.fingerprints, append(slices.Clip(res.Findings), res.InlineAllowed...)); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// FingerprintFindings sets the Fingerprint of each finding, computing it
// once per secret: a scan made without a Fingerprinter can be fingerprinted
// afterwards (the hook fingerprints what it records only when Vault is
// there to key it).
func FingerprintFindings(ctx context.Context, fpr Fingerprinter, findings []*Finding) error {
	done := map[string]Fingerprint{}
	if batch, ok := fpr.(BatchFingerprinter); ok {
		if err := fingerprintBatch(ctx, batch, findings, done); err != nil {
			return err
		}
	}
	for _, f := range findings {
		fp, ok := done[f.key()]
		if !ok {
			var err error
			if fp, err = fpr.Fingerprint(ctx, []byte(f.fullValue)); err != nil {
				return fmt.Errorf("fingerprint %s finding %s: %w", f.Detector, f.ID, err)
			}
			done[f.key()] = fp
		}
		f.Fingerprint = fp
	}
	return nil
}

// fingerprintBatch fingerprints each distinct secret of findings in one
// call, into done.
func fingerprintBatch(ctx context.Context, batch BatchFingerprinter, findings []*Finding, done map[string]Fingerprint) error {
	var keys []string
	var values [][]byte
	for _, f := range findings {
		if _, seen := done[f.key()]; !seen {
			done[f.key()] = ""
			keys = append(keys, f.key())
			values = append(values, []byte(f.fullValue))
		}
	}
	if len(values) == 0 {
		return nil
	}
	fps, err := batch.FingerprintAll(ctx, values)
	if err != nil {
		return fmt.Errorf("fingerprint %d secrets: %w", len(values), err)
	}
	if len(fps) != len(values) {
		return fmt.Errorf("fingerprint %d secrets: %d fingerprints returned", len(values), len(fps))
	}
	for i, k := range keys {
		done[k] = fps[i]
	}
	return nil
}

// aggregator folds hits into findings: one per (detector, value), every
// location once.
type aggregator struct {
	settings *Settings
	mu       sync.Mutex
	byKey    map[string]*Finding
	seen     map[string]bool
}

func newAggregator(s *Settings) *aggregator {
	return &aggregator{settings: s, byKey: map[string]*Finding{}, seen: map[string]bool{}}
}

func (a *aggregator) pathAllowed(path string) bool {
	return a.settings.Allowlist.allowsPath(path)
}

func (a *aggregator) add(hits []hit) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, h := range hits {
		key := h.detector + "\x00" + h.full
		loc := h.commit.sha + "\x00" + string(h.commit.message) + "\x00" + h.path + "\x00" + fmt.Sprint(h.line)
		if a.seen[key+"\x00"+loc] {
			continue
		}
		a.seen[key+"\x00"+loc] = true
		f := a.byKey[key]
		if f == nil {
			f = &Finding{
				Detector:    h.detector,
				Secret:      NewSecret(h.value),
				Redacted:    Redact(h.value),
				Verified:    h.verified,
				Description: h.description,
				fullValue:   h.full,
			}
			if len(h.parts) > 0 {
				f.Parts = map[string]Secret{}
				for k, v := range h.parts {
					f.Parts[k] = NewSecret(v)
				}
			}
			a.byKey[key] = f
		}
		if h.verified == VerifiedTrue || (h.verified == VerifiedFalse && f.Verified == VerifiedUnknown) {
			f.Verified = h.verified
		}
		f.Locations = append(f.Locations, Location{
			Commit:  h.commit.sha,
			Author:  h.commit.author,
			Date:    h.commit.date,
			Path:    h.path,
			Line:    h.line,
			ID:      LocationID(h.detector, h.commit.sha, h.path, h.line),
			Message: h.commit.message,
			Tag:     h.commit.tag,
			order:   h.commit.order,
			inline:  h.inline,
		})
		if h.commit.message != "" {
			f.Locations[len(f.Locations)-1].ID = messageLocationID(h.detector, h.commit.sha, h.commit.message, h.line)
		}
	}
}

// findings sorts each finding's locations oldest first (git log lists the
// newest commit first, so a higher ordinal is older), applies the allowlists
// to each secret as a whole, then splits off the locations whose lines carry
// an inline allow marker: it returns the findings, the inline-allowed
// findings, each sorted by first introduction, and the allowlist counts.
func (a *aggregator) findings(commits int) (out, inline []*Finding, allowed map[string]int) {
	allowed = map[string]int{}
	a.dropPatternCaught()
	for _, f := range a.byKey {
		f.ReportOnly = f.Detector == GenericName && a.settings.GenericMode() == GenericReport
		for i := range f.Locations {
			f.Locations[i].order = commits - 1 - f.Locations[i].order
		}
		sortLocations(f.Locations)
		f.ID = f.Locations[0].ID
		switch {
		case a.settings.Allowlist.allowsDetector(f.Detector):
			allowed["detector"]++
		case a.settings.Allowlist.allowsFinding(f):
			allowed["finding"]++
		default:
			plain, marked := splitInline(f)
			if plain != nil {
				out = append(out, plain)
			}
			if marked != nil {
				inline = append(inline, marked)
			}
		}
	}
	sortFindings(out)
	sortFindings(inline)
	return out, inline, allowed
}

// dropPatternCaught drops each generic finding whose value a pattern
// detector found too, anywhere in the scan (the same value, or one holding
// or held by the other: `password: "sk_live_…"`): the pattern detector's
// finding names the credential and its rotation.
func (a *aggregator) dropPatternCaught() {
	var pattern []string
	for _, f := range a.byKey {
		if f.Detector != GenericName {
			pattern = append(pattern, f.fullValue)
		}
	}
	for key, f := range a.byKey {
		if f.Detector != GenericName {
			continue
		}
		for _, v := range pattern {
			if strings.Contains(v, f.fullValue) || strings.Contains(f.fullValue, v) {
				delete(a.byKey, key)
				break
			}
		}
	}
}

// splitInline splits f into the finding at unmarked lines and the one at
// lines with an inline allow marker; either is nil when it has no location.
func splitInline(f *Finding) (plain, marked *Finding) {
	var p, m []Location
	for _, l := range f.Locations {
		if l.inline {
			m = append(m, l)
		} else {
			p = append(p, l)
		}
	}
	part := func(locs []Location) *Finding {
		if len(locs) == 0 {
			return nil
		}
		c := *f
		c.Locations, c.ID = locs, locs[0].ID
		return &c
	}
	return part(p), part(m)
}

// sortLocations sorts locations oldest first (by their commit's position in
// the scan, then path and line).
func sortLocations(locs []Location) {
	sort.SliceStable(locs, func(i, j int) bool {
		li, lj := locs[i], locs[j]
		if li.order != lj.order {
			return li.order < lj.order
		}
		if li.Path != lj.Path {
			return li.Path < lj.Path
		}
		return li.Line < lj.Line
	})
}

// sortFindings sorts findings by first introduction.
func sortFindings(fs []*Finding) {
	sort.Slice(fs, func(i, j int) bool {
		li, lj := fs[i].Locations[0], fs[j].Locations[0]
		if li.order != lj.order {
			return li.order < lj.order
		}
		if li.Path != lj.Path {
			return li.Path < lj.Path
		}
		if li.Line != lj.Line {
			return li.Line < lj.Line
		}
		return fs[i].Detector < fs[j].Detector
	})
}
