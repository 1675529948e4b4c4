package handler

import (
	"context"
	"fmt"
	"sort"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/githubapp"
)

// Handler does the work for the events it declares (X-GitHub-Event
// names). Handlers are thin: decode the payload, drop what they ignore,
// enrich the logger, hand one domain value on.
type Handler interface {
	Handles() []string
	Handle(ctx context.Context, ev githubapp.Event) error
}

// ActionFilter is a Handler that acts on some actions of its events only
// (the payload's "action"): the webhook endpoint acknowledges the others
// without queueing them (Dispatcher.Acts). Acts must say true for every
// action Handle does anything with.
type ActionFilter interface {
	Acts(event, action string) bool
}

// IntakeFilter is a Handler that can tell, from an event alone, that it
// would do nothing with it: the webhook endpoint then acknowledges it
// without queueing it (Dispatcher.Ignore). Ignore says why, "" when the
// event must be queued; it must not block for long (it runs in the
// webhook's request) and, when in doubt or on any error, says "".
type IntakeFilter interface {
	Ignore(ctx context.Context, ev githubapp.Event) string
}

// Dispatcher routes each event to the handler registered for its
// X-GitHub-Event name. It is the workers' Processor, and its Events are the
// webhook endpoint's accepted events: a delivery no handler takes is
// acknowledged and ignored at the endpoint, never queued.
type Dispatcher struct {
	handlers map[string]Handler
}

var _ queue.Processor = (*Dispatcher)(nil)

// NewDispatcher returns a dispatcher over handlers, each taking the events
// it declares. Two handlers declaring one event is a programming error.
func NewDispatcher(handlers ...Handler) (*Dispatcher, error) {
	d := &Dispatcher{handlers: map[string]Handler{}}
	for _, h := range handlers {
		for _, ev := range h.Handles() {
			if _, dup := d.handlers[ev]; dup {
				return nil, fmt.Errorf("two handlers for %q events", ev)
			}
			d.handlers[ev] = h
		}
	}
	return d, nil
}

// Events is the set of events with a handler.
func (d *Dispatcher) Events() map[string]bool {
	out := make(map[string]bool, len(d.handlers))
	for k := range d.handlers {
		out[k] = true
	}
	return out
}

// Acts reports whether the handler of event does anything with action:
// false for events without a handler and for actions an ActionFilter
// handler passes over; true for every action of other handlers.
func (d *Dispatcher) Acts(event, action string) bool {
	h, ok := d.handlers[event]
	if !ok {
		return false
	}
	if f, ok := h.(ActionFilter); ok {
		return f.Acts(event, action)
	}
	return true
}

// Ignore says why ev need not be queued, asking its handler when that is
// an IntakeFilter; "" otherwise.
func (d *Dispatcher) Ignore(ctx context.Context, ev githubapp.Event) string {
	if f, ok := d.handlers[ev.Event].(IntakeFilter); ok {
		return f.Ignore(ctx, ev)
	}
	return ""
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

// Process implements queue.Processor. An event without a handler (queued by a
// process configured with more handlers) is a permanent failure: it goes
// to the dead-letter stream, where it can be replayed.
func (d *Dispatcher) Process(ctx context.Context, ev githubapp.Event) error {
	h, ok := d.handlers[ev.Event]
	if !ok {
		return queue.Permanent(fmt.Errorf("no handler for %q events in this process", ev.Event))
	}
	return h.Handle(ctx, ev)
}

// DeadLettered implements DeadLetterHandler: it passes the dead letter to
// the event's handler when that handler reports them.
func (d *Dispatcher) DeadLettered(ctx context.Context, ev githubapp.Event, reason string) error {
	if h, ok := d.handlers[ev.Event].(queue.DeadLetterHandler); ok {
		return h.DeadLettered(ctx, ev, reason)
	}
	return nil
}
