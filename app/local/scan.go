package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/scanner"
	"github.com/pushvault/pushvault/scanner/report"
)

// ScanOptions are the inputs of `pushvault scan`.
type ScanOptions struct {
	Dir    string
	Target scanner.Target
	// Format is text, json or sarif.
	Format string
	// SettingsFile overrides the repository's .github/pushvault.yml.
	SettingsFile string
	Verify       bool
	Version      string
	// Repository names the repository in Vault paths as owner/repo;
	// default from the origin remote, else local/<directory>.
	Repository string
	// ApproveRotation lets rotations run when the settings require
	// approval (rotation.approval: required).
	ApproveRotation bool
	// Store is where --fix pushes leaks (the operator's PUSHVAULT_STORE_*;
	// zero: Vault KV v2).
	Store secretstore.Config
}

// ErrUsage marks errors in what the user asked for (bad flags, bad format).
var ErrUsage = errors.New("usage")

// Scan runs a scan and writes the report to out. It returns the result so
// the caller can choose the exit status.
func Scan(ctx context.Context, log *slog.Logger, opts ScanOptions, out io.Writer) (*scanner.Result, error) {
	write, err := reportWriter(opts.Format, opts.Version)
	if err != nil {
		return nil, err
	}
	settings, err := policy.Local(ctx, opts.Dir, opts.SettingsFile)
	if err != nil {
		return nil, err
	}
	if settings.Source != "" {
		log.DebugContext(ctx, "settings loaded", slog.String("source", settings.Source),
			slog.Int("custom_detectors", len(settings.Scan.Detectors)),
			slog.Int("allow_paths", len(settings.Scan.Allowlist.Paths)),
			slog.Int("allow_detectors", len(settings.Scan.Allowlist.Detectors)),
			slog.Int("allow_findings", len(settings.Scan.Allowlist.Findings)))
	}
	keyPath := filepath.Join(DataDir(), "fingerprint.key")
	fp, err := scanner.LoadOrCreateLocalKey(keyPath)
	if err != nil {
		return nil, err
	}
	sc := scanner.New(
		scanner.WithSettings(settings.Scan),
		scanner.WithVerify(opts.Verify),
		scanner.WithFingerprinter(fp),
		scanner.WithLogger(log),
	)
	log.DebugContext(ctx, "scan starting", slog.String("dir", opts.Dir), slog.String("target", opts.Target.String()), slog.Bool("verify", opts.Verify))
	res, err := sc.Scan(ctx, opts.Dir, opts.Target)
	if err != nil {
		return nil, err
	}
	for _, f := range res.Findings {
		log.DebugContext(ctx, "finding", slog.String("id", f.ID), slog.String("detector", f.Detector),
			slog.Any("secret", f.Secret), slog.String("path", f.First().Path), slog.Int("line", f.First().Line),
			slog.Int("locations", len(f.Locations)))
	}
	log.DebugContext(ctx, "scan finished", slog.Int("findings", len(res.Findings)),
		slog.Int("commits", res.Stats.Commits), slog.Int64("bytes", res.Stats.Bytes), slog.Int("skipped", res.Stats.Skipped))
	if err := write(out, res); err != nil {
		return nil, fmt.Errorf("writing report: %w", err)
	}
	return res, nil
}

func reportWriter(format, version string) (func(io.Writer, *scanner.Result) error, error) {
	switch format {
	case "", "text":
		return report.WriteText, nil
	case "json":
		return report.WriteJSON, nil
	case "sarif":
		return func(w io.Writer, r *scanner.Result) error { return report.WriteSARIF(w, r, version) }, nil
	}
	return nil, fmt.Errorf("%w: unknown format %q (want text, json or sarif)", ErrUsage, format)
}

// DataDir is where pushvault keeps local state: $PUSHVAULT_DATA_DIR, else
// $XDG_DATA_HOME/pushvault, else ~/.local/share/pushvault.
func DataDir() string {
	if d := os.Getenv("PUSHVAULT_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "pushvault")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "pushvault")
	}
	return filepath.Join(home, ".local", "share", "pushvault")
}
