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

	"github.com/pushvault/pushvault/app/local"
	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/remediator/vault"
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
                 [--fix [--repository OWNER/REPO] [--ledger FILE] [--approve-rotation]]
  pushvault rotated FINDING-ID --actor NAME [--ledger FILE | --nats URL | --data-dir DIR] [--config FILE]
  pushvault exec [--env-file FILE]... -- COMMAND [ARGS...]
  pushvault hook pre-receive [--budget DURATION] [--on-timeout reject|accept] [--repository OWNER/REPO]
  pushvault hook install REPO.git
  pushvault serve --config FILE
  pushvault setup [--manifest app.yml] [--github-url URL] [--api-url URL] [--org ORG] [--webhook-url URL] [--out DIR]
  pushvault backfill (--installation ID | --repo OWNER/REPO) (--nats URL | --data-dir DIR)
  pushvault backfill status (--nats URL | --data-dir DIR) [--format text|json]
  pushvault evidence verify [--ledger FILE | --nats URL | --data-dir DIR]
  pushvault evidence export [--ledger FILE | --nats URL | --data-dir DIR] [--format jsonl|md]
  pushvault report [--installation ID | --repo OWNER/REPO] [--format text|json|csv] [--ledger FILE | --nats URL | --data-dir DIR]
  pushvault version

Vault is reached through VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE and VAULT_CACERT.

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
	case "evidence":
		return runEvidence(ctx, args[1:], stdout, stderr)
	case "backfill":
		return runBackfill(ctx, args[1:], stdout, stderr)
	case "rotated":
		return runRotated(ctx, args[1:], stdout, stderr)
	case "report":
		return runReport(ctx, args[1:], stdout, stderr)
	case "exec":
		return runExec(ctx, args[1:], stderr)
	case "hook":
		return runHook(ctx, args[1:], os.Stdin, stdout, stderr)
	case "setup":
		return runSetup(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stderr)
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
		fix       = fs.Bool("fix", false, "vault every secret found and commit the rewrites to branch pushvault/fix-<head7> (needs Vault)")
		repoName  = fs.String("repository", "", "`owner/repo` for Vault paths (default: from the origin remote)")
		ledger    = fs.String("ledger", "", "evidence ledger `file` (default $PUSHVAULT_DATA_DIR/evidence.jsonl)")
		approve   = fs.Bool("approve-rotation", false, "with --fix: run rotations the settings hold for approval (rotation.approval: required)")
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
	if *repoName != "" && !strings.Contains(strings.Trim(*repoName, "/"), "/") {
		fmt.Fprintln(stderr, "pushvault scan: --repository wants OWNER/REPO")
		return exitError
	}
	opts := local.ScanOptions{
		Dir: dir, Target: target, Format: *format, SettingsFile: *config, Verify: *verify, Version: version, Repository: *repoName,
		ApproveRotation: *approve,
	}
	if *fix {
		// The store is the operator's (PUSHVAULT_STORE_*), never the
		// repository's settings file's.
		if opts.Store, err = secretstore.FromEnv(secretstore.Config{}, os.Getenv); err != nil {
			fmt.Fprintln(stderr, "pushvault scan:", err)
			return exitError
		}
	}
	var res *scanner.Result
	if *fix {
		var fr *local.FixResult
		fr, err = local.Fix(ctx, log, opts, vault.Config{}, *ledger, stdout)
		if errors.Is(err, local.ErrRotationFailed) {
			// The fix and its report are written; the rotation is retried
			// by the next run.
			fmt.Fprintln(stderr, "pushvault scan:", err)
			return exitError
		}
		if err == nil {
			res = fr.Scan
		}
	} else {
		res, err = local.Scan(ctx, log, opts, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "pushvault scan:", err)
		return exitError
	}
	if len(res.Findings) > 0 {
		return exitFindings
	}
	return exitOK
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runExec(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushvault exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var files stringList
	fs.Var(&files, "env-file", "env `file` of NAME=value lines whose vault references are resolved (repeatable; default vault.env if present)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: pushvault exec [--env-file FILE]... -- COMMAND [ARGS...]\n\n"+
			"Resolves vault references (vault:PATH#KEY, ref+vault://PATH#/KEY, ${vault:PATH#KEY} inside a value)\n"+
			"in the env files and the inherited environment, then runs COMMAND with them.\n"+
			"Vault is reached through VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE and VAULT_CACERT.\n"+
			"AWS Secrets Manager references (ref+awssecrets://NAME?region=R#/KEY, also inside ${...}) are resolved\n"+
			"with the standard AWS credential chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, web identity, instance role);\n"+
			"PUSHVAULT_STORE_AWS_ENDPOINT or AWS_ENDPOINT_URL_SECRETS_MANAGER replaces the endpoint.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if len(files) == 0 {
		if _, err := os.Stat("vault.env"); err == nil {
			files = append(files, "vault.env")
		}
	}
	sc, err := secretstore.FromEnv(secretstore.Config{}, os.Getenv)
	if err == nil {
		err = local.Exec(ctx, local.ExecOptions{EnvFiles: files, Store: sc, Command: fs.Args()})
	}
	fmt.Fprintln(stderr, "pushvault exec:", err)
	return exitError
}

