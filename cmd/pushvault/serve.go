package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pushvault/pushvault/app/serve"
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
	log, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(stderr, "pushvault serve: log_level:", err)
		return exitError
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
