package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/vault"
)

// DefaultLedgerPath is the local evidence ledger: $PUSHVAULT_DATA_DIR/evidence.jsonl.
func DefaultLedgerPath() string { return filepath.Join(DataDir(), "evidence.jsonl") }

// ledger appends transitions to the evidence ledger once each: a transition
// already recorded for the same repository, fingerprint and (for fixes)
// commit, (for rotation steps) attempt, is not recorded again, so reruns
// add nothing.
type ledger struct {
	l    *evidence.Ledger
	seen map[string]bool
	// state, when set, makes "once" hold across processes sharing the
	// ledger (pushvault serve replicas): each append is keyed in the state
	// store instead of the in-memory set.
	state *Store
}

// sharedLedger is the server's ledger: appends deduplicated through the
// state store, so a redelivered or resumed push, or a second replica,
// never records a transition twice.
func sharedLedger(l *evidence.Ledger, state *Store) *ledger {
	return &ledger{l: l, seen: map[string]bool{}, state: state}
}

func openLedger(path string, t *vault.Transit) (*ledger, error) {
	if path == "" {
		path = DefaultLedgerPath()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("evidence ledger: %w", err)
	}
	l := evidence.New(evidence.NewFile(path), evidence.TransitSigner{T: t, Key: EvidenceKey})
	recs, err := l.Records(context.Background())
	if err != nil {
		return nil, fmt.Errorf("evidence ledger %s: %w", path, err)
	}
	led := &ledger{l: l, seen: map[string]bool{}}
	for _, r := range recs {
		led.seen[ledgerKey(r)] = true
	}
	return led, nil
}

// ledgerKey identifies a transition: repository, fingerprint (else the
// finding id), transition, and the fix commit or the rotation attempt.
func ledgerKey(r evidence.Record) string {
	extra := r.Links["fix_commit"]
	if a := r.Detail["attempt"]; extra == "" && a != "" {
		extra = "attempt " + a
	}
	id := r.Fingerprint
	if id == "" {
		id = r.FindingID // records about pushes (scan_skipped) have no secret
	}
	return r.Repository + "\x00" + id + "\x00" + r.Transition + "\x00" + extra
}

var _ remediator.Ledger = (*ledger)(nil)

// Append implements remediator.Ledger.
func (l *ledger) Append(ctx context.Context, r evidence.Record) error {
	key := ledgerKey(r)
	if l.state != nil {
		_, err := l.state.Once(ctx, "ledger/"+sha256Hex(key), func(ctx context.Context, a Attempt) ([]byte, error) {
			if a.Resumed {
				// The earlier attempt may have appended before it died.
				recs, err := l.l.Records(ctx)
				if err != nil {
					return nil, fmt.Errorf("evidence ledger: %w", err)
				}
				for _, rec := range recs {
					if ledgerKey(rec) == key {
						return nil, nil
					}
				}
			}
			if _, err := l.l.Append(ctx, r); err != nil {
				return nil, fmt.Errorf("evidence ledger: %w", err)
			}
			return nil, nil
		})
		return err
	}
	if l.seen[key] {
		return nil
	}
	if _, err := l.l.Append(ctx, r); err != nil {
		return fmt.Errorf("evidence ledger: %w", err)
	}
	l.seen[key] = true
	return nil
}

// EvidenceSource says which ledger `pushvault evidence` reads: the file at
// Path (default $PUSHVAULT_DATA_DIR/evidence.jsonl), or the JetStream
// ledger of `pushvault serve` on the NATS server at NATS (with NATSCreds),
// or in the embedded server's files under DataDir (serve must be stopped:
// the store is held by one process at a time).
type EvidenceSource struct {
	Path      string
	NATS      string
	NATSCreds string
	DataDir   string
}

func (s EvidenceSource) jetstream() bool { return s.NATS != "" || s.DataDir != "" }

func (s EvidenceSource) String() string {
	switch {
	case s.NATS != "":
		return "stream " + evidence.StreamName + " at " + redactURL(s.NATS)
	case s.DataDir != "":
		return "stream " + evidence.StreamName + " in " + s.DataDir
	}
	return ledgerPathOr(s.Path)
}

// open returns the source's backend and a function that releases it.
func (s EvidenceSource) open(ctx context.Context) (evidence.Backend, func(), error) {
	if !s.jetstream() {
		return evidence.NewFile(ledgerPathOr(s.Path)), func() {}, nil
	}
	if s.Path != "" {
		return nil, nil, fmt.Errorf("%w: --ledger names a file; --nats and --data-dir name the server's ledger: give one", ErrUsage)
	}
	if s.NATS != "" && s.DataDir != "" {
		return nil, nil, fmt.Errorf("%w: give --nats or --data-dir, not both", ErrUsage)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	js, closeJS, err := connectJetStream(ctx, log, QueueConfig{URL: s.NATS, CredsFile: s.NATSCreds}, s.DataDir)
	if err != nil {
		return nil, nil, err
	}
	return evidence.OpenJetStream(js), closeJS, nil
}

// VerifyEvidence checks the ledger's chain and signatures and returns a
// one-line summary; the error names the first bad record.
func VerifyEvidence(ctx context.Context, src EvidenceSource, vcfg vault.Config) (string, error) {
	if !src.jetstream() {
		if _, err := os.Stat(ledgerPathOr(src.Path)); err != nil {
			return "", fmt.Errorf("evidence ledger: %w", err)
		}
	}
	cfg := vault.FromEnv(vcfg)
	if cfg.Address == "" {
		return "", fmt.Errorf("%w: verifying signatures needs Vault: set VAULT_ADDR and VAULT_TOKEN", ErrUsage)
	}
	c, err := vault.Connect(ctx, cfg)
	if err != nil {
		return "", err
	}
	b, release, err := src.open(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	l := evidence.New(b, evidence.TransitSigner{T: vault.NewTransit(c, cfg.TransitMount), Key: EvidenceKey})
	rep, err := l.Verify(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("ledger %s: %d records, chain and signatures verified", src, rep.Records), nil
}

// ExportEvidence writes the ledger as JSON Lines or Markdown.
func ExportEvidence(ctx context.Context, src EvidenceSource, format string, w io.Writer) error {
	if format != "jsonl" && format != "md" {
		return fmt.Errorf("%w: unknown format %q (want jsonl or md)", ErrUsage, format)
	}
	b, release, err := src.open(ctx)
	if err != nil {
		return err
	}
	defer release()
	return evidence.New(b, nil).Export(ctx, w, format)
}

func ledgerPathOr(path string) string {
	if path == "" {
		return DefaultLedgerPath()
	}
	return path
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
