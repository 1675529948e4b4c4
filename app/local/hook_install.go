package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pushvault/pushvault/internal/gitcli"
)

// hookMarker identifies a pre-receive hook written by HookInstall, so a
// reinstall replaces it instead of chaining it to itself.
const hookMarker = "# installed by pushvault hook install"

// HookInstall installs the pre-receive hook into the bare repository at
// repoDir: hooks/pre-receive runs binary (an absolute path) as
// `hook pre-receive`. An existing pre-receive hook that pushvault did not
// write is kept as hooks/pre-receive.chained and runs first, with the same
// input; if it rejects, the push is rejected. It also sets
// receive.advertisePushOptions so `-o pushvault.skip=...` reaches the hook.
// Instructions for the pusher's server go to out.
func HookInstall(ctx context.Context, repoDir, binary string, out io.Writer) error {
	if !filepath.IsAbs(binary) {
		return fmt.Errorf("the pushvault binary path %q is not absolute", binary)
	}
	bare, err := gitcli.Run(ctx, repoDir, nil, nil, "rev-parse", "--is-bare-repository")
	if err != nil {
		return fmt.Errorf("%s is not a git repository: %w", repoDir, err)
	}
	if bare != "true" {
		return fmt.Errorf("%s is not a bare repository (pre-receive hooks run on the server's bare repository)", repoDir)
	}
	gitDir, err := gitcli.Run(ctx, repoDir, nil, nil, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return err
	}
	hooks := filepath.Join(gitDir, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return err
	}
	hook := filepath.Join(hooks, "pre-receive")
	chained := filepath.Join(hooks, "pre-receive.chained")
	existing, err := os.ReadFile(hook)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case strings.Contains(string(existing), hookMarker):
		// Ours: rewritten below (the binary may have moved).
	default:
		if _, err := os.Stat(chained); err == nil {
			return fmt.Errorf("both %s and %s exist; merge them by hand first", hook, chained)
		}
		if err := os.Rename(hook, chained); err != nil {
			return fmt.Errorf("keeping the existing hook: %w", err)
		}
		fmt.Fprintf(out, "Kept the existing pre-receive hook as %s; it runs first.\n", chained)
	}
	if err := writeFileAtomic(hook, []byte(hookScript(binary)), 0o755); err != nil {
		return err
	}
	if _, err := gitcli.Run(ctx, repoDir, nil, nil, "config", "receive.advertisePushOptions", "true"); err != nil {
		return err
	}
	fmt.Fprintf(out, "Installed %s (runs %s hook pre-receive).\n", hook, binary)
	fmt.Fprint(out, hookInstructions)
	return nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func hookScript(binary string) string {
	return `#!/bin/sh
` + hookMarker + `
# Settings: git config pushvault.budget (default 4s), pushvault.onTimeout
# (reject or accept), pushvault.repository (owner/repo for Vault paths).
set -e
dir=$(dirname "$0")
if [ -x "$dir/pre-receive.chained" ]; then
	input=$(cat)
	printf '%s\n' "$input" | "$dir/pre-receive.chained" "$@"
	printf '%s\n' "$input" | exec ` + shellQuote(binary) + ` hook pre-receive
fi
exec ` + shellQuote(binary) + ` hook pre-receive
`
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".pushvault-tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

const hookInstructions = `Pushes to this repository are now scanned; -o pushvault.skip=<reason> bypasses the scan
for the identities listed in git config pushvault.skipAllowed (nobody by default), and is recorded.
Vault: set VAULT_ADDR and VAULT_TOKEN in the environment the hook runs in.
Other servers:
  GitHub Enterprise Server: add the static pushvault binary and a script running
    "pushvault hook pre-receive" to a pre-receive hook environment and repository
    (Site admin > Hooks), enforcement "enabled".
  GitLab: put this hooks/pre-receive under the repository's custom_hooks/ (or the
    server-wide custom_hooks_dir) on the Gitaly node.
  Gitea: Repository settings > Git Hooks > pre-receive, with the same script
    (needs the "may add git hooks" permission).
`
