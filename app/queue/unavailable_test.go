package queue_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pushvault/pushvault/app/queue"
)

// TestUnavailable: what a clustered JetStream answers while a stream
// elects a leader is tried again by Enqueue; a refusal is not.
func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no stream leader", fmt.Errorf("enqueue delivery d1: %w", jetstream.ErrNoStreamResponse), true},
		{"no responders", nats.ErrNoResponders, true},
		{"no answer in time", fmt.Errorf("state of delivery d1: %w", nats.ErrTimeout), true},
		{"the call's own deadline", context.DeadlineExceeded, true},
		{"JetStream temporarily unavailable", fmt.Errorf("nats: %w", &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}), true},
		{"message too large", fmt.Errorf("nats: %w", &jetstream.APIError{Code: 400, ErrorCode: 10054, Description: "message size exceeds maximum allowed"}), false},
		{"wrong stream", errors.New("enqueue delivery d1: expected stream does not match"), false},
	} {
		if got := queue.Unavailable(tc.err); got != tc.want {
			t.Errorf("%s: Unavailable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
