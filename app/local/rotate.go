package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pushvault/pushvault/app/ledger"
	"github.com/pushvault/pushvault/app/policy"
	"github.com/pushvault/pushvault/app/secretstore"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/awssm"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
)

// ErrRotationFailed says that at least one rotation failed; the report
// says which and why, and a rerun retries them.
var ErrRotationFailed = remediator.ErrRotationFailed

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
		if res.Held != "" {
			parts = append(parts, res.Held+" (rerun with --approve-rotation)")
		}
		if res.HeldDone {
			parts = append(parts, "the exposed credential deleted (approved)")
		}
		return strings.Join(parts, "; ")
	case rotate.StateMarkedRotated:
		return "rotated by hand (marked)"
	case rotate.StateManual:
		why := ""
		if res.Reason != "" {
			why = " (" + res.Reason + ")"
		}
		return "manual" + why + ": rotate it yourself, then run: pushvault rotated FINDING-ID --actor NAME"
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
		settings, err := policy.Local(ctx, opts.Dir, opts.SettingsFile)
		if err != nil {
			return err
		}
		rs = settings.Rotation
	}
	vs, err := openVault(ctx, vcfg)
	if err != nil {
		return err
	}
	var led *ledger.Recorder
	if opts.Source.jetstream() {
		// pushvault serve's ledger (the GitHub App's findings).
		b, release, err := opts.Source.open(ctx)
		if err != nil {
			return err
		}
		defer release()
		if led, err = ledger.Over(ctx, evidence.New(b, evidence.TransitSigner{T: vs.Transit, Key: vault.EvidenceKey})); err != nil {
			return fmt.Errorf("%s: %w", opts.Source, err)
		}
	} else if led, err = openLedger(ctx, opts.Ledger, vs.Transit); err != nil {
		return err
	}
	recs, err := led.Ledger().Records(ctx)
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
	var ropts []rotate.Option
	if region, ok := strings.CutPrefix(mount, awssm.MountPrefix); ok {
		// Vaulted into AWS Secrets Manager (store: aws_secretsmanager):
		// the region the ledger names, the rest of PUSHVAULT_STORE_AWS_*.
		sc, err := secretstore.FromEnv(secretstore.Config{Type: secretstore.TypeAWS, AWS: awssm.Config{Region: region}}, os.Getenv)
		if err != nil {
			return err
		}
		st, err := awssm.New(ctx, sc.AWS)
		if err != nil {
			return err
		}
		ropts = append(ropts, rotate.WithStore(st))
	}
	r := rotate.NewRunner(vs.Client, rs, remediator.RotationRecorder(led, opts.Actor), ropts...)
	res, err := r.MarkRotated(ctx, t, opts.Actor)
	if err != nil {
		return vault.Explain(vs.Config.Address, err)
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
