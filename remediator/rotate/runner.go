package rotate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
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
	store    Store // nil: the KV v2 mount each target names on c
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

// WithStore makes the runner keep rotated values and their state in s
// instead of the KV v2 mount each target names (the server's store:
// aws_secretsmanager). Rotators still use the runner's Vault.
func WithStore(s Store) Option { return func(r *Runner) { r.store = s } }

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
		WithRotator(NamePostgres, NewPostgres(c, s.Databases).WithTimeout(s.databaseTimeout()))(r)
		WithRotator(NameMySQL, NewMySQL(c, s.Databases).WithTimeout(s.databaseTimeout()))(r)
	}
	WithRotator(NameVaultToken, NewVaultToken(c))(r)
	if len(s.PKI) > 0 {
		WithRotator(NamePKI, NewPKI(c, s.PKI))(r)
	}
	if len(s.Owned) > 0 {
		WithRotator(NameOwned, NewOwned(s.Owned))(r)
	}
	if len(s.AWS) > 0 {
		WithRotator(NameAWSIAM, NewAWSIAM(c, s.AWS, s.AWSTimeout))(r)
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
	if res, done := alreadyRotated(sec); done {
		if res.Held != "" && t.Approved {
			return r.deleteHeld(ctx, t, &sec, res)
		}
		return res, nil
	}
	name, rot, err := r.choose(ctx, t, sec)
	switch {
	case err != nil:
		return r.fail(ctx, t, &sec, "", atoi(sec.md[mdAttempts]), "choosing a rotator", err)
	case rot == nil:
		return r.manual(ctx, t, &sec, "", "no rotator handles "+t.Detector+" credentials here")
	}
	if reason := r.waitsForApproval(name, t); reason != "" {
		return r.pending(ctx, t, &sec, name, reason)
	}
	if h, ok := rot.(Holder); ok && !t.Approved && sec.md[mdSourceRotated] != "true" {
		reason, err := h.Hold(ctx, t)
		if err != nil {
			return r.fail(ctx, t, &sec, name, atoi(sec.md[mdAttempts]), "checking whether the rotation may run", err)
		}
		if reason != "" {
			return r.pending(ctx, t, &sec, name, r.scrub(t, reason))
		}
	}
	ro := &rotation{Runner: r, t: t, sec: sec, name: name, rot: rot}
	err = ro.run(ctx)
	return ro.res, err
}

// RunAll runs Prepare and then Run for each of targets in turn, with one
// difference: the records of outcomes that act nowhere but in Vault's
// metadata — a rotation waiting for approval, a secret a person must
// rotate — are appended together once every target has run, in one
// ledger append (one signature) rather than one each; a backfill finding
// hundreds of secrets no rotator handles signs once, not hundreds of
// times. Their state is in the secret's metadata before they are
// recorded, and a run that stops before the append records them on the
// next (Run records such an outcome again; the ledger keeps it once).
// Results and errors are by target; a failed append is the error of each
// target whose record it held.
func (r *Runner) RunAll(ctx context.Context, targets []Target) ([]Result, []error) {
	r.Prepare(ctx, targets)
	batch := &outcomeBatch{rec: r.rec}
	rc := *r
	rc.rec = batch
	results := make([]Result, len(targets))
	errs := make([]error, len(targets))
	for i, t := range targets {
		batch.index = i
		results[i], errs[i] = rc.Run(ctx, t)
	}
	if err := batch.flush(ctx); err != nil {
		for _, i := range batch.indexes {
			errs[i] = errors.Join(errs[i], err)
		}
	}
	return results, errs
}

// TargetEvent is one event of one target, for RecordAll.
type TargetEvent struct {
	Target Target
	Event  Event
}

// BatchRecorder is a Recorder that can record several events in one go
// (the app's ledger: one signed append).
type BatchRecorder interface {
	Recorder
	RecordAll(ctx context.Context, events []TargetEvent) error
}

// outcomeBatch is RunAll's recorder: rotation_manual and
// rotation_pending events wait in it for flush; others are recorded at
// once.
type outcomeBatch struct {
	rec     Recorder
	index   int // the target being run
	held    []TargetEvent
	indexes []int
}

func (b *outcomeBatch) Record(ctx context.Context, t Target, e Event) error {
	if e.Transition != evidence.RotationManual && e.Transition != evidence.RotationPending {
		return b.rec.Record(ctx, t, e)
	}
	b.held = append(b.held, TargetEvent{Target: t, Event: e})
	b.indexes = append(b.indexes, b.index)
	return nil
}

