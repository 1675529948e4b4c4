package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pushvault/pushvault/app/local"
)

const hookUsage = "Usage: pushvault hook pre-receive [--budget DURATION] [--on-timeout reject|accept] [--repository OWNER/REPO]\n" +
	"       pushvault hook install REPO.git\n"

func runHook(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, hookUsage)
		return exitError
	}
	switch args[0] {
	case "pre-receive":
		return runPreReceive(ctx, args[1:], stdin, stderr)
	case "install":
		return runHookInstall(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, hookUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "pushvault hook: unknown subcommand %q\n%s", args[0], hookUsage)
	return exitError
}

// runPreReceive is the hook itself. Everything it prints goes to stderr,
// which git relays to the pusher as "remote: " lines. Any non-zero status
// rejects the push: 1 for findings or a timeout under the reject policy, 2
// when the hook itself fails.
func runPreReceive(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushvault hook pre-receive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		budget    = fs.Duration("budget", 0, "time `limit` for the whole hook (default $PUSHVAULT_HOOK_BUDGET, git config pushvault.budget, else 4s)")
		onTimeout = fs.String("on-timeout", "", "`policy` when the budget runs out: reject or accept (default git config pushvault.onTimeout, else reject)")
		repoName  = fs.String("repository", "", "`owner/repo` for Vault paths (default git config pushvault.repository, else local/<directory>)")
		logLevel  = fs.String("log-level", "error", "log `level` on stderr: debug, info, warn, error")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "pushvault hook:", err)
		return exitError
	}
	// git runs pre-receive with the repository as working directory.
	opts, err := local.ResolveHookOptions(ctx, local.HookOptions{
		Dir: ".", Budget: *budget, OnTimeout: *onTimeout, Repository: *repoName,
	}, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "pushvault: hook misconfigured, push rejected: %v\n", err)
		return exitError
	}
	v, err := local.PreReceive(ctx, log, opts, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "pushvault: error, push rejected: %v\n", err)
		return exitError
	}
	if v.Accept {
		return exitOK
	}
	return exitFindings
}

func runHookInstall(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pushvault hook install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, "pushvault hook install: want one bare repository\n"+hookUsage)
		return exitError
	}
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		fmt.Fprintln(stderr, "pushvault hook install: finding the pushvault binary:", err)
		return exitError
	}
	if err := local.HookInstall(ctx, fs.Arg(0), self, stdout); err != nil {
		fmt.Fprintln(stderr, "pushvault hook install:", err)
		return exitError
	}
	return exitOK
}
