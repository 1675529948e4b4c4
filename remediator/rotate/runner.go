package rotate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/remediator/evidence"
)

// The ledger transitions a rotation records, under the names they had
// here before the ledger's vocabulary (remediator/evidence) was the only
// one. New code uses the evidence constants.
const (
	TransitionStarted      = evidence.RotationStarted
	TransitionRotated      = evidence.Rotated
	TransitionVerifiedDead = evidence.ExposedVerifiedDead
	TransitionDestroyed    = evidence.ExposedDestroyed
	TransitionFailed       = evidence.RotationFailed
	TransitionManual       = evidence.RotationManual
	TransitionPending      = evidence.RotationPending
	TransitionMarked       = evidence.MarkedRotated
)

// Event is one step of a rotation, for the ledger. It holds no secret.
type Event struct {
	// Transition is one of the ledger's transitions (remediator/evidence).
	Transition string
	Rotator    string
	// Version is the KV version the step concerns: the new one for
	// rotated, the exposed one for exposed_verified_dead and
	// exposed_destroyed.
	Version int
	// Attempt numbers the runs that started a rotation of this secret; the
	// same transition of the same attempt is one event.
	Attempt int
	// Actor is set when a person did the step (marked_rotated, approval).
	Actor  string
	Detail map[string]string
}

// Recorder records rotation events. The app's evidence ledger implements
// it; Record must be idempotent for the same target, transition and attempt.
type Recorder interface {
	Record(ctx context.Context, t Target, e Event) error
}

// Runner runs rotations against one Vault. Safe for concurrent use on
// different secrets.
type Runner struct {
	c        *api.Client
	settings Settings
	rec      Recorder
	names    []string
	rotators map[string]Rotator
	now      func() time.Time
	log      *slog.Logger
}

// Option configures a Runner.
type Option func(*Runner)

// WithRotator adds (or replaces) the rotator called name. Rotators are
// tried in the order added; the settings' enabled list filters them.
func WithRotator(name string, rot Rotator) Option {
	return func(r *Runner) {
		if _, ok := r.rotators[name]; !ok {
			r.names = append(r.names, name)
		}
		r.rotators[name] = rot
	}
}

// WithClock sets the clock stamping rotated_at (time.Now by default).
func WithClock(now func() time.Time) Option { return func(r *Runner) { r.now = now } }

// WithLogger sets the logger (discarded by default). Nothing secret is logged.
func WithLogger(l *slog.Logger) Option { return func(r *Runner) { r.log = l } }

