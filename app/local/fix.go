package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/internal/gitcli"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
	"github.com/pushvault/pushvault/scanner/report"
)

// FixResult is what `pushvault scan --fix` did.
type FixResult struct {
	Scan   *scanner.Result
	Plan   *remediator.Plan
	Commit remediator.FixCommit
	Head   string
	// Rotations are the rotation outcomes by finding id.
	Rotations map[string]rotate.Result
}

// Fix scans, vaults every distinct secret, rotates what the settings let
// it rotate, rewrites the files at the scanned head and commits them to
// pushvault/fix-<head7>. A Vault failure while vaulting stops it before
// anything is committed to git. A failed rotation does not stop the fix
// (the references hold either way): the report says where each rotation
// stands, and the error wraps ErrRotationFailed after the report is written.
func Fix(ctx context.Context, log *slog.Logger, opts ScanOptions, vcfg vault.Config, ledgerPath string, out io.Writer) (*FixResult, error) {
	write, err := reportWriter(opts.Format, opts.Version)
	if err != nil {
		return nil, err
	}
	settings, err := policy.Local(ctx, opts.Dir, opts.SettingsFile)
	if err != nil {
		return nil, err
	}
	vs, err := openVault(ctx, vcfg)
	if err != nil {
		return nil, err
	}
	led, err := openLedger(ctx, ledgerPath, vs.Transit)
	if err != nil {
		return nil, err
	}
	st, err := secretstore.Open(ctx, opts.Store, vs)
	if err != nil {
		return nil, err
	}
	sc := scanner.New(scanner.WithSettings(settings.Scan), scanner.WithVerify(opts.Verify),
		scanner.WithFingerprinter(vs.Transit.Fingerprinter(vault.FingerprintKey)), scanner.WithLogger(log))
	res, err := sc.Scan(ctx, opts.Dir, opts.Target)
	if err != nil {
		return nil, err
	}
	head, err := gitcli.Run(ctx, opts.Dir, nil, nil, "rev-parse", "--verify", opts.Target.Tip()+"^{commit}")
	if err != nil {
		return nil, err
	}
	owner, repo := gitcli.Repository(ctx, opts.Dir)
	if opts.Repository != "" {
		owner, repo, _ = strings.Cut(opts.Repository, "/")
	}
	fr := &FixResult{Scan: res, Head: head}
	actor := "pushvault (local: " + gitUser(ctx, opts.Dir) + ")"
	ropts := append([]rotate.Option{rotate.WithLogger(log)}, secretstore.RunnerOptions(st)...)
	out2, rotErr := remediator.NewPipeline(st, led).Run(ctx, remediator.Job{
		Owner: owner, Repo: repo, Findings: res.Findings, Style: settings.Style, Actor: actor,
		Read:     gitcli.NewFiles(opts.Dir, head).Read,
		Rotator:  rotate.NewRunner(vs.Client, settings.Rotation, remediator.RotationRecorder(led, actor), ropts...),
		Approved: opts.ApproveRotation,
		Fix:      gitcli.Branch{Dir: opts.Dir, Parent: head, Branch: remediator.FixBranch(head)},
	})
	fr.Plan, fr.Rotations, fr.Commit = out2.Plan, out2.Rotations, out2.Commit
	if rotErr != nil && !errors.Is(rotErr, remediator.ErrRotationFailed) {
		return nil, rotErr
	}
	switch opts.Format {
	case "json":
		err = writeFixJSON(out, vs, st, fr)
	default:
		if err = write(out, res); err == nil && (opts.Format == "" || opts.Format == "text") {
			writeFixText(out, secretstore.Describe(st, vs.Config.Address), fr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("writing report: %w", err)
	}
	return fr, rotErr
}

func gitUser(ctx context.Context, dir string) string {
	name, _ := gitcli.Run(ctx, dir, nil, nil, "config", "user.name")
	email, _ := gitcli.Run(ctx, dir, nil, nil, "config", "user.email")
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case name != "":
		return name
	}
	return "unknown user"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// fixJSON is the "fix" member `scan --fix --format json` adds to the report.
type fixJSON struct {
	Vault   string          `json:"vault"`
	Store   string          `json:"store,omitempty"` // set when the store is not Vault's KV
	Branch  string          `json:"branch,omitempty"`
	Commit  string          `json:"commit,omitempty"`
	Changed bool            `json:"changed"`
	Secrets []fixSecretJSON `json:"secrets"`
}

type fixSecretJSON struct {
	ID         string            `json:"id"`
	Detector   string            `json:"detector"`
	Path       string            `json:"vault_path"`
	Version    int               `json:"vault_version"`
	Created    bool              `json:"created"`
	References map[string]string `json:"references"`
	Edits      []fixEditJSON     `json:"edits"`
	Manual     []fixManualJSON   `json:"manual"`
	Rotation   *fixRotationJSON  `json:"rotation,omitempty"`
}

type fixRotationJSON struct {
	State            string   `json:"state"`
	Rotator          string   `json:"rotator,omitempty"`
	NewVersion       int      `json:"new_version,omitempty"`
	ExposedDead      bool     `json:"exposed_dead"`
	DeadCheck        string   `json:"dead_check,omitempty"`
	ExposedDestroyed bool     `json:"exposed_destroyed"`
	Attempt          int      `json:"attempt,omitempty"`
	Reason           string   `json:"reason,omitempty"`
	Guide            string   `json:"guide,omitempty"`
	Steps            []string `json:"steps,omitempty"`
}

type fixEditJSON struct {
	Path    string `json:"path"`
	Line    int    `json:"line"`
	EnvName string `json:"env_name,omitempty"`
	Ref     string `json:"reference"`
	Deleted bool   `json:"deleted,omitempty"`
}

type fixManualJSON struct {
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Step   string `json:"step"`
}

func writeFixJSON(w io.Writer, vs *vault.Session, st secretstore.Store, fr *FixResult) error {
	fx := fixJSON{Vault: vs.Config.Address, Branch: fr.Commit.Branch, Commit: fr.Commit.Commit, Changed: fr.Commit.Changed, Secrets: []fixSecretJSON{}}
	if d := secretstore.Describe(st, vs.Config.Address); d != "Vault "+vs.Config.Address {
		fx.Store = d
	}
	for _, v := range fr.Plan.Secrets {
		s := fixSecretJSON{ID: v.Finding.ID, Detector: v.Finding.Detector, Path: v.Location(),
			Version: v.Stored.Version, Created: v.Stored.Created, References: map[string]string{},
			Edits: []fixEditJSON{}, Manual: []fixManualJSON{}}
		for k, r := range v.Refs {
			s.References[k] = r.Vault()
		}
		for _, e := range v.Edits {
			s.Edits = append(s.Edits, fixEditJSON{Path: e.Path, Line: e.Line, EnvName: e.EnvName, Ref: e.Ref.Vault(), Deleted: e.Deleted})
		}
		for _, m := range v.Manual {
			s.Manual = append(s.Manual, fixManualJSON{Path: m.Path, Line: m.Line, Reason: m.Reason, Step: m.Step})
		}
		if rr, ok := fr.Rotations[v.Finding.ID]; ok {
			s.Rotation = &fixRotationJSON{State: string(rr.State), Rotator: rr.Rotator, NewVersion: rr.NewVersion, ExposedDead: rr.ExposedDead,
				DeadCheck: rr.DeadCheck, ExposedDestroyed: rr.ExposedDestroyed, Attempt: rr.Attempt, Reason: rr.Reason, Guide: rr.Guide}
			for _, st := range rr.Steps {
				s.Rotation.Steps = append(s.Rotation.Steps, strings.ReplaceAll(st, "<finding id>", v.Finding.ID))
			}
		}
		fx.Secrets = append(fx.Secrets, s)
	}
	doc := struct {
		report.JSONReport
		Fix fixJSON `json:"fix"`
	}{report.NewJSON(fr.Scan), fx}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func writeFixText(w io.Writer, store string, fr *FixResult) {
	plan := fr.Plan
	fmt.Fprintf(w, "\n%s: %d secret%s\n", store, len(plan.Secrets), plural(len(plan.Secrets)))
	for _, v := range plan.Secrets {
		state := "already vaulted"
		if v.Stored.Created {
			state = "vaulted now"
		}
		fmt.Fprintf(w, "  %s %s %s -> %s version %d (%s)\n", v.Finding.Detector, v.Finding.Redacted, v.Finding.ID,
			v.Location(), v.Stored.Version, state)
		keys := make([]string, 0, len(v.Refs))
		for k := range v.Refs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "      %-18s %s\n", k, v.Refs[k].Vault())
		}
		for _, e := range v.Edits {
			verb := "edited"
			if e.Deleted {
				verb = "deleted"
			}
			fmt.Fprintf(w, "      %s %s:%d -> %s (%s)\n", verb, e.Path, e.Line, e.EnvName, e.Ref.Vault())
		}
		for _, m := range v.Manual {
			fmt.Fprintf(w, "      manual %s: %s; %s\n", m.Where(), m.Reason, m.Step)
		}
		if rr, ok := fr.Rotations[v.Finding.ID]; ok {
			fmt.Fprintf(w, "      rotation: %s\n", rotationLine(rr, v.Stored.Version))
			if rr.State == rotate.StateManual {
				if rr.Guide != "" {
					fmt.Fprintf(w, "        provider guide: %s\n", rr.Guide)
				}
				for i, st := range rr.Steps {
					fmt.Fprintf(w, "        %d. %s\n", i+1, strings.ReplaceAll(st, "<finding id>", v.Finding.ID))
				}
			}
		}
	}
	switch {
	case fr.Commit.Branch == "":
		fmt.Fprintln(w, "No file could be rewritten automatically; nothing committed.")
	case fr.Commit.Changed:
		fmt.Fprintf(w, "Fix branch %s at %s (%d file%s). Review: git diff %s %s\n", fr.Commit.Branch, fr.Commit.Commit[:7],
			len(plan.Files), plural(len(plan.Files)), fr.Head[:7], fr.Commit.Branch)
	default:
		fmt.Fprintf(w, "Fix branch %s at %s already holds this fix; unchanged.\n", fr.Commit.Branch, fr.Commit.Commit[:7])
	}
}
