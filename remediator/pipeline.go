package remediator

import (
	"context"
	"errors"
	"fmt"

	"github.com/pushvault/pushvault/internal/phase"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rewrite"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/scanner"
)

// Ledger is the evidence port: it appends records once each, in order.
// Appending the same transition of the same finding again (a rerun, a
// redelivered push) must add nothing; the app's ledgers key records for
// that. Records given in one call may be written together (one signing
// request for all).
type Ledger interface {
	Append(ctx context.Context, rs ...evidence.Record) error
}

// Rotator is the rotation port; *rotate.Runner is one. Prepare lets a
// rotator batch work across a push (GitHub revokes many tokens in one call).
type Rotator interface {
	RunAll(ctx context.Context, targets []rotate.Target) ([]rotate.Result, []error)
}

var _ Rotator = (*rotate.Runner)(nil)

// FixWriter is the port that writes the rewritten files as one commit (a
// local branch for scan --fix; a branch pushed to GitHub for the App). A nil
// content deletes the file. It must be idempotent: writing the same files on
// the same parent again returns the existing commit with Changed false.
type FixWriter interface {
	WriteFix(ctx context.Context, files map[string][]byte, message string) (FixCommit, error)
}

// FixCommit is what a FixWriter wrote.
type FixCommit struct {
	Branch  string
	Commit  string
	Changed bool // false when the branch already held exactly this fix
	// Previous is the branch's commit before the write ("" when there was
	// no branch), as the writer found it.
	Previous string
}

// Proposer is the port that offers the fix to people once everything else
// is done (the App opens its pull request and rotation issues). It is not
// called while a rotation has failed: the caller retries the whole job, and
// a proposal written now would describe a state that is about to change.
type Proposer interface {
	Propose(ctx context.Context, r *Result) error
}

// Job is one run of the pipeline: the findings of one scan, the commit
// they are fixed on (Read) and the entry point's ports.
type Job struct {
	Owner, Repo string
	Findings    []*scanner.Finding
	// Read reads files at the scanned head.
	Read FileReader
	// Style writes references into config files (default vault).
	Style rewrite.Style
	// Actor is who the records name ("pushvault (push by alice)").
	Actor string
	// Rotator rotates each vaulted secret; nil: no rotation (the hook,
	// which is offline and runs in a few seconds).
	Rotator Rotator
	// Approved approves rotations the settings hold for approval.
	Approved bool
	// Fix writes the fix commit; nil: the rewrite is computed (the edits and
	// manual steps are in the result) but nothing is written.
	Fix FixWriter
	// Propose offers the result; nil: nothing beyond the fix commit.
	Propose Proposer
}

// Repository is owner/repo.
func (j Job) Repository() string { return j.Owner + "/" + j.Repo }

// Result is what the pipeline did, also when it stopped with an error.
type Result struct {
	// Plan holds what reached the store (even when a later write failed),
	// each secret's edits and manual steps, and the rewritten files.
	Plan *Plan
	// Rotations are the rotation outcomes by finding id (nil without a
	// Rotator).
	Rotations map[string]rotate.Result
	// Commit is the fix commit (zero when nothing was written).
	Commit FixCommit
}

// Pipeline is the one remediation sequence every entry point runs:
// detect-record, vault, decide rotation, rotate, rewrite, write the fix,
// record it, propose it. What differs per entry point comes in the Job's
// ports. Safe for concurrent use.
type Pipeline struct {
	store  SecretStore
	ledger Ledger
}

// NewPipeline returns the pipeline over a secret store and the ledger.
func NewPipeline(store SecretStore, ledger Ledger) *Pipeline {
	return &Pipeline{store: store, ledger: ledger}
}

