package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pushvault/pushvault/internal/npmfixture"
)

// Webhooks is the webhook contract: the payload schema of each event (and
// action) in WebhookEvents. It is safe for concurrent use.
type Webhooks struct {
	schemas map[string]*jsonschema.Schema // by "event" or "event.action" as in WebhookEvents
	source  source
	path    string
}

var (
	hooksOnce   sync.Once
	hooksLoaded *Webhooks
	hooksErr    error
)

// webhooksURL names the webhooks description inside the schema compiler.
const webhooksURL = "urn:pushvault:octokit-openapi-webhooks"

// LoadWebhooks returns the webhook contract for WebhookEvents. The first
// call in a process derives (or reads from the cache) the subset and
// compiles it; later calls return the same *Webhooks, or the same error.
func LoadWebhooks() (*Webhooks, error) {
	hooksOnce.Do(func() {
		data, src, err := cachedSubset("webhooks", npmfixture.GitHubWebhooks, npmfixture.GitHubWebhooksFile, WebhookEvents, deriveWebhooks)
		if err != nil {
			hooksErr = err
			return
		}
		hooksLoaded, hooksErr = compileWebhooks(data, WebhookEvents)
		if hooksLoaded != nil {
			hooksLoaded.source = src
			hooksLoaded.path = src.path("webhooks")
		}
	})
	return hooksLoaded, hooksErr
}

func compileWebhooks(data []byte, events []string) (*Webhooks, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("contract: parse webhooks description: %w", err)
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("contract: webhooks description is not an object")
	}
	hooks, _ := top["webhooks"].(map[string]any)
	index := webhookIndex(hooks)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: validateURITemplate})
	if err := c.AddResource(webhooksURL, doc); err != nil {
		return nil, fmt.Errorf("contract: webhooks description: %w", err)
	}
	w := &Webhooks{schemas: map[string]*jsonschema.Schema{}}
	for _, e := range events {
		key, ok := index[normalizeEvent(e)]
		if !ok {
			return nil, fmt.Errorf("contract: webhook event %q: the description has no such webhook", e)
		}
		sch, err := c.Compile(webhooksURL + "#/webhooks/" + key + "/post/requestBody/content/application~1json/schema")
		if err != nil {
			return nil, fmt.Errorf("contract: webhook %s: compile: %w", e, err)
		}
		w.schemas[e] = sch
	}
	return w, nil
}

// Validate validates a webhook payload for event (the X-GitHub-Event value)
// against its schema; the action is read from the payload. It returns a
// *Violation whose OperationID is "event" or "event.action", or an error
// wrapping ErrNoOperation when the event (and action) is not in
// WebhookEvents.
func (w *Webhooks) Validate(event string, payload []byte) error {
	if !json.Valid(payload) {
		return violation(event, "webhook", "payload: not valid JSON%s", syntaxOffset(payload))
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return violation(event, "webhook", "payload: not valid JSON")
	}
	name := event
	if m, ok := v.(map[string]any); ok {
		if a, ok := m["action"].(string); ok && a != "" {
			name = event + "." + a
		}
	}
	sch, ok := w.schemas[name]
	if !ok {
		return fmt.Errorf("contract: webhook %s: %w", name, ErrNoOperation)
	}
	if err := sch.Validate(v); err != nil {
		return &Violation{OperationID: name, Kind: "webhook", Err: describeJSONSchema(err)}
	}
	return nil
}
