package rotate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// batchRecorder counts how events reach it: one by one or together.
type batchRecorder struct {
	recorder
	batches [][]string // the transitions of each RecordAll
	fail    error      // RecordAll's answer
}

func (b *batchRecorder) RecordAll(ctx context.Context, events []rotate.TargetEvent) error {
	var batch []string
	for _, te := range events {
		batch = append(batch, te.Target.Name+" "+te.Event.Transition)
	}
	b.batches = append(b.batches, batch)
	if b.fail != nil {
		return b.fail
	}
	for _, te := range events {
		if err := b.recorder.Record(ctx, te.Target, te.Event); err != nil {
			return err
		}
	}
	return nil
}

// RunAll on secrets no rotator handles records their rotation_manual
// outcomes in one RecordAll once all have run, none one by one; each
// target's result is that of Run. When that append fails, each of those
// targets has the error, and the secrets' metadata already says manual.
func TestRunAllRecordsOutcomesTogether(t *testing.T) {
	_, c := startVault(t)
	g := secrettest.Fresh(t)
	ctx := context.Background()
	var targets []rotate.Target
	for _, name := range []string{"stripe_a", "stripe_b", "stripe_c"} {
		targets = append(targets, vaultSecret(t, c, name, "Stripe", rotate.Data{"value": g.Stripe()}))
	}
	rec := &batchRecorder{}
	results, errs := rotate.NewRunner(c, rotate.Settings{}, rec).RunAll(ctx, targets)
	for i, res := range results {
		if errs[i] != nil || res.State != rotate.StateManual {
			t.Errorf("%s: %+v %v", targets[i].Name, res, errs[i])
		}
	}
	want(t, "batches", [][]string{{"stripe_a rotation_manual", "stripe_b rotation_manual", "stripe_c rotation_manual"}}, rec.batches)
	want(t, "events", []string{"rotation_manual@0", "rotation_manual@0", "rotation_manual@0"}, rec.transitions())

	more := vaultSecret(t, c, "stripe_d", "Stripe", rotate.Data{"value": g.Stripe()})
	failing := &batchRecorder{fail: errors.New("ledger down")}
	_, errs = rotate.NewRunner(c, rotate.Settings{}, failing).RunAll(ctx, []rotate.Target{more})
	if len(errs) != 1 || errs[0] == nil || errs[0].Error() != "ledger down" {
		t.Errorf("a failed append: errors %v, want ledger down", errs)
	}
	if _, _, md := versions(t, c, more); md["state"] != string(rotate.StateManual) {
		t.Errorf("state %q after a failed append, want %s", md["state"], rotate.StateManual)
	}
	if len(failing.events) != 0 {
		t.Errorf("%d events recorded one by one", len(failing.events))
	}
}
