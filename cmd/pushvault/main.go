// Command pushvault moves secrets pushed to git repositories into HashiCorp
// Vault. See README.md for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pushvault/pushvault/app"
	"github.com/pushvault/pushvault/scanner"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses shared by every command.
const (
	exitOK       = 0
	exitFindings = 1
	exitError    = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `pushvault moves secrets pushed to git into HashiCorp Vault.

Usage:
  pushvault scan [DIR] [--range A..B | --all] [--format text|json|sarif] [--config FILE] [--verify]
  pushvault version

Exit status: 0 nothing found, 1 secrets found, 2 error.
Run 'pushvault COMMAND -h' for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "scan":
		return runScan(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "pushvault", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "pushvault: unknown command %q\n\n%s", args[0], usage)
	return exitError
}

// newLogger writes JSON logs to w at the given level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushvault scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		rangeFlag = fs.String("range", "", "scan the commits in `A..B` (reachable from B, not from A)")
		all       = fs.Bool("all", false, "scan every commit reachable from any ref")
		format    = fs.String("format", "text", "output `format`: text, json or sarif")
		config    = fs.String("config", "", "settings `file` (default: the repository's .github/pushvault.yml)")
		verify    = fs.Bool("verify", false, "ask each provider whether found secrets are live (network calls)")
		logLevel  = fs.String("log-level", "warn", "log `level` on stderr: debug, info, warn, error")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: pushvault scan [DIR] [flags]\n\nScans a git repository's history for secrets (default: every commit reachable from HEAD).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	dir, rest := ".", args
	// Allow the directory before or after the flags.
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		dir, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 1 || (fs.NArg() == 1 && dir != ".") {
		fmt.Fprintf(stderr, "pushvault scan: one directory at most, got %q\n", append([]string{dir}, fs.Args()...))
		return exitError
	}
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "pushvault scan:", err)
		return exitError
	}
	target := scanner.Reachable("HEAD")
	switch {
	case *rangeFlag != "" && *all:
		fmt.Fprintln(stderr, "pushvault scan: --range and --all can't be used together")
		return exitError
	case *rangeFlag != "":
		if target, err = scanner.ParseRange(*rangeFlag); err != nil {
			fmt.Fprintln(stderr, "pushvault scan:", err)
			return exitError
		}
	case *all:
		target = scanner.All()
	}
	res, err := app.Scan(ctx, log, app.ScanOptions{
		Dir: dir, Target: target, Format: *format, SettingsFile: *config, Verify: *verify, Version: version,
	}, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "pushvault scan:", err)
		return exitError
	}
	if len(res.Findings) > 0 {
		return exitFindings
	}
	return exitOK
}