// NewRunner returns a runner using c (which needs the capabilities listed
// in the README's policy), settings s and recorder rec. The Vault-backed
// rotators the settings configure (PostgreSQL, MySQL, Vault tokens, PKI, owned
// secrets) are added first; options add others (GitHub tokens) or replace
// them.
func NewRunner(c *api.Client, s Settings, rec Recorder, opts ...Option) *Runner {
	r := &Runner{c: c, settings: s, rec: rec, rotators: map[string]Rotator{}, now: time.Now,
		log: slog.New(slog.DiscardHandler)}
	if len(s.Databases) > 0 {
		WithRotator(NamePostgres, NewPostgres(c, s.Databases))(r)
		WithRotator(NameMySQL, NewMySQL(c, s.Databases))(r)
	}
	WithRotator(NameVaultToken, NewVaultToken(c))(r)
	if len(s.PKI) > 0 {
		WithRotator(NamePKI, NewPKI(c, s.PKI))(r)
	}
	if len(s.Owned) > 0 {
		WithRotator(NameOwned, NewOwned(s.Owned))(r)
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run rotates t's exposed value, or finishes an earlier attempt, or records
// why it can't. The Result states where the finding stands; the error is
// non-nil when the rotation failed (State rotation_failed: retry later; the
// error says which step, never a value) or when its state could not be
// recorded. Nothing is recorded that did not happen.
func (r *Runner) Run(ctx context.Context, t Target) (Result, error) {
	sec, err := r.readSecret(ctx, t)
	if err != nil {
		return Result{State: StateFailed, Reason: r.scrub(t, err.Error())}, err
	}
	switch State(sec.md[mdState]) {
	case StateRotated, StateMarkedRotated:
		return Result{State: State(sec.md[mdState]), Rotator: sec.md[mdRotator], NewVersion: atoi(sec.md[mdRotatedVersion]),
			ExposedDead: sec.md[mdDeadCheck] == "true", DeadCheck: sec.md[mdDeadCheck], ExposedDestroyed: sec.md[mdDestroyed] == "true",
			Refs: parseRefs(sec.md[mdRefs]), Attempt: atoi(sec.md[mdAttempts]), Already: true}, nil
	}
	name, rot, err := r.pick(ctx, t)
	if prev := sec.md[mdRotator]; sec.md[mdState] == stateRotating || sec.md[mdState] == string(StateFailed) {
		// A retry stays with the rotator that started: after a revocation
		// the credential may no longer match anything.
		if pr, ok := r.rotators[prev]; ok && r.settings.enabled(prev) {
			name, rot, err = prev, pr, nil
		}
	}
	if err != nil {
		return r.fail(ctx, t, &sec, "", atoi(sec.md[mdAttempts]), "choosing a rotator", err)
	}
	if rot == nil {
		return r.manual(ctx, t, &sec)
	}
	if reason := r.waitsForApproval(name, t); reason != "" {
		res := Result{State: StatePending, Rotator: name, Reason: reason}
		if err := r.setMetadata(ctx, t, &sec, map[string]string{mdState: string(StatePending), mdRotator: name}); err != nil {
			return res, err
		}
		return res, r.rec.Record(ctx, t, Event{Transition: evidence.RotationPending, Rotator: name, Attempt: atoi(sec.md[mdAttempts]),
			Detail: map[string]string{"reason": res.Reason}})
	}
	attempt := atoi(sec.md[mdAttempts]) + 1
	if err := r.setMetadata(ctx, t, &sec, map[string]string{mdState: stateRotating, mdAttempts: strconv.Itoa(attempt), mdRotator: name, mdError: ""}); err != nil {
		return r.fail(ctx, t, &sec, name, attempt, "recording the start", err)
	}
	if err := r.rec.Record(ctx, t, Event{Transition: evidence.RotationStarted, Rotator: name, Version: t.ExposedVersion, Attempt: attempt}); err != nil {
		return Result{State: StateFailed, Rotator: name, Attempt: attempt}, err
	}
	res := Result{Rotator: name, Attempt: attempt}
	// A previous attempt that rotated at the source and wrote the next
	// version resumes at the check: no second rotation, no second version.
	resumed := sec.md[mdSourceRotated] == "true" && sec.md[mdRotator] == name && atoi(sec.md[mdRotatedVersion]) == sec.current && sec.current > t.ExposedVersion
	if resumed {
		res.NewVersion, res.Refs = sec.current, parseRefs(sec.md[mdRefs])
	} else {
		if sec.current > t.ExposedVersion && atoi(sec.md[mdRotatedVersion]) == sec.current {
			if t.Prior, err = r.readVersion(ctx, t, sec.current); err != nil {
				return r.fail(ctx, t, &sec, name, attempt, "reading the earlier attempt's version", err)
			}
		}
		if sec.current != t.ExposedVersion && t.Prior == nil {
			return r.fail(ctx, t, &sec, name, attempt, "checking versions",
				fmt.Errorf("the secret is at version %d, not the exposed version %d, and pushvault did not write it: someone else changed it", sec.current, t.ExposedVersion))
		}
		ch, err := rot.Rotate(ctx, t)
		if err != nil {
			return r.fail(ctx, t, &sec, name, attempt, "rotating at the source", err)
		}
		res.Refs = ch.Refs
		res.NewVersion = sec.current
		if t.Prior == nil || !equal(t.Prior, ch.Data) {
			if res.NewVersion, err = r.writeNext(ctx, t, sec.current, ch.Data); err != nil {
				// The source is rotated but Vault does not hold the result:
				// say so; the next attempt rotates again.
				return r.fail(ctx, t, &sec, name, attempt, "storing the new value (the credential was rotated at its source)", err)
			}
		}
		if err := r.setMetadata(ctx, t, &sec, map[string]string{mdRotatedVersion: strconv.Itoa(res.NewVersion), mdSourceRotated: "true", mdRefs: formatRefs(ch.Refs)}); err != nil {
			return r.fail(ctx, t, &sec, name, attempt, "recording the new version", err)
		}
		if err := r.rec.Record(ctx, t, Event{Transition: evidence.Rotated, Rotator: name, Version: res.NewVersion, Attempt: attempt, Detail: ch.Detail}); err != nil {
			return res, err
		}
	}
	switch err := rot.CheckDead(ctx, t); {
	case err == nil:
		res.ExposedDead, res.DeadCheck = true, "true"
		if err := r.rec.Record(ctx, t, Event{Transition: evidence.ExposedVerifiedDead, Rotator: name, Version: t.ExposedVersion, Attempt: attempt}); err != nil {
			return res, err
		}
	case errors.Is(err, ErrUncheckable):
		res.DeadCheck = r.scrub(t, err.Error())
	default:
		return r.fail(ctx, t, &sec, name, attempt, "checking the exposed value is dead", err)
	}
	if err := r.setMetadata(ctx, t, &sec, map[string]string{mdDeadCheck: res.DeadCheck}); err != nil {
		return r.fail(ctx, t, &sec, name, attempt, "recording the check", err)
	}
	if r.settings.Destroy() {
		if sec.md[mdDestroyed] != "true" {
			if err := r.destroy(ctx, t, t.ExposedVersion); err != nil {
				return r.fail(ctx, t, &sec, name, attempt, "destroying the exposed version", err)
			}
			if err := r.setMetadata(ctx, t, &sec, map[string]string{mdDestroyed: "true"}); err != nil {
				return r.fail(ctx, t, &sec, name, attempt, "recording the destruction", err)
			}
			if err := r.rec.Record(ctx, t, Event{Transition: evidence.ExposedDestroyed, Rotator: name, Version: t.ExposedVersion, Attempt: attempt}); err != nil {
				return res, err
			}
		}
		res.ExposedDestroyed = true
	}
	if err := r.setMetadata(ctx, t, &sec, map[string]string{mdState: string(StateRotated), mdRotatedAt: r.now().UTC().Format(time.RFC3339)}); err != nil {
		return r.fail(ctx, t, &sec, name, attempt, "recording the outcome", err)
	}
	res.State = StateRotated
	r.log.InfoContext(ctx, "rotated", "finding_id", t.FindingID, "rotator", name, "vault_path", t.Mount+"/"+t.Path,
		"new_version", res.NewVersion, "exposed_dead", res.ExposedDead, "exposed_destroyed", res.ExposedDestroyed)
	return res, nil
}

// pick returns the first enabled rotator that matches, or nil.
func (r *Runner) pick(ctx context.Context, t Target) (string, Rotator, error) {
	for _, name := range r.names {
		if !r.settings.enabled(name) {
			continue
		}
		ok, err := r.rotators[name].Match(ctx, t)
		if err != nil {
			return name, nil, err
		}
		if ok {
			return name, r.rotators[name], nil
		}
	}
	return "", nil, nil
}

// RotationError is a failed rotation: the step that failed and why.
type RotationError struct {
	Rotator string
	Step    string
	Err     error
	msg     string // scrubbed
}

func (e *RotationError) Error() string { return e.msg }
func (e *RotationError) Unwrap() error { return e.Err }

// fail records rotation_failed with the reason and leaves the secret in
// that state; what was done before stays recorded as done.
func (r *Runner) fail(ctx context.Context, t Target, sec *kvSecret, name string, attempt int, step string, cause error) (Result, error) {
	reason := oneLine(r.scrub(t, step+": "+cause.Error()))
	err := &RotationError{Rotator: name, Step: step, Err: cause, msg: "rotation " + rotName(name) + " " + reason}
	res := Result{State: StateFailed, Rotator: name, Reason: reason, Attempt: attempt}
	if merr := r.setMetadata(ctx, t, sec, map[string]string{mdState: string(StateFailed), mdError: reason}); merr != nil {
		err.msg += "; and recording the failure in Vault: " + r.scrub(t, merr.Error())
	}
	if lerr := r.rec.Record(ctx, t, Event{Transition: evidence.RotationFailed, Rotator: name, Attempt: attempt, Detail: map[string]string{"step": step, "reason": reason}}); lerr != nil {
		err.msg += "; and recording the failure in the ledger: " + r.scrub(t, lerr.Error())
	}
	r.log.WarnContext(ctx, "rotation failed", "finding_id", t.FindingID, "rotator", name, "reason", reason)
	return res, err
}

func rotName(n string) string {
	if n == "" {
		return "(none)"
	}
	return n
}

// manual records that a person must rotate t, with the provider's steps.
func (r *Runner) manual(ctx context.Context, t Target, sec *kvSecret) (Result, error) {
	guide, steps := Guide(t.Detector)
	res := Result{State: StateManual, Guide: guide, Steps: steps, Reason: "no rotator handles " + t.Detector + " credentials here"}
	if sec.md[mdState] != string(StateManual) {
		if err := r.setMetadata(ctx, t, sec, map[string]string{mdState: string(StateManual), mdGuide: guide}); err != nil {
			return res, err
		}
	}
	return res, r.rec.Record(ctx, t, Event{Transition: evidence.RotationManual, Attempt: atoi(sec.md[mdAttempts]),
		Detail: map[string]string{"guide": guide, "reason": res.Reason}})
}

// MarkRotated records that actor rotated t by hand. When settings destroy
// exposed versions and a newer version than the exposed one exists (the
// new value, written by the person), the exposed version is destroyed.
func (r *Runner) MarkRotated(ctx context.Context, t Target, actor string) (Result, error) {
	if strings.TrimSpace(actor) == "" {
		return Result{}, errors.New("marking a rotation needs the actor who did it")
	}
	sec, err := r.readSecret(ctx, t)
	if err != nil {
		return Result{}, err
	}
	res := Result{State: StateMarkedRotated, NewVersion: sec.current}
	switch State(sec.md[mdState]) {
	case StateRotated, StateMarkedRotated:
		res.State, res.Already = State(sec.md[mdState]), true
		return res, nil
	}
	detail := map[string]string{"previous_state": sec.md[mdState]}
	if r.settings.Destroy() && sec.current > t.ExposedVersion && sec.md[mdDestroyed] != "true" {
		if err := r.destroy(ctx, t, t.ExposedVersion); err != nil {
			return Result{}, err
		}
		res.ExposedDestroyed = true
		if err := r.setMetadata(ctx, t, &sec, map[string]string{mdDestroyed: "true"}); err != nil {
			return Result{}, err
		}
	}
	detail["exposed_destroyed"] = strconv.FormatBool(res.ExposedDestroyed || sec.md[mdDestroyed] == "true")
	if err := r.setMetadata(ctx, t, &sec, map[string]string{mdState: string(StateMarkedRotated), mdRotatedBy: actor,
		mdRotatedAt: r.now().UTC().Format(time.RFC3339)}); err != nil {
		return Result{}, err
	}
	return res, r.rec.Record(ctx, t, Event{Transition: evidence.MarkedRotated, Actor: actor, Version: sec.current, Detail: detail})
}

// scrub removes t's values from a message: errors from providers are
// passed on, and no provider gets to echo a secret into a report.
func (r *Runner) scrub(t Target, msg string) string {
	for _, d := range []Data{t.Exposed, t.Prior} {
		for _, v := range d {
			if len(v) >= 4 {
				msg = strings.ReplaceAll(msg, v, "[REDACTED]")
			}
		}
	}
	return msg
}

func equal(a, b Data) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// formatRefs encodes refs for custom_metadata: key=path#key,...
func formatRefs(refs map[string]Ref) string {
	keys := make([]string, 0, len(refs))
	for k := range refs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+refs[k].Path+"#"+refs[k].Key)
	}
	return strings.Join(parts, ",")
}

