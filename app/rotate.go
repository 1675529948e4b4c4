package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

// ErrRotationFailed says that at least one rotation failed; the report
// says which and why, and a rerun retries them.
var ErrRotationFailed = errors.New("rotation failed")

// rotationSettings decodes the settings file's rotation section.
func rotationSettings(s *scanner.Settings, source string) (rotate.Settings, error) {
	if s == nil || s.Rotation == nil {
		return rotate.Settings{}, nil
	}
	if source == "" {
		source = scanner.SettingsPath
	}
	return rotate.ParseSettings(source, s.Rotation)
}

// target describes a vaulted finding for the rotation runner.
func target(repo string, store remediator.SecretStore, v *remediator.Vaulted, approved, unreplaced bool) rotate.Target {
	data := rotate.Data{}
	for k, s := range v.Data() {
		data[k] = s.Reveal()
	}
	return rotate.Target{Repository: repo, FindingID: v.Finding.ID, Fingerprint: string(v.Finding.Fingerprint),
		Detector: v.Finding.Detector, Name: v.Name, SourcePath: v.Finding.First().Path,
		Mount: store.Mount(), Path: v.Stored.Path, ExposedVersion: v.Stored.Version, Exposed: data, Approved: approved, Unreplaced: unreplaced}
}

// rotateAll runs the rotation of every vaulted secret, one after the other,
// and points the references of rotated credentials where they now live.
// Every secret is tried; the error joins the failures.
func rotateAll(ctx context.Context, r *rotate.Runner, repo string, store remediator.SecretStore, plan *remediator.Plan, approved bool, unreplaced map[string]bool) (map[string]rotate.Result, error) {
	out := map[string]rotate.Result{}
	var errs []error
	targets := make([]rotate.Target, len(plan.Secrets))
	for i, v := range plan.Secrets {
		targets[i] = target(repo, store, v, approved, unreplaced[v.Finding.ID])
	}
	r.Prepare(ctx, targets)
	for i, v := range plan.Secrets {
		res, err := r.Run(ctx, targets[i])
		out[v.Finding.ID] = res
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", v.Finding.Detector, v.Finding.ID, err))
			continue
		}
		if len(res.Refs) > 0 {
			refs := map[string]rewrite.Ref{}
			for k, ref := range res.Refs {
				refs[k] = rewrite.Ref{API: ref.Path, Key: ref.Key}
			}
			v.Refs = refs
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%w: %w", ErrRotationFailed, errors.Join(errs...))
	}
	return out, nil
}

// ledgerRecorder records rotation events in the evidence ledger.
type ledgerRecorder struct {
	l     *ledger
	actor string
}

func (lr ledgerRecorder) Record(ctx context.Context, t rotate.Target, e rotate.Event) error {
	detail := map[string]string{}
	for k, v := range e.Detail {
		detail[k] = v
	}
	if e.Attempt > 0 {
		detail["attempt"] = strconv.Itoa(e.Attempt)
	}
	actor := e.Actor
	if actor == "" {
		actor = lr.actor
	}
	r := evidence.Record{FindingID: t.FindingID, Fingerprint: t.Fingerprint, Repository: t.Repository, Transition: e.Transition,
		Actor: actor, VaultPath: t.Mount + "/" + t.Path, VaultVersion: e.Version, Rotation: e.Rotator, Detail: detail}
	return lr.l.append(ctx, r)
}

// rotationLine says in one line where a rotation stands.
func rotationLine(res rotate.Result, exposed int) string {
	switch res.State {
	case rotate.StateRotated:
		var parts []string
		parts = append(parts, "rotated by "+res.Rotator)
		switch {
		case res.ExposedDead:
			parts = append(parts, "exposed value proven dead")
		case res.DeadCheck != "":
			parts = append(parts, res.DeadCheck)
		}
		if res.ExposedDestroyed {
			parts = append(parts, fmt.Sprintf("version %d destroyed", exposed))
		}
		if res.NewVersion > 0 {
			parts = append(parts, fmt.Sprintf("current version %d", res.NewVersion))
		}
		if res.Already {
			parts = append(parts, "done earlier")
		}
		return strings.Join(parts, "; ")
	case rotate.StateMarkedRotated:
		return "rotated by hand (marked)"
	case rotate.StateManual:
		return "manual: rotate it yourself, then run: pushvault rotated FINDING-ID --actor NAME"
	case rotate.StatePending:
		return "waits for approval: " + res.Reason + "; rerun with --approve-rotation"
	case rotate.StateFailed:
		return fmt.Sprintf("FAILED (attempt %d): %s; rerun pushvault scan --fix to retry", res.Attempt, res.Reason)
	}
	return string(res.State)
}

