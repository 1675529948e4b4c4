package githubapp

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Event is one accepted webhook delivery, as the webhook handler hands it on
// to the queue and a worker hands it to a processor.
type Event struct {
	// DeliveryID is GitHub's X-GitHub-Delivery: unique per delivery and
	// kept on redelivery, so it is the idempotency key of the whole event.
	DeliveryID string
	// Event is X-GitHub-Event (push, pull_request, installation, ...).
	Event string
	// Action is the payload's "action" ("" for events without one, e.g. push).
	Action string
	// InstallationID is the payload's installation.id (0 when absent).
	InstallationID int64
	// Repo is the payload's repository.full_name, "owner/name" ("" when absent).
	Repo string
	// SHA is the commit the event is about: a push's "after", a check run's
	// or check suite's head_sha, a pull request's head sha ("" otherwise).
	SHA string
	// Payload is the JSON payload exactly as GitHub sent it: the request
	// body, or a form-encoded body's payload field.
	Payload json.RawMessage
}

// envelope holds the payload fields every event may carry that Event keeps.
type envelope struct {
	Action       string `json:"action"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	After    string `json:"after"`
	CheckRun *struct {
		HeadSHA string `json:"head_sha"`
		App     AppRef `json:"app"`
	} `json:"check_run"`
	CheckSuite *struct {
		HeadSHA string `json:"head_sha"`
		App     AppRef `json:"app"`
	} `json:"check_suite"`
	PullRequest *struct {
		Head struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
}

// checkApp is the id of the app whose check run or check suite the event
// is about (0 for other events).
func (env *envelope) checkApp() int64 {
	switch {
	case env.CheckRun != nil:
		return env.CheckRun.App.ID
	case env.CheckSuite != nil:
		return env.CheckSuite.App.ID
	}
	return 0
}

// parseEvent fills an Event from a delivery's headers and body, and
// returns the envelope it read. The body must be a JSON object, or a form
// whose payload field is one (contentType application/x-www-form-urlencoded):
// the Event's Payload is that JSON object either way.
func parseEvent(deliveryID, event, contentType string, body []byte) (Event, *envelope, error) {
	body, err := jsonPayload(contentType, body)
	if err != nil {
		return Event{}, nil, err
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, nil, err
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return Event{}, nil, errors.New("not a JSON object")
	}
	ev := Event{DeliveryID: deliveryID, Event: event, Action: env.Action, Payload: json.RawMessage(body)}
	if env.Installation != nil {
		ev.InstallationID = env.Installation.ID
	}
	if env.Repository != nil {
		ev.Repo = env.Repository.FullName
	}
	switch {
	case env.After != "":
		ev.SHA = env.After
	case env.CheckRun != nil:
		ev.SHA = env.CheckRun.HeadSHA
	case env.CheckSuite != nil:
		ev.SHA = env.CheckSuite.HeadSHA
	case env.PullRequest != nil:
		ev.SHA = env.PullRequest.Head.SHA
	}
	return ev, &env, nil
}
