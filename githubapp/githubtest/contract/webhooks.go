package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pushvault/pushvault/internal/npmfixture"
)

// Webhooks is the webhook contract: the payload schema of each event (and
// action) in WebhookEvents. It is safe for concurrent use.
type Webhooks struct {
	schemas map[string]*jsonschema.Schema // by "event" or "event.action" as in WebhookEvents
	headers map[string][]string           // required delivery headers, by the same key
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
	w := &Webhooks{schemas: map[string]*jsonschema.Schema{}, headers: map[string][]string{}}
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
		w.headers[e] = requiredHeaders(hooks[key])
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

// ValidateDelivery validates a delivery as the stand-in sends it: the
// headers the webhook documents as required (X-GitHub-Event,
// X-GitHub-Delivery, X-Hub-Signature-256, User-Agent, the hook id and target
// headers) must be present, then the payload is validated as by Validate
// for the X-GitHub-Event header's event. Header values are never quoted.
func (w *Webhooks) ValidateDelivery(h http.Header, payload []byte) error {
	event := h.Get("X-GitHub-Event")
	if event == "" {
		return violation("(no event)", "webhook", "header X-GitHub-Event: required")
	}
	name := event
	if a := actionOf(payload); a != "" {
		name = event + "." + a
	}
	var found problems
	for _, hd := range w.headers[name] {
		if h.Get(hd) == "" {
			found = append(found, "header "+hd+": required")
		}
	}
	err := w.Validate(event, payload)
	var v *Violation
	switch {
	case errors.As(err, &v):
		var p problems
		errors.As(v.Err, &p)
		found = append(found, p...)
		name = v.OperationID
	case err != nil:
		return err // not served
	}
	if len(found) == 0 {
		return nil
	}
	return &Violation{OperationID: name, Kind: "webhook", Err: found}
}

// actionOf returns the payload's action, or "".
func actionOf(payload []byte) string {
	var p struct {
		Action string `json:"action"`
	}
	_ = json.Unmarshal(payload, &p)
	return p.Action
}

// requiredHeaders lists the header parameters a webhook marks required.
func requiredHeaders(hook any) []string {
	item, _ := hook.(map[string]any)
	post, _ := item["post"].(map[string]any)
	params, _ := post["parameters"].([]any)
	var out []string
	for _, p := range params {
		m, _ := p.(map[string]any)
		if m["in"] == "header" && m["required"] == true {
			if name, ok := m["name"].(string); ok {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}
