package handler

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A backfill's scan runs on while no push is handled, waits while one
// is and goes on when it is done; a push that lasts waits it yieldMax at
// most, and then it runs yieldRun without waiting.
func TestPushGatePace(t *testing.T) {
	var g pushGate
	var waits []time.Duration
	pace := g.pace(func(d time.Duration) { waits = append(waits, d) })
	ctx := context.Background()

	start := time.Now()
	if err := pace(ctx); err != nil || time.Since(start) > yieldPoll || len(waits) != 0 {
		t.Fatalf("no push: pace took %s (%v), %d waits", time.Since(start), err, len(waits))
	}

	done := g.enter()
	go func() { time.Sleep(300 * time.Millisecond); done() }()
	start = time.Now()
	if err := pace(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > yieldMax {
		t.Errorf("a 300 ms push: pace waited %s", d)
	}

	defer g.enter()() // a push that outlasts the wait
	start = time.Now()
	if err := pace(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < yieldMax || d > yieldMax+time.Second {
		t.Errorf("a long push: pace waited %s, want %s", d, yieldMax)
	}
	start = time.Now()
	if err := pace(ctx); err != nil || time.Since(start) > yieldPoll {
		t.Errorf("right after a full wait: pace took %s (%v), want no wait for %s", time.Since(start), err, yieldRun)
	}
	if len(waits) != 2 {
		t.Errorf("%d waits observed, want 2", len(waits))
	}

	cctx, cancel := context.WithCancel(ctx)
	time.Sleep(yieldRun)
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if err := pace(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while waiting: %v", err)
	}
}
