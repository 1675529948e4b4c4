package local

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/pushvault/pushvault/app/report"
	"github.com/pushvault/pushvault/remediator/evidence"
)

// ReportOptions are `pushvault report`'s: which ledger, which scope, which
// format and as of when (now when zero).
type ReportOptions struct {
	Source EvidenceSource
	report.Options
	Format string
}

// Report writes the ledger's remediation report to w. The ledger is read
// as `pushvault evidence export` reads it (same sources); a ledger that
// does not exist yet is an error, as is a scope it holds nothing of.
func Report(ctx context.Context, o ReportOptions, w io.Writer) error {
	if !validFormat(o.Format) {
		return fmt.Errorf("%w: unknown format %q (want text, json or csv)", ErrUsage, o.Format)
	}
	if o.Installation < 0 {
		return fmt.Errorf("%w: --installation wants a GitHub App installation id (a positive number)", ErrUsage)
	}
	if o.Installation != 0 && o.Repository != "" {
		return fmt.Errorf("%w: give --installation or --repo, not both", ErrUsage)
	}
	b, release, err := o.Source.open(ctx)
	if err != nil {
		return err
	}
	defer release()
	recs, err := evidence.New(b, nil).Records(ctx)
	if err != nil {
		return fmt.Errorf("evidence ledger %s: %w", o.Source, err)
	}
	if recs == nil && !o.Source.jetstream() {
		return fmt.Errorf("evidence ledger %s: %w", o.Source, fs.ErrNotExist)
	}
	if o.AsOf.IsZero() {
		o.AsOf = time.Now()
	}
	rep, err := report.Build(recs, o.Options)
	if err != nil {
		return err
	}
	return report.Write(w, rep, o.Format)
}

func validFormat(f string) bool {
	for _, k := range report.Formats {
		if f == k {
			return true
		}
	}
	return false
}
