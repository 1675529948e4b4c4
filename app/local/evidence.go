package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pushvault/pushvault/app/ledger"
	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/vault"
)

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
		return "stream " + evidence.StreamName + " at " + queue.RedactURL(s.NATS)
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
	js, closeJS, err := queue.ConnectJetStream(ctx, log, queue.Config{URL: s.NATS, CredsFile: s.NATSCreds}, s.DataDir)
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
	l := evidence.New(b, evidence.TransitSigner{T: vault.NewTransit(c, cfg.TransitMount), Key: vault.EvidenceKey})
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

// DefaultLedgerPath is the local evidence ledger: $PUSHVAULT_DATA_DIR/evidence.jsonl.
func DefaultLedgerPath() string { return filepath.Join(DataDir(), "evidence.jsonl") }

// openLedger opens the file ledger at path (default DefaultLedgerPath).
func openLedger(ctx context.Context, path string, t *vault.Transit) (*ledger.Recorder, error) {
	return ledger.OpenFile(ctx, ledgerPathOr(path), t)
}

// openVault opens a Vault session for a local command; no address is a
// usage error.
func openVault(ctx context.Context, cfg vault.Config) (*vault.Session, error) {
	s, err := vault.Open(ctx, cfg)
	if errors.Is(err, vault.ErrNoAddress) {
		return nil, fmt.Errorf("%w: this needs Vault: set VAULT_ADDR (and VAULT_TOKEN, or configure another auth method)", ErrUsage)
	}
	return s, err
}
