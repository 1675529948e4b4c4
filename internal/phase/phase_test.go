package phase_test

import (
	"context"
	"testing"
	"time"

	"github.com/pushvault/pushvault/internal/phase"
)

type recorder map[string]time.Duration

func (r recorder) ObservePhase(name string, d time.Duration) { r[name] += d }

// TestStart: a phase is told to the context's observer with the time it
// took; without an observer nothing happens.
func TestStart(t *testing.T) {
	r := recorder{}
	ctx := phase.With(context.Background(), r)
	end := phase.Start(ctx, phase.Scan)
	time.Sleep(20 * time.Millisecond)
	end()
	phase.Start(ctx, phase.Fetch)()
	if r[phase.Scan] < 20*time.Millisecond || len(r) != 2 {
		t.Errorf("observed %v, want scan >= 20ms and fetch", r)
	}
	phase.Start(context.Background(), phase.Scan)() // no observer: no panic, nothing told
	if len(r) != 2 {
		t.Errorf("observed %v", r)
	}
}
