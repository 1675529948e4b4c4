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
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/gitcli"
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
	// Ignored lists the keys the file set that the server keeps for
	// itself (see Server), for messages.
	Ignored []string

	set []string // the keys the file sets, for Server.Apply
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
	s := &Settings{Source: source, Scan: scan, Style: rewrite.Style(scan.FixStyle), set: keysSet(data)}
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

// DefaultBranch reads the settings that govern a push received by the
// repository at dir (a pre-receive hook): the settings file on its default
// branch (HEAD) as it is before the push is applied — never the pushed
// commits — under the server's srv. An unborn default branch gives the
// server's defaults.
func DefaultBranch(ctx context.Context, dir string, srv Server) (*Settings, error) {
	name, err := gitcli.Run(ctx, dir, nil, nil, "symbolic-ref", "--quiet", "--short", "HEAD")
	if err != nil {
		name = "HEAD"
	}
	if _, err := gitcli.Run(ctx, dir, nil, nil, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"); err != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return srv.Defaults(), nil
	}
	data, ok, err := scanner.ReadFileAt(ctx, dir, "HEAD", Path)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return srv.Defaults(), nil
	}
	s, err := Parse(name+":"+Path, data)
	if err != nil {
		return nil, err
	}
	return srv.Apply(s), nil
}

// Describe says in a few words where s came from, and which of the file's
// keys the server kept, for a check run or a hook's message.
func (s *Settings) Describe() string {
	d := s.Source
	if d == "" {
		d = "the defaults (no " + Path + " on the default branch)"
	}
	if len(s.Ignored) > 0 {
		d += "; ignored, the server's to set: " + strings.Join(s.Ignored, ", ")
	}
	return d
}

// ErrInvalid marks settings that do not parse: retrying cannot fix them,
// and the user must be told (check run, rejection message).
var ErrInvalid = errors.New("invalid settings")

// Protected is the ref whose settings file governs a push to branch: the
// default branch as it was before the push — for a push to the default
// branch its before commit, for any other branch the default branch's head
// — never the pushed commits, so a pusher cannot weaken the scan of their
// own push. "" means the repository's own file does not apply (a first push
// to the default branch): the organisation's and the server's do.
func Protected(defaultBranch, branch, before string) string {
	if branch != defaultBranch {
		return defaultBranch
	}
	if strings.Trim(before, "0") == "" {
		return ""
	}
	return before
}

// FromGitHub reads the settings file of owner/repo at ref (see Protected;
// "" skips the repository), falling back to the default branch of the
// owner's ".github" repository, else the defaults, under the server's srv
// (the organisation's file may set what a repository's may). An invalid
// file is an error wrapping ErrInvalid.
func FromGitHub(ctx context.Context, gh *github.Client, owner, repo, ref string, srv Server) (*Settings, error) {
	f, err := githubapp.LoadSettings(ctx, gh, owner, repo, ref, Path)
	if err != nil {
		return nil, err
	}
	if f.Data == nil {
		return srv.Defaults(), nil
	}
	s, err := Parse(f.Source, f.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return srv.Apply(s), nil
}
