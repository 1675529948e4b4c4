package scanner

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Limits bound how much of a history one scan reads, so that one push (a
// new branch of 100k unrelated commits) cannot hold a server's worker for
// hours. They are checked at commit boundaries, newest commit first: the
// scan reads whole commits until the next one would start over a limit.
// The zero value sets none (the command line and the hook scan all).
type Limits struct {
	// MaxCommits is how many commits a scan reads at most; 0: no limit.
	MaxCommits int `yaml:"max_commits"`
	// MaxBytes is how many bytes of diff text a scan reads at most
	// (Stats.Bytes); 0: no limit.
	MaxBytes int64 `yaml:"max_bytes"`
}

// DefaultServerLimits are the App's scan_limits: at pushvault's scan speed
// (about 30 MiB/s) a few minutes of work, well within the default
// queue.delivery_timeout.
var DefaultServerLimits = Limits{MaxCommits: 10000, MaxBytes: 1 << 30}

// WithLimits bounds the scan (see Limits). A scan that reaches a limit is
// not an error: its Result says what it did not read (Result.Truncated).
func WithLimits(l Limits) Option { return func(sc *Scanner) { sc.limits = l } }

// Truncation is what a scan stopped by its Limits did not read.
type Truncation struct {
	// By names the limit reached: "commits" (Limits.MaxCommits) or
	// "bytes" (Limits.MaxBytes).
	By string `json:"by"`
	// Commits is how many commits the target holds; Result.Stats.Commits
	// of them were read, the newest ones.
	Commits int `json:"commits"`
	// Oldest is the oldest commit read; the commits not read come after it
	// in log order.
	Oldest string `json:"oldest_scanned"`
}

// NotScanned is how many of the target's commits the scan did not read.
func (t *Truncation) NotScanned(scanned int) int { return t.Commits - scanned }

// errLimitReached stops the diff reader at the first commit over a limit.
var errLimitReached = errors.New("scan limit reached")

// overLimit names the limit that keeps the reader from starting another
// commit ("" when none does). The first commit is always read.
func (r *diffReader) overLimit() string {
	switch {
	case r.stats.commits == 0:
		return ""
	case r.limits.MaxCommits > 0 && r.stats.commits >= r.limits.MaxCommits:
		return "commits"
	case r.limits.MaxBytes > 0 && r.stats.bytes >= r.limits.MaxBytes:
		return "bytes"
	}
	return ""
}

// truncation describes what a scan stopped at a limit did not read: it
// counts the target's commits (git rev-list, which reads no tree or file).
func truncation(ctx context.Context, git *gitRepo, revs []string, reader *diffReader) (*Truncation, error) {
	out, err := git.output(ctx, append([]string{"rev-list", "--count"}, append(revs, "--")...)...)
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return nil, errors.New("git rev-list --count: unexpected output")
	}
	t := &Truncation{By: reader.limited, Commits: n}
	if len(reader.commits) > 0 {
		t.Oldest = reader.commits[len(reader.commits)-1].sha
	}
	return t, nil
}
