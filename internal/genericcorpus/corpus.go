// Package genericcorpus measures a generic secret detector on the
// project's own corpus (testdata/generic): leaks/, files shaped like the
// public leak-test repositories with planted generic secrets, each
// labelled path:line in labels.txt; and clean/, real-world-shaped config
// and code with many secret-looking names and no secret. It runs
// pushvault's scanner on both and scores any detector's findings the same
// way, so the measuring command (internal/cmd/genericbench) can put
// Gitleaks' generic rule beside it.
package genericcorpus

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pushvault/pushvault/scanner"
)

// Kinds of files in the corpus.
const (
	Leaks = "leaks"
	Clean = "clean"
)

// Corpus is the corpus as read from disk.
type Corpus struct {
	// Files maps each kind to its files: path (slash-separated, relative
	// to the kind's directory, as the file would sit in a repository) to
	// content.
	Files map[string]map[string]string
	// Labels are the planted generic secrets: "path:line" in leaks/.
	Labels map[string]bool
	// Pattern are the lines of leaks/ that hold a secret a pattern
	// detector finds (a connection string, a token of a known format):
	// a generic report there is neither true nor false, since each tool
	// leaves such values to its pattern rules.
	Pattern map[string]bool
}

// Load reads the corpus at dir (testdata/generic).
func Load(dir string) (*Corpus, error) {
	c := &Corpus{Files: map[string]map[string]string{}, Labels: map[string]bool{}, Pattern: map[string]bool{}}
	for _, kind := range []string{Leaks, Clean} {
		root := filepath.Join(dir, kind)
		c.Files[kind] = map[string]string{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			c.Files[kind][filepath.ToSlash(rel)] = string(data)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("corpus %s: %w", kind, err)
		}
	}
	f, err := os.Open(filepath.Join(dir, "labels.txt"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if loc, ok := strings.CutPrefix(line, "pattern "); ok {
			c.Pattern[loc] = true
			continue
		}
		c.Labels[line] = true
	}
	return c, sc.Err()
}

// Loc is where a detector reported something: a kind, a path, a line.
type Loc struct {
	Kind, Path string
	Line       int
}

func (l Loc) key() string { return fmt.Sprintf("%s:%d", l.Path, l.Line) }

// Score is one detector's result on the corpus.
type Score struct {
	Labels        int // planted secrets
	Found         int // planted secrets reported
	LeakReports   int // reports in leaks/ (distinct lines)
	FalseInLeaks  int // reports in leaks/ at lines with no planted secret
	FalseInClean  int // reports in clean/ (every one is false)
	Missed        []string
	FalsePositive []string
}

// Precision is true reports over all reports, leaks/ and clean/ together.
func (s Score) Precision() float64 {
	all := s.LeakReports + s.FalseInClean
	if all == 0 {
		return 0
	}
	return float64(s.LeakReports-s.FalseInLeaks) / float64(all)
}

// Recall is planted secrets reported over planted secrets.
func (s Score) Recall() float64 {
	if s.Labels == 0 {
		return 0
	}
	return float64(s.Found) / float64(s.Labels)
}

// Rate scores a detector's reports against the labels. Several reports on
// one line count once; reports at pattern lines do not count.
func (c *Corpus) Rate(reports []Loc) Score {
	s := Score{Labels: len(c.Labels)}
	seen := map[string]bool{}
	for _, r := range reports {
		k := r.Kind + "/" + r.key()
		if seen[k] {
			continue
		}
		seen[k] = true
		switch {
		case r.Kind == Leaks && c.Pattern[r.key()]:
		case r.Kind == Clean:
			s.FalseInClean++
			s.FalsePositive = append(s.FalsePositive, k)
		case c.Labels[r.key()]:
			s.LeakReports++
		default:
			s.LeakReports++
			s.FalseInLeaks++
			s.FalsePositive = append(s.FalsePositive, k)
		}
	}
	for l := range c.Labels {
		if seen[Leaks+"/"+l] {
			s.Found++
		} else {
			s.Missed = append(s.Missed, l)
		}
	}
	sort.Strings(s.Missed)
	sort.Strings(s.FalsePositive)
	return s
}

// Pushvault commits each kind's files into a fresh repository under tmp,
// scans it with pushvault's scanner under the given generic mode, and
// returns where the detector named detector reported (scanner.GenericName
// for the generic detector; "" for every detector).
func (c *Corpus) Pushvault(ctx context.Context, tmp string, mode scanner.GenericMode, detector string) ([]Loc, error) {
	var out []Loc
	for _, kind := range []string{Leaks, Clean} {
		dir := filepath.Join(tmp, kind)
		if err := commitFiles(ctx, dir, c.Files[kind]); err != nil {
			return nil, err
		}
		sc := scanner.New(scanner.WithSettings(&scanner.Settings{MaxFileBytes: scanner.DefaultMaxFileBytes, Generic: mode}))
		res, err := sc.Scan(ctx, dir, scanner.All())
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", kind, err)
		}
		for _, f := range res.Findings {
			if detector != "" && f.Detector != detector {
				continue
			}
			for _, l := range f.Locations {
				out = append(out, Loc{Kind: kind, Path: l.Path, Line: l.Line})
			}
		}
	}
	return out, nil
}

// commitFiles writes files into a new repository at dir, in one commit.
func commitFiles(ctx context.Context, dir string, files map[string]string) error {
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"},
		{"-c", "user.name=corpus", "-c", "user.email=corpus@example.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "corpus"}} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v: %s", args[0], err, out)
		}
	}
	return nil
}
