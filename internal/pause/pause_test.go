package pause_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pushvault/pushvault/internal/pause"
)

func TestFor(t *testing.T) {
	start := time.Now()
	if err := pause.For(context.Background(), 50*time.Millisecond); err != nil || time.Since(start) < 50*time.Millisecond {
		t.Errorf("For(50ms) = %v after %s", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	if err := pause.For(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("For(1h) on an ended context = %v after %s", err, time.Since(start))
	}
}
