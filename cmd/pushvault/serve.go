package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/internal/timerslack"
)

// runServe runs the GitHub App server until SIGINT or SIGTERM.
func runServe(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushvault serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "configuration `file` (YAML); every key can also be set with PUSHVAULT_<KEY> (see README)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: pushvault serve [--config FILE]\n\n"+
			"Runs the GitHub App: POST /webhook, GET /healthz, /readyz, /metrics, and the workers.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pushvault serve: unexpected arguments %q\n", fs.Args())
		return exitError
	}
	cfg, err := serve.LoadServeConfig(*config, nil)
	if err != nil {
		fmt.Fprintf(stderr, "pushvault serve: %v\n", err)
		return exitError
	}
	// Once the configuration is known good: from here on the process may
	// be the re-executed one, which loads it again.
	slackErr := timerslack.Monitor(cfg.MonitorSlack)
	log, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "pushvault serve: log_level:", err)
		return exitError
	}
	if slackErr != nil {
		log.Warn("monitor_slack not applied; serve runs with the kernel's timer slack", slog.Any("error", slackErr))
	}
	srv, err := serve.New(ctx, log, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pushvault serve: %v\n", err)
		return exitError
	}
	defer srv.Close()
	if err := srv.Run(ctx, nil); err != nil {
		fmt.Fprintf(stderr, "pushvault serve: %v\n", err)
		return exitError
	}
	return exitOK
}
