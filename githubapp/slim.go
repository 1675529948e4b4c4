package githubapp

import (
	"encoding/json"
	"fmt"
)

// payloadTypes are the payload types of the events the App's handlers
// decode: between them, everything a handler reads of a delivery (ping's
// is a few bytes and needs none).
var payloadTypes = map[string]func() any{
	"push":                      func() any { return new(PushPayload) },
	"check_run":                 func() any { return new(CheckRunPayload) },
	"check_suite":               func() any { return new(CheckSuitePayload) },
	"issue_comment":             func() any { return new(IssueCommentPayload) },
	"pull_request":              func() any { return new(PullRequestPayload) },
	"installation":              func() any { return new(InstallationPayload) },
	"installation_repositories": func() any { return new(InstallationPayload) },
}

// Slim returns ev with its payload reduced to what the App's handlers read:
// the payload decoded into its event's type and encoded again. A queue
// whose messages cannot hold GitHub's largest deliveries (GitHub sends up
// to 25 MB; NATS's default max_payload is 1 MiB) stores that instead, and
// the handlers decode it as they would the whole payload. What goes is
// what no handler reads: a push's commit list and messages, the
// repository's hundred URLs, custom properties.
func Slim(ev Event) (Event, error) {
	v, ok := NewPayload(ev.Event)
	if !ok {
		return ev, fmt.Errorf("no payload type for %s events: it cannot be reduced", ev.Event)
	}
	if err := ev.Decode(v); err != nil {
		return ev, err
	}
	slim, err := json.Marshal(v)
	if err != nil {
		return ev, fmt.Errorf("%s payload: %w", ev.Event, err)
	}
	ev.Payload = slim
	return ev, nil
}

// NewPayload returns a new value of event's payload type (a pointer), and
// false for an event the App has no payload type for.
func NewPayload(event string) (any, bool) {
	newPayload, ok := payloadTypes[event]
	if !ok {
		return nil, false
	}
	return newPayload(), true
}
