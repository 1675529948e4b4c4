// Package policy owns pushvault's settings file, .github/pushvault.yml: it
// is the one place that knows the file's path, reads it for each entry
// point (a checkout for the CLI, a commit for the hook, GitHub for the
// App) and parses it once into its sections — the scanner's (allowlist,
// detectors, scan limits), the fix's style and the rotation section — with
// one strict walker, every problem reported at once with file and line.
// No package below app/ reads a settings file.
package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/scanner"
)

// Path is where a repository keeps its pushvault settings.
const Path = ".github/pushvault.yml"

// Settings are a settings file parsed into its sections. The zero
// sections are the defaults.
type Settings struct {
	// Source says where the settings came from, for messages
	// ("acme/shop@1a2b3c4:.github/pushvault.yml"); "" for the defaults.
	Source string
	// Scan is what the scanner takes: allowlists, custom detectors, limits.
	Scan *scanner.Settings
	// Style is how the fix writes references into config files.
	Style rewrite.Style
	// Rotation is the rotation section (zero when the file has none).
	Rotation rotate.Settings
}

// Defaults are the settings of a repository without a settings file.
func Defaults() *Settings {
	return &Settings{Scan: &scanner.Settings{MaxFileBytes: scanner.DefaultMaxFileBytes}, Style: rewrite.StyleVault}
}

// Parse decodes a settings file strictly (unknown keys, wrong types,
// invalid regexes and globs are errors) into its sections. source names the
// file in messages; every problem of every section is returned at once.
func Parse(source string, data []byte) (*Settings, error) {
	scan, scanErr := scanner.ParseSettings(source, data)
	if scan == nil { // not YAML at all
		return nil, scanErr
	}
	var rotErr error
	s := &Settings{Source: source, Scan: scan, Style: rewrite.Style(scan.FixStyle)}
	if s.Style == "" {
		s.Style = rewrite.StyleVault
	}
	if scan.Rotation != nil {
		s.Rotation, rotErr = rotate.ParseSettings(source, scan.Rotation)
	}
	if err := errors.Join(scanErr, rotErr); err != nil {
		return nil, err
	}
	return s, nil
}

// Local reads the settings for a command run on a checkout: the file given
// on the command line, else the repository's settings file in its working
// tree, else at HEAD, else the defaults. (The local CLI runs on one's own
// checkout, so the working tree's settings apply.)
func Local(ctx context.Context, dir, file string) (*Settings, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return Parse(file, data)
	}
	wt := filepath.Join(dir, filepath.FromSlash(Path))
	if data, err := os.ReadFile(wt); err == nil {
		s, err := Parse(Path, data)
		if s != nil {
			s.Source = wt
		}
		return s, err
	}
	data, ok, err := scanner.ReadFileAt(ctx, dir, "HEAD", Path)
	if err != nil || !ok {
		// No HEAD yet or no settings file: defaults. A repository that is not
		// one at all is reported by the scan itself.
		return Defaults(), nil
	}
	return Parse("HEAD:"+Path, data)
}

// AtCommit reads the settings file of commit in the repository at dir
// (the defaults when it has none).
func AtCommit(ctx context.Context, dir, commit string) (*Settings, error) {
	data, ok, err := scanner.ReadFileAt(ctx, dir, commit, Path)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return Defaults(), nil
	}
	return Parse(shortID(commit)+":"+Path, data)
}

// ErrInvalid marks settings that do not parse: retrying cannot fix them,
// and the user must be told (check run, rejection message).
var ErrInvalid = errors.New("invalid settings")

// FromGitHub reads the settings file of owner/repo at sha, falling back to
// the default branch of the owner's ".github" repository, else the
// defaults. An invalid file is an error wrapping ErrInvalid.
func FromGitHub(ctx context.Context, gh *github.Client, owner, repo, sha string) (*Settings, error) {
	f, err := githubapp.LoadSettings(ctx, gh, owner, repo, sha, Path)
	if err != nil {
		return nil, err
	}
	if f.Data == nil {
		return Defaults(), nil
	}
	s, err := Parse(f.Source, f.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return s, nil
}

func shortID(id string) string {
	if len(id) > 7 {
		return id[:7]
	}
	return id
}
