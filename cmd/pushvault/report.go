package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pushvault/pushvault/app/local"
)

const reportHelp = `Usage: pushvault report [--installation ID | --repo OWNER/REPO] [--format text|json|csv] [flags]

Sums up the evidence ledger, per repository and overall: secrets found,
vaulted, rotated, waiting for a person, closed and open; the oldest open
exposure; the time from detection to vaulted, rotated and closed (p50 and
p90). It reads the ledger pushvault evidence export reads, from the same
sources, so its figures are the ledger's.

A secret is a repository and a fingerprint (the key the pipeline records
each transition once by). From its records, in ledger order:
  found     it has a detected record (or, lacking one, any record below)
  vaulted   it has a vaulted record; time from its detected record
  rotated   its last rotation record is rotated, exposed_verified_dead or
            exposed_destroyed (pushvault rotated it) or marked_rotated (a
            person did); rotation_failed after them undoes it (the next run
            resumes); time from detection to the record that made it so
  waiting   open, and its last rotation record is rotation_manual (no
            rotator applies: a person rotates it, then pushvault rotated)
            or rotation_pending (held for approval)
  closed    it has a closed record (fix pull request merged, or marked a
            false positive); closed is final
  open      found and not closed
Oldest open: the open secret detected first, with its age. Percentiles are
nearest-rank over the secrets that reached the step. Other records
(inline_allowed, scan_skipped, action_refused, rotation_approved) are not
steps of a secret's remediation and are not counted. --installation takes
the repositories its repository_added records name (removed ones shown as
removed); every covered repository gets a row, clean ones too.

Formats: text (a table), json (one document: as_of, repositories[],
overall; see the README), csv (a header, one row per repository, then the
overall row). Exit status: 0 reported, 2 error (no such ledger,
installation or repository in it).

Flags:
`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushvault report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o local.ReportOptions
	fs.Int64Var(&o.Installation, "installation", 0, "only the repositories of GitHub App installation `ID`")
	fs.StringVar(&o.Repository, "repo", "", "only repository `OWNER/REPO`")
	fs.StringVar(&o.Format, "format", "text", "output `format`: text, json or csv")
	asOf := fs.String("as-of", "", "report the ledger as it stood at `TIME` (RFC 3339; default now)")
	fs.StringVar(&o.Source.Path, "ledger", "", "evidence ledger `file` (default $PUSHVAULT_DATA_DIR/evidence.jsonl)")
	fs.StringVar(&o.Source.NATS, "nats", "", "read pushvault serve's ledger from the NATS server at `URL`")
	fs.StringVar(&o.Source.NATSCreds, "nats-creds", "", "NATS credentials `file` for --nats")
	fs.StringVar(&o.Source.DataDir, "data-dir", "", "read pushvault serve's ledger from its embedded NATS store under `DIR` (serve must be stopped)")
	fs.Usage = func() {
		fmt.Fprint(stderr, reportHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pushvault report: unexpected arguments %q\n", fs.Args())
		return exitError
	}
	if o.Repository != "" && strings.Count(strings.Trim(o.Repository, "/"), "/") != 1 {
		fmt.Fprintln(stderr, "pushvault report: --repo wants OWNER/REPO")
		return exitError
	}
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			fmt.Fprintf(stderr, "pushvault report: --as-of %q: want an RFC 3339 time such as 2026-03-02T09:15:00Z\n", *asOf)
			return exitError
		}
		o.AsOf = t
	}
	if err := local.Report(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, "pushvault report:", err)
		return exitError
	}
	return exitOK
}
