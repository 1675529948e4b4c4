package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pushvault/pushvault/app/local"
)

const backfillUsage = `Usage:
  pushvault backfill (--installation ID | --repo OWNER/REPO) (--nats URL | --data-dir DIR)
  pushvault backfill status (--nats URL | --data-dir DIR) [--format text|json]

backfill queues a history backfill on pushvault serve's queue: every
repository the evidence ledger says the installation covers, or one
repository. serve's backfill workers run it (backfill.concurrency at a
time), apart from pushes. status shows where each repository's latest
backfill stands. --data-dir reads serve's embedded queue while serve is
stopped; jobs queued there run when it starts.`

// runBackfill is `pushvault backfill`.
func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	sub := "queue"
	if len(args) > 0 && args[0] == "status" {
		sub, args = "status", args[1:]
	}
	fs := flag.NewFlagSet("pushvault backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, backfillUsage); fs.PrintDefaults() }
	var src local.QueueSource
	fs.StringVar(&src.NATS, "nats", "", "pushvault serve's queue: the NATS server at `URL`")
	fs.StringVar(&src.NATSCreds, "nats-creds", "", "NATS credentials `file` for --nats")
	fs.StringVar(&src.DataDir, "data-dir", "", "pushvault serve's embedded queue under `DIR` (serve must be stopped)")
	var req local.BackfillRequest
	format := "text"
	if sub == "status" {
		fs.StringVar(&format, "format", "text", "`format`: text or json")
	} else {
		fs.Int64Var(&req.Installation, "installation", 0, "backfill every repository of installation `ID`")
		fs.StringVar(&req.Repo, "repo", "", "backfill repository `OWNER/REPO`")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pushvault backfill: unexpected arguments %q\n", fs.Args())
		return exitError
	}
	if sub == "status" {
		if err := local.BackfillStatus(ctx, src, format, stdout); err != nil {
			fmt.Fprintf(stderr, "pushvault backfill status: %v\n", err)
			return exitError
		}
		return exitOK
	}
	jobs, err := local.QueueBackfill(ctx, src, req, time.Now())
	for _, j := range jobs {
		fmt.Fprintf(stdout, "queued the history backfill of %s (request %s)\n", j.Repository(), j.Request)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pushvault backfill: %v\n", err)
		return exitError
	}
	return exitOK
}
