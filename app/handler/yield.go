package handler

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// pushGate is how a backfill's history scan steps aside for pushes in the
// same process: push workers hold it while they handle a push (Push.Run),
// and the backfill's scan asks it before each chunk (pace). While a push
// is being handled the scan waits, so the push has the cores; a scan that
// has waited yieldMax in a row runs for yieldRun before it waits again,
// so a steady stream of pushes slows a backfill down without stopping it.
// Pushes on other replicas do not hold it: they have other cores.
type pushGate struct {
	active atomic.Int64

	mu sync.Mutex
	// runUntil is the end of the window in which a scan that has waited
	// its longest runs without asking.
	runUntil time.Time
}

const (
	// yieldMax bounds one wait of a backfill's scan for pushes.
	yieldMax = 2 * time.Second
	// yieldRun is how long a scan runs after waiting yieldMax.
	yieldRun = 500 * time.Millisecond
	// yieldPoll is how often a waiting scan looks again.
	yieldPoll = 20 * time.Millisecond
)

// enter marks a push being handled; the func returned marks it done.
func (g *pushGate) enter() func() {
	g.active.Add(1)
	return func() { g.active.Add(-1) }
}

// pace is a backfill scan's scanner.WithPace: it returns at once while no
// push is being handled, and otherwise once none is, or yieldMax has
// passed. observe, when not nil, is told each wait's length.
func (g *pushGate) pace(observe func(time.Duration)) func(context.Context) error {
	return func(ctx context.Context) error {
		if g.active.Load() == 0 {
			return nil
		}
		g.mu.Lock()
		running := time.Now().Before(g.runUntil)
		g.mu.Unlock()
		if running {
			return nil
		}
		start := time.Now()
		t := time.NewTicker(yieldPoll)
		defer t.Stop()
		for g.active.Load() > 0 && time.Since(start) < yieldMax {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
		waited := time.Since(start)
		g.mu.Lock()
		if waited >= yieldMax {
			g.runUntil = time.Now().Add(yieldRun)
		}
		g.mu.Unlock()
		if observe != nil {
			observe(waited)
		}
		return nil
	}
}