func runRotated(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushvault rotated", flag.ContinueOnError)
	fs.SetOutput(stderr)
	actor := fs.String("actor", "", "`name` of the person who rotated the credential (required; recorded in the ledger)")
	ledger := fs.String("ledger", "", "evidence ledger `file` (default $PUSHVAULT_DATA_DIR/evidence.jsonl)")
	config := fs.String("config", "", "settings `file` whose rotation section applies (destroy_exposed)")
	var src local.EvidenceSource
	fs.StringVar(&src.NATS, "nats", "", "record it in pushvault serve's ledger on the NATS server at `URL` (findings of the GitHub App)")
	fs.StringVar(&src.NATSCreds, "nats-creds", "", "NATS credentials `file` for --nats")
	fs.StringVar(&src.DataDir, "data-dir", "", "record it in pushvault serve's embedded NATS store under `DIR` (serve must be stopped)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: pushvault rotated FINDING-ID --actor NAME [flags]\n\n"+
			"Records that a person rotated a finding pushvault could not rotate (rotation_manual).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var id string
	rest := args
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		id, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pushvault rotated: unexpected arguments %q\n", fs.Args())
		return exitError
	}
	if id == "" || strings.TrimSpace(*actor) == "" {
		fs.Usage()
		return exitError
	}
	err := local.MarkRotated(ctx, local.MarkRotatedOptions{FindingID: id, Actor: *actor, Ledger: *ledger, SettingsFile: *config, Source: src}, vault.Config{}, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "pushvault rotated:", err)
		return exitError
	}
	return exitOK
}

func runEvidence(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const evidenceUsage = "Usage: pushvault evidence verify|export [--ledger FILE | --nats URL | --data-dir DIR] [--format jsonl|md]"
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, evidenceUsage)
		return exitOK
	}
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		fmt.Fprintln(stderr, evidenceUsage)
		return exitError
	}
	sub := args[0]
	fs := flag.NewFlagSet("pushvault evidence "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var src local.EvidenceSource
	fs.StringVar(&src.Path, "ledger", "", "evidence ledger `file` (default $PUSHVAULT_DATA_DIR/evidence.jsonl)")
	fs.StringVar(&src.NATS, "nats", "", "read pushvault serve's ledger from the NATS server at `URL`")
	fs.StringVar(&src.NATSCreds, "nats-creds", "", "NATS credentials `file` for --nats")
	fs.StringVar(&src.DataDir, "data-dir", "", "read pushvault serve's ledger from its embedded NATS store under `DIR` (serve must be stopped)")
	format := fs.String("format", "jsonl", "export `format`: jsonl or md")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pushvault evidence %s: unexpected arguments %q\n", sub, fs.Args())
		return exitError
	}
	var err error
	if sub == "verify" {
		var summary string
		if summary, err = local.VerifyEvidence(ctx, src, vault.Config{}); err == nil {
			fmt.Fprintln(stdout, summary)
		}
	} else {
		err = local.ExportEvidence(ctx, src, *format, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pushvault evidence %s: %v\n", sub, err)
		return exitError
	}
	return exitOK
}