// MarkRotatedOptions name a finding rotated by hand.
type MarkRotatedOptions struct {
	FindingID string
	Actor     string
	Ledger    string
	// Source, when it names pushvault serve's ledger (NATS or DataDir),
	// is used instead of the file Ledger.
	Source EvidenceSource
	// Settings is the settings file whose rotation section applies
	// (destroy_exposed); default: none (destroy).
	SettingsFile string
	Dir          string
}

// MarkRotated records that a person rotated a finding pushvault could not:
// the finding is found in the evidence ledger (its vaulted record), its
// vault secret's state becomes rotated_manually, the exposed version is
// destroyed when a newer one holds the replacement, and marked_rotated is
// recorded with the actor.
func MarkRotated(ctx context.Context, opts MarkRotatedOptions, vcfg vault.Config, out io.Writer) error {
	if opts.FindingID == "" || strings.TrimSpace(opts.Actor) == "" {
		return fmt.Errorf("%w: pushvault rotated FINDING-ID --actor NAME", ErrUsage)
	}
	var rs rotate.Settings
	if opts.SettingsFile != "" || opts.Dir != "" {
		settings, source, err := loadSettings(ctx, opts.Dir, opts.SettingsFile)
		if err != nil {
			return err
		}
		if rs, err = rotationSettings(settings, source); err != nil {
			return err
		}
	}
	vs, err := openVault(ctx, vcfg)
	if err != nil {
		return err
	}
	var led *ledger
	if opts.Source.jetstream() {
		// pushvault serve's ledger (the GitHub App's findings).
		b, release, err := opts.Source.open(ctx)
		if err != nil {
			return err
		}
		defer release()
		l := evidence.New(b, evidence.TransitSigner{T: vs.transit, Key: EvidenceKey})
		recs, err := l.Records(ctx)
		if err != nil {
			return fmt.Errorf("evidence ledger %s: %w", opts.Source, err)
		}
		led = &ledger{l: l, seen: map[string]bool{}}
		for _, r := range recs {
			led.seen[ledgerKey(r)] = true
		}
	} else if led, err = openLedger(opts.Ledger, vs.transit); err != nil {
		return err
	}
	recs, err := led.l.Records(ctx)
	if err != nil {
		return err
	}
	var vaulted *evidence.Record
	for i := range recs {
		if recs[i].FindingID == opts.FindingID && recs[i].Transition == evidence.Vaulted {
			vaulted = &recs[i]
		}
	}
	if vaulted == nil {
		return fmt.Errorf("%w: finding %s was never vaulted according to the ledger %s", ErrUsage, opts.FindingID, ledgerPathOr(opts.Ledger))
	}
	mount, path, ok := strings.Cut(vaulted.VaultPath, "/")
	if !ok {
		return fmt.Errorf("ledger record %d: vault path %q has no mount", vaulted.Seq, vaulted.VaultPath)
	}
	t := rotate.Target{Repository: vaulted.Repository, FindingID: vaulted.FindingID, Fingerprint: vaulted.Fingerprint,
		Detector: vaulted.Detail["detector"], Mount: mount, Path: path, ExposedVersion: vaulted.VaultVersion}
	r := rotate.NewRunner(vs.client, rs, ledgerRecorder{l: led, actor: opts.Actor})
	res, err := r.MarkRotated(ctx, t, opts.Actor)
	if err != nil {
		return vault.Explain(vs.cfg.Address, err)
	}
	switch {
	case res.Already:
		fmt.Fprintf(out, "finding %s: already %s; nothing recorded\n", opts.FindingID, res.State)
	case res.ExposedDestroyed:
		fmt.Fprintf(out, "finding %s: marked rotated by %s; exposed version %d of %s destroyed (current version %d)\n",
			opts.FindingID, opts.Actor, t.ExposedVersion, vaulted.VaultPath, res.NewVersion)
	default:
		fmt.Fprintf(out, "finding %s: marked rotated by %s; %s version %d still holds the exposed value: write the replacement with `vault kv put -cas=%d %s value=-`, it is not destroyed until then\n",
			opts.FindingID, opts.Actor, vaulted.VaultPath, res.NewVersion, res.NewVersion, vaulted.VaultPath)
	}
	return nil
}

// unreplacedUses runs the rewrite on a copy of plan to learn, before any
// rotation, which secrets the fix cannot replace everywhere (a manual step
// remains): rotating those at the source would break what still uses them.
func unreplacedUses(ctx context.Context, fixer *remediator.Fixer, plan *remediator.Plan, read remediator.FileReader) (map[string]bool, error) {
	dry := &remediator.Plan{Files: map[string][]byte{}}
	for _, v := range plan.Secrets {
		c := *v
		c.Edits, c.Manual = nil, nil
		dry.Secrets = append(dry.Secrets, &c)
	}
	if err := fixer.Rewrite(ctx, dry, read); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, v := range dry.Secrets {
		if len(v.Manual) > 0 {
			out[v.Finding.ID] = true
		}
	}
	return out, nil
}
