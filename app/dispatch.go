package app

import (
	"context"
	"fmt"
	"sort"

	"github.com/pushvault/pushvault/githubapp"
)

// Handler does the work for one kind of event.
type Handler interface {
	Handle(ctx context.Context, ev githubapp.Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev githubapp.Event) error

// Handle implements Handler.
func (f HandlerFunc) Handle(ctx context.Context, ev githubapp.Event) error { return f(ctx, ev) }

// Dispatcher routes each event to the handler registered for its
// X-GitHub-Event name. It is the workers' Processor, and its Events are the
// webhook endpoint's accepted events: a delivery no handler takes is
// acknowledged and ignored at the endpoint, never queued.
type Dispatcher struct {
	handlers map[string]Handler
}

var _ Processor = (*Dispatcher)(nil)

// NewDispatcher returns a dispatcher over handlers (event name -> handler).
// It keeps its own copy of the map.
func NewDispatcher(handlers map[string]Handler) *Dispatcher {
	d := &Dispatcher{handlers: make(map[string]Handler, len(handlers))}
	for k, h := range handlers {
		if h != nil {
			d.handlers[k] = h
		}
	}
	return d
}

// Events is the set of events with a handler.
func (d *Dispatcher) Events() map[string]bool {
	out := make(map[string]bool, len(d.handlers))
	for k := range d.handlers {
		out[k] = true
	}
	return out
}

// EventNames lists Events, sorted.
func (d *Dispatcher) EventNames() []string {
	var out []string
	for k := range d.handlers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Process implements Processor. An event without a handler (queued by a
// process configured with more handlers) is a permanent failure: it goes
// to the dead-letter stream, where it can be replayed.
func (d *Dispatcher) Process(ctx context.Context, ev githubapp.Event) error {
	h, ok := d.handlers[ev.Event]
	if !ok {
		return Permanent(fmt.Errorf("no handler for %q events in this process", ev.Event))
	}
	return h.Handle(ctx, ev)
}

// DeadLettered implements DeadLetterHandler: it passes the dead letter to
// the event's handler when that handler reports them.
func (d *Dispatcher) DeadLettered(ctx context.Context, ev githubapp.Event, reason string) error {
	if h, ok := d.handlers[ev.Event].(DeadLetterHandler); ok {
		return h.DeadLettered(ctx, ev, reason)
	}
	return nil
}