// Run runs j. It records every finding as detected, vaults each but the
// report-only ones (scanner.Finding.ReportOnly), rotates
// (when j has a Rotator), rewrites the files, writes and records the fix
// (when j has a FixWriter) and proposes it (when j has a Proposer).
//
// Errors: a store failure stops the run before anything is rotated or
// written (Result.Plan holds what was vaulted, and the ledger says so); a
// failed rotation does not stop the fix — the references hold either way —
// but the proposal waits and the error wraps ErrRotationFailed; a ledger,
// rewrite, fix-writer or proposer error is returned as is. Every step is
// idempotent, so the caller retries by running the same job again.
func (p *Pipeline) Run(ctx context.Context, j Job) (*Result, error) {
	res := &Result{Plan: &Plan{Files: map[string][]byte{}}}
	if err := p.recordDetected(ctx, j); err != nil {
		return res, err
	}
	// Report-only findings (scan.generic: report) are recorded as detected
	// and go no further: nothing is vaulted, rotated or rewritten for them.
	j.Findings = remediable(j.Findings)
	fixer := NewFixer(p.store, j.Style)
	plan, err := p.vault(ctx, j, fixer)
	res.Plan = plan
	if err != nil {
		return res, err
	}
	var rotErr error
	if j.Rotator != nil {
		end := phase.Start(ctx, phase.Rotate)
		res.Rotations, rotErr = p.rotate(ctx, j, fixer, plan)
		end()
		if rotErr != nil && !errors.Is(rotErr, ErrRotationFailed) {
			return res, rotErr
		}
	}
	end := phase.Start(ctx, phase.Rewrite)
	err = fixer.Rewrite(ctx, plan, j.Read)
	end()
	if err != nil {
		return res, err
	}
	if res.Commit, err = p.writeFix(ctx, j, plan); err != nil {
		return res, err
	}
	if rotErr != nil {
		return res, rotErr
	}
	if j.Propose != nil {
		end := phase.Start(ctx, phase.PullRequest)
		err := j.Propose.Propose(ctx, res)
		end()
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// record appends recs to the ledger together, timed as the ledger phase.
func (p *Pipeline) record(ctx context.Context, recs ...evidence.Record) error {
	if len(recs) == 0 {
		return nil
	}
	defer phase.Start(ctx, phase.Ledger)()
	return p.ledger.Append(ctx, recs...)
}

func (p *Pipeline) recordDetected(ctx context.Context, j Job) error {
	recs := make([]evidence.Record, 0, len(j.Findings))
	for _, f := range j.Findings {
		recs = append(recs, FindingRecord(j.Repository(), f, evidence.Detected, j.Actor, nil))
	}
	return p.record(ctx, recs...)
}

// remediable returns the findings the pipeline vaults and fixes: all but
// the report-only ones.
func remediable(findings []*scanner.Finding) []*scanner.Finding {
	var out []*scanner.Finding
	for _, f := range findings {
		if !f.ReportOnly {
			out = append(out, f)
		}
	}
	return out
}

// vault stores every finding and records what truly reached the store,
// even when a later write failed.
func (p *Pipeline) vault(ctx context.Context, j Job, fixer *Fixer) (*Plan, error) {
	end := phase.Start(ctx, phase.Vault)
	plan, vaultErr := fixer.Vault(ctx, j.Owner, j.Repo, j.Findings, j.Read)
	end()
	recs := make([]evidence.Record, 0, len(plan.Secrets))
	for _, v := range plan.Secrets {
		recs = append(recs, FindingRecord(j.Repository(), v.Finding, evidence.Vaulted, j.Actor, v))
	}
	if err := p.record(ctx, recs...); err != nil {
		return plan, err
	}
	return plan, vaultErr
}

// rotate decides which rotations may run (a dry-run rewrite finds the uses
// the fix cannot replace) and runs them.
func (p *Pipeline) rotate(ctx context.Context, j Job, fixer *Fixer, plan *Plan) (map[string]rotate.Result, error) {
	unreplaced, err := unreplacedUses(ctx, fixer, plan, j.Read)
	if err != nil {
		return nil, err
	}
	return rotateAll(ctx, j.Rotator, j.Repository(), p.store, plan, j.Approved, unreplaced)
}

// writeFix commits the rewritten files and records fix_proposed for each
// secret the commit replaces.
func (p *Pipeline) writeFix(ctx context.Context, j Job, plan *Plan) (FixCommit, error) {
	if j.Fix == nil || len(plan.Files) == 0 {
		return FixCommit{}, nil
	}
	end := phase.Start(ctx, phase.FixCommit)
	fc, err := j.Fix.WriteFix(ctx, plan.Files, FixMessage(plan))
	end()
	if err != nil {
		return fc, fmt.Errorf("writing the fix: %w", err)
	}
	var recs []evidence.Record
	for _, v := range plan.Secrets {
		if len(v.Edits) > 0 {
			recs = append(recs, FixRecord(j.Repository(), v, j.Actor, fc))
		}
	}
	return fc, p.record(ctx, recs...)
}