func (b *outcomeBatch) flush(ctx context.Context) error {
	if len(b.held) == 0 {
		return nil
	}
	if br, ok := b.rec.(BatchRecorder); ok {
		return br.RecordAll(ctx, b.held)
	}
	var errs []error
	for _, te := range b.held {
		errs = append(errs, b.rec.Record(ctx, te.Target, te.Event))
	}
	return errors.Join(errs...)
}

// alreadyRotated is the result of a secret whose rotation is finished
// (by pushvault or marked by a person); false when it is not.
func alreadyRotated(sec kvSecret) (Result, bool) {
	st := State(sec.md[mdState])
	if st != StateRotated && st != StateMarkedRotated {
		return Result{}, false
	}
	return Result{State: st, Rotator: sec.md[mdRotator], NewVersion: atoi(sec.md[mdRotatedVersion]),
		ExposedDead: sec.md[mdDeadCheck] == "true", DeadCheck: sec.md[mdDeadCheck], ExposedDestroyed: sec.md[mdDestroyed] == "true",
		Refs: parseRefs(sec.md[mdRefs]), Attempt: atoi(sec.md[mdAttempts]), Already: true, Held: sec.md[mdHeld]}, true
}

// deleteHeld does the destructive step a finished rotation left for
// approval (Change.Held), now that the run is approved, and records it.
func (r *Runner) deleteHeld(ctx context.Context, t Target, sec *kvSecret, res Result) (Result, error) {
	d, ok := r.rotators[res.Rotator].(Deleter)
	if !ok || !r.settings.enabled(res.Rotator) {
		return res, nil
	}
	t.note = sec.md[mdNote]
	detail, err := d.Delete(ctx, t)
	if err != nil {
		reason := oneLine(r.scrub(t, "deleting the exposed credential (approved): "+err.Error()))
		return res, &RotationError{Rotator: res.Rotator, Step: "deleting the exposed credential", Err: err, msg: "rotation " + res.Rotator + " " + reason}
	}
	if err := r.setMetadata(ctx, t, sec, map[string]string{mdHeld: ""}); err != nil {
		return res, err
	}
	res.Held, res.HeldDone, res.Already = "", true, false
	return res, r.rec.Record(ctx, t, Event{Transition: evidence.ExposedDeleted, Rotator: res.Rotator, Version: t.ExposedVersion,
		Attempt: res.Attempt, Detail: detail})
}

// choose returns the rotator for t: the first enabled one that matches,
// except that a retry stays with the rotator that started (after a
// revocation the credential may no longer match anything). A nil rotator
// and no error means none handles t.
func (r *Runner) choose(ctx context.Context, t Target, sec kvSecret) (string, Rotator, error) {
	name, rot, err := r.pick(ctx, t)
	if st := sec.md[mdState]; st == stateRotating || st == string(StateFailed) {
		prev := sec.md[mdRotator]
		if pr, ok := r.rotators[prev]; ok && r.settings.enabled(prev) {
			return prev, pr, nil
		}
	}
	return name, rot, err
}

// pending records that the rotation of t by rotator name waits for a
// person's approval, and why.
func (r *Runner) pending(ctx context.Context, t Target, sec *kvSecret, name, reason string) (Result, error) {
	res := Result{State: StatePending, Rotator: name, Reason: reason}
	if err := r.setMetadata(ctx, t, sec, map[string]string{mdState: string(StatePending), mdRotator: name}); err != nil {
		return res, err
	}
	return res, r.rec.Record(ctx, t, Event{Transition: evidence.RotationPending, Rotator: name, Attempt: atoi(sec.md[mdAttempts]),
		Detail: map[string]string{"reason": reason}})
}

// rotation is one attempt of Run with a chosen rotator: what it works on
// and, in res, where it stands. Each step records what it did (in the
// secret's custom_metadata and the ledger) before the next one starts, so
// an attempt that stops anywhere can be resumed.
type rotation struct {
	*Runner
	t       Target // t.Prior is filled in when an earlier attempt wrote a version
	sec     kvSecret
	name    string
	rot     Rotator
	attempt int
	res     Result
}

// run takes the steps in order and stops at the first that fails.
func (ro *rotation) run(ctx context.Context) error {
	if err := ro.start(ctx); err != nil {
		return err
	}
	if err := ro.rotateOrResume(ctx); err != nil || ro.res.State == StateManual {
		return err
	}
	if err := ro.proveExposedDead(ctx); err != nil {
		return err
	}
	if err := ro.destroyExposed(ctx); err != nil {
		return err
	}
	return ro.finish(ctx)
}