func parseRefs(s string) map[string]Ref {
	if s == "" {
		return nil
	}
	out := map[string]Ref{}
	for _, p := range strings.Split(s, ",") {
		k, ref, ok := strings.Cut(p, "=")
		path, key, ok2 := strings.Cut(ref, "#")
		if ok && ok2 {
			out[k] = Ref{Path: path, Key: key}
		}
	}
	return out
}

// waitsForApproval returns why the rotation of t by rotator name must wait
// for a person's approval, or "" when it may run now. With approval
// "required" every rotation waits; with "auto" (the default) only those
// that would break a use of the secret the fix does not replace.
func (r *Runner) waitsForApproval(name string, t Target) string {
	switch {
	case t.Approved:
		return ""
	case r.settings.Approval == ApprovalRequired:
		return "rotation waits for approval (rotation.approval: required)"
	case t.Unreplaced && name != NameOwned:
		return "the fix leaves a use of this secret in place (see the manual steps), and rotating now would break it: approve the rotation once those steps are done"
	}
	return ""
}

// Prepare lets rotators that can act on several targets at once do so
// before Run is called for each: the GitHub rotator revokes every leaked
// token it may revoke now (enabled, not waiting for approval) in one
// request. Run still records each rotation and proves each token dead.
func (r *Runner) Prepare(ctx context.Context, targets []Target) {
	g, ok := r.rotators[NameGitHub].(*GitHub)
	if !ok || !r.settings.enabled(NameGitHub) {
		return
	}
	var tokens []string
	for _, t := range targets {
		if m, _ := g.Match(ctx, t); !m || r.waitsForApproval(NameGitHub, t) != "" {
			continue
		}
		tokens = append(tokens, t.Exposed.Reveal("value"))
	}
	g.Batch(ctx, tokens)
}
