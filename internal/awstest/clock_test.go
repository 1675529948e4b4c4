package awstest

import (
	"sync"
	"time"
)

// testClock is a clock a test advances; it starts at the real time so that
// the SDK's signatures (made with the real clock) are within skew.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func timeNow() *testClock { return &testClock{} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}