// fail records the failure of step (see Runner.fail) and makes it the
// result.
func (ro *rotation) fail(ctx context.Context, step string, cause error) error {
	res, err := ro.Runner.fail(ctx, ro.t, &ro.sec, ro.name, ro.attempt, step, cause)
	ro.res = res
	return err
}

// record adds a ledger event of this attempt.
func (ro *rotation) record(ctx context.Context, transition string, version int, detail map[string]string) error {
	return ro.rec.Record(ctx, ro.t, Event{Transition: transition, Rotator: ro.name, Version: version, Attempt: ro.attempt, Detail: detail})
}

// start numbers the attempt and records it.
func (ro *rotation) start(ctx context.Context) error {
	prev := ro.sec.md[mdState]
	ro.t.resumed = (prev == stateRotating || prev == string(StateFailed)) && ro.sec.md[mdRotator] == ro.name
	if ro.sec.md[mdRotator] == ro.name {
		ro.t.note = ro.sec.md[mdNote]
	}
	ro.t.writeNote = func(ctx context.Context, note string) error {
		return ro.setMetadata(ctx, ro.t, &ro.sec, map[string]string{mdNote: note})
	}
	ro.attempt = atoi(ro.sec.md[mdAttempts]) + 1
	ro.res = Result{Rotator: ro.name, Attempt: ro.attempt}
	if err := ro.setMetadata(ctx, ro.t, &ro.sec, map[string]string{mdState: stateRotating, mdAttempts: strconv.Itoa(ro.attempt), mdRotator: ro.name, mdError: ""}); err != nil {
		return ro.fail(ctx, "recording the start", err)
	}
	if err := ro.record(ctx, evidence.RotationStarted, ro.t.ExposedVersion, nil); err != nil {
		ro.res.State = StateFailed
		return err
	}
	return nil
}

// rotateOrResume rotates at the source and stores the new value as the
// next version, unless an earlier attempt did both: that attempt resumes
// at the check, with no second rotation and no second version.
func (ro *rotation) rotateOrResume(ctx context.Context) error {
	sec := ro.sec
	if sec.md[mdSourceRotated] == "true" && sec.md[mdRotator] == ro.name && atoi(sec.md[mdRotatedVersion]) == sec.current && sec.current > ro.t.ExposedVersion {
		ro.res.NewVersion, ro.res.Refs, ro.res.Held = sec.current, parseRefs(sec.md[mdRefs]), sec.md[mdHeld]
		return nil
	}
	if err := ro.checkVersions(ctx); err != nil {
		return err
	}
	ch, err := ro.rot.Rotate(ctx, ro.t)
	var manual *ManualError
	if errors.As(err, &manual) {
		ro.res, err = ro.manual(ctx, ro.t, &ro.sec, ro.name, ro.scrub(ro.t, manual.Reason))
		ro.res.Attempt = ro.attempt
		return err
	}
	if err != nil {
		return ro.fail(ctx, "rotating at the source", err)
	}
	if err := ro.storeNewValue(ctx, ch); err != nil {
		return err
	}
	detail := ch.Detail
	if ch.Held != "" {
		detail = maps.Clone(detail)
		if detail == nil {
			detail = map[string]string{}
		}
		detail["held_for_approval"] = ch.Held
	}
	return ro.record(ctx, evidence.Rotated, ro.res.NewVersion, detail)
}

// checkVersions makes sure the secret holds nothing pushvault did not
// write: the exposed version, or after it the version an earlier attempt
// wrote (which becomes t.Prior, for the rotator to reuse).
func (ro *rotation) checkVersions(ctx context.Context) error {
	sec := ro.sec
	if sec.current > ro.t.ExposedVersion && atoi(sec.md[mdRotatedVersion]) == sec.current {
		prior, err := ro.readVersion(ctx, ro.t, sec.current)
		if err != nil {
			return ro.fail(ctx, "reading the earlier attempt's version", err)
		}
		ro.t.Prior = prior
	}
	if sec.current != ro.t.ExposedVersion && ro.t.Prior == nil {
		return ro.fail(ctx, "checking versions",
			fmt.Errorf("the secret is at version %d, not the exposed version %d, and pushvault did not write it: someone else changed it", sec.current, ro.t.ExposedVersion))
	}
	return nil
}

