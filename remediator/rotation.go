package remediator

import (
	"context"
	"errors"
	"fmt"

	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// ErrRotationFailed says that at least one rotation failed; the result says
// which and why, and running the job again retries them.
var ErrRotationFailed = errors.New("rotation failed")

// RotationTarget describes a vaulted secret for the rotation runner.
func RotationTarget(repo string, store SecretStore, v *Vaulted, approved, unreplaced bool) rotate.Target {
	data := rotate.Data{}
	for k, s := range v.Data() {
		data[k] = s.Reveal()
	}
	// The first file it is in: a place in a commit message has no path
	// for the server's owned-secret globs to match.
	source, _ := firstFile(v.Finding)
	return rotate.Target{Repository: repo, FindingID: v.Finding.ID, Fingerprint: string(v.Finding.Fingerprint),
		Detector: v.Finding.Detector, Name: v.Name, SourcePath: source.Path,
		Mount: store.Mount(), Path: v.Stored.Path, ExposedVersion: v.Stored.Version, Exposed: data,
		Approved: approved, Unreplaced: unreplaced}
}

// rotateAll runs the rotation of every vaulted secret, one after the other,
// and points the references of rotated credentials where they now live.
// Every secret is tried; the error joins the failures.
func rotateAll(ctx context.Context, r Rotator, repo string, store SecretStore, plan *Plan, approved bool, unreplaced map[string]bool) (map[string]rotate.Result, error) {
	out := map[string]rotate.Result{}
	var errs []error
	targets := make([]rotate.Target, len(plan.Secrets))
	for i, v := range plan.Secrets {
		targets[i] = RotationTarget(repo, store, v, approved, unreplaced[v.Finding.ID])
	}
	results, runErrs := r.RunAll(ctx, targets)
	for i, v := range plan.Secrets {
		res, err := results[i], runErrs[i]
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

// unreplacedUses runs the rewrite on a copy of plan to learn, before any
// rotation, which secrets the fix cannot replace everywhere (a manual step
// remains): rotating those at the source would break what still uses them.
func unreplacedUses(ctx context.Context, fixer *Fixer, plan *Plan, read FileReader) (map[string]bool, error) {
	dry := &Plan{Files: map[string][]byte{}}
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
