package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pushvault/pushvault/app"
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
	cfg, err := app.LoadServeConfig(*config, nil)
	if err != nil {
		fmt.Fprintf(stderr, "pushvault serve: %v\n", err)
		return exitError
	}
	log, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "pushvault serve: log_level:", err)
		return exitError
	}
	svc, err := app.OpenServices(ctx, log, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "pushvault serve: %v\n", err)
		return exitError
	}
	defer svc.Close()
	h := svc.BaseHandlers()
	pp := app.NewPushPipeline(svc)
	h["push"] = pp
	h["pull_request"] = app.NewPullRequestHandler(pp)
	h["check_run"] = app.NewCheckRunHandler(pp)
	d := app.NewDispatcher(h)
	if err := svc.Run(ctx, d, nil); err != nil {
		fmt.Fprintf(stderr, "pushvault serve: %v\n", err)
		return exitError
	}
	return exitOK
}