// storeNewValue writes the rotation's data as the next version (unless an
// earlier attempt wrote the same) and records which version that is.
func (ro *rotation) storeNewValue(ctx context.Context, ch Change) error {
	ro.res.Refs = ch.Refs
	ro.res.NewVersion = ro.sec.current
	if ro.t.Prior == nil || !equal(ro.t.Prior, ch.Data) {
		v, err := ro.writeNext(ctx, ro.t, ro.sec.current, ch.Data)
		if err != nil {
			// The source is rotated but Vault does not hold the result:
			// say so; the next attempt rotates again.
			return ro.fail(ctx, "storing the new value (the credential was rotated at its source)", err)
		}
		ro.res.NewVersion = v
	}
	ro.res.Held = ch.Held
	if err := ro.setMetadata(ctx, ro.t, &ro.sec, map[string]string{mdRotatedVersion: strconv.Itoa(ro.res.NewVersion), mdSourceRotated: "true", mdRefs: formatRefs(ch.Refs), mdHeld: ch.Held}); err != nil {
		return ro.fail(ctx, "recording the new version", err)
	}
	return nil
}

// proveExposedDead checks that the exposed value no longer works, or notes
// why that cannot be checked.
func (ro *rotation) proveExposedDead(ctx context.Context) error {
	switch err := ro.rot.CheckDead(ctx, ro.t); {
	case err == nil:
		ro.res.ExposedDead, ro.res.DeadCheck = true, "true"
		if err := ro.record(ctx, evidence.ExposedVerifiedDead, ro.t.ExposedVersion, nil); err != nil {
			return err
		}
	case errors.Is(err, ErrUncheckable):
		ro.res.DeadCheck = ro.scrub(ro.t, err.Error())
	default:
		return ro.fail(ctx, "checking the exposed value is dead", err)
	}
	if err := ro.setMetadata(ctx, ro.t, &ro.sec, map[string]string{mdDeadCheck: ro.res.DeadCheck}); err != nil {
		return ro.fail(ctx, "recording the check", err)
	}
	return nil
}

// destroyExposed destroys the exposed version when the settings say so
// (once: a resumed attempt finds it done).
func (ro *rotation) destroyExposed(ctx context.Context) error {
	if !ro.settings.Destroy() {
		return nil
	}
	if ro.sec.md[mdDestroyed] != "true" {
		if err := ro.destroy(ctx, ro.t, ro.t.ExposedVersion); err != nil {
			return ro.fail(ctx, "destroying the exposed version", err)
		}
		if err := ro.setMetadata(ctx, ro.t, &ro.sec, map[string]string{mdDestroyed: "true"}); err != nil {
			return ro.fail(ctx, "recording the destruction", err)
		}
		if err := ro.record(ctx, evidence.ExposedDestroyed, ro.t.ExposedVersion, nil); err != nil {
			return err
		}
	}
	ro.res.ExposedDestroyed = true
	return nil
}

// finish records the secret as rotated.
func (ro *rotation) finish(ctx context.Context) error {
	if err := ro.setMetadata(ctx, ro.t, &ro.sec, map[string]string{mdState: string(StateRotated), mdRotatedAt: ro.now().UTC().Format(time.RFC3339)}); err != nil {
		return ro.fail(ctx, "recording the outcome", err)
	}
	ro.res.State = StateRotated
	ro.log.InfoContext(ctx, "rotated", "finding_id", ro.t.FindingID, "rotator", ro.name, "vault_path", ro.t.Mount+"/"+ro.t.Path,
		"new_version", ro.res.NewVersion, "exposed_dead", ro.res.ExposedDead, "exposed_destroyed", ro.res.ExposedDestroyed)
	return nil
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

// manual records that a person must rotate t, with the provider's steps,
// and why: no rotator handles it (rotator "") or the rotator that ran
// found it must not (Rotate's *ManualError).
func (r *Runner) manual(ctx context.Context, t Target, sec *kvSecret, rotator, reason string) (Result, error) {
	guide, steps := Guide(t.Detector)
	res := Result{State: StateManual, Rotator: rotator, Guide: guide, Steps: steps, Reason: reason}
	if sec.md[mdState] != string(StateManual) {
		if err := r.setMetadata(ctx, t, sec, map[string]string{mdState: string(StateManual), mdGuide: guide}); err != nil {
			return res, err
		}
	}
	return res, r.rec.Record(ctx, t, Event{Transition: evidence.RotationManual, Rotator: rotator, Attempt: atoi(sec.md[mdAttempts]),
		Detail: map[string]string{"guide": guide, "reason": reason}})
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
