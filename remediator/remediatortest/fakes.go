package remediatortest

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

// Store is a SecretStore in memory: one version per fingerprint, as
// vault.Store's check-and-set gives. PutError, when set, fails the Put
// whose 1-based number is FailOnPut (every Put when FailOnPut is 0).
type Store struct {
	MountValue string
	PutError   error
	FailFor    scanner.Fingerprint // when set, only this secret's Put fails

	mu    sync.Mutex
	Puts  int
	Items map[string]vault.Item // by fingerprint
}

var _ remediator.SecretStore = (*Store)(nil)

// Put implements remediator.SecretStore.
func (s *Store) Put(_ context.Context, item vault.Item) (vault.Stored, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Puts++
	if s.PutError != nil && (s.FailFor == "" || s.FailFor == item.Fingerprint) {
		return vault.Stored{}, s.PutError
	}
	if s.Items == nil {
		s.Items = map[string]vault.Item{}
	}
	prev, had := s.Items[string(item.Fingerprint)]
	if had {
		item.Name = prev.Name
	}
	for fp, other := range s.Items {
		if !had && other.Name == item.Name && fp != string(item.Fingerprint) {
			// As the Vault store does: a name another secret holds gets a
			// short fingerprint suffix.
			item.Name += "_" + item.Fingerprint.Short()
		}
	}
	s.Items[string(item.Fingerprint)] = item
	return vault.Stored{Path: fmt.Sprintf("pushvault/%s/%s/%s", item.Owner, item.Repo, item.Name), Version: 1, Created: !had}, nil
}

// Ref implements remediator.SecretStore as vault.Store does.
func (s *Store) Ref(path, key string) rewrite.Ref {
	return rewrite.Ref{Mount: s.Mount(), Path: path, Key: key}
}

// Name implements remediator.SecretStore as vault.Store does.
func (s *Store) Name() string { return "Vault" }

// Mount implements remediator.SecretStore.
func (s *Store) Mount() string {
	if s.MountValue == "" {
		return "secret"
	}
	return s.MountValue
}

// Ledger keeps appended records in order. AppendError fails every append.
type Ledger struct {
	AppendError error

	mu      sync.Mutex
	Records []evidence.Record
}

var _ remediator.Ledger = (*Ledger)(nil)

// Append implements remediator.Ledger.
func (l *Ledger) Append(_ context.Context, rs ...evidence.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.AppendError != nil {
		return l.AppendError
	}
	l.Records = append(l.Records, rs...)
	return nil
}

// Transitions counts the records by transition.
func (l *Ledger) Transitions() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, r := range l.Records {
		out[r.Transition]++
	}
	return out
}

// Rotator answers each target of RunAll with ResultValue and ResultError,
// or with ByDetector's entry for the target's detector when there is one.
type Rotator struct {
	ResultValue rotate.Result
	ResultError error
	ByDetector  map[string]RotatorAnswer

	mu      sync.Mutex
	Targets []rotate.Target // every target of RunAll, in order
}

// RotatorAnswer is one answer of Rotator.
type RotatorAnswer struct {
	Result rotate.Result
	Err    error
}

var _ remediator.Rotator = (*Rotator)(nil)

// RunAll implements remediator.Rotator.
func (r *Rotator) RunAll(_ context.Context, targets []rotate.Target) ([]rotate.Result, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	results := make([]rotate.Result, len(targets))
	errs := make([]error, len(targets))
	for i, t := range targets {
		r.Targets = append(r.Targets, t)
		results[i], errs[i] = r.ResultValue, r.ResultError
		if a, ok := r.ByDetector[t.Detector]; ok {
			results[i], errs[i] = a.Result, a.Err
		}
	}
	return results, errs
}

// FixWriter remembers what it was asked to write; the same files twice give
// the same commit with Changed false, as a git branch does.
type FixWriter struct {
	BranchValue string
	WriteError  error

	mu       sync.Mutex
	Writes   int
	Files    map[string][]byte
	Messages []string
}

var _ remediator.FixWriter = (*FixWriter)(nil)

// WriteFix implements remediator.FixWriter.
func (w *FixWriter) WriteFix(_ context.Context, files map[string][]byte, message string) (remediator.FixCommit, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.Writes++
	if w.WriteError != nil {
		return remediator.FixCommit{}, w.WriteError
	}
	w.Messages = append(w.Messages, message)
	branch := w.BranchValue
	if branch == "" {
		branch = remediator.FixBranch("0123456789abcdef")
	}
	changed := !maps.EqualFunc(w.Files, files, func(a, b []byte) bool { return string(a) == string(b) })
	w.Files = maps.Clone(files)
	return remediator.FixCommit{Branch: branch, Commit: fmt.Sprintf("c%039d", len(files)), Changed: changed}, nil
}

// Proposer counts proposals and keeps the last result. ProposeError fails
// every proposal.
type Proposer struct {
	ProposeError error

	mu        sync.Mutex
	Proposals int
	Last      *remediator.Result
}

var _ remediator.Proposer = (*Proposer)(nil)

// Propose implements remediator.Proposer.
func (p *Proposer) Propose(_ context.Context, r *remediator.Result) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Proposals++
	p.Last = r
	return p.ProposeError
}

// Files is a FileReader over a map of path to content.
func Files(files map[string]string) remediator.FileReader {
	return func(_ context.Context, path string) ([]byte, bool, error) {
		s, ok := files[path]
		if !ok {
			return nil, false, nil
		}
		return []byte(s), true, nil
	}
}
