package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/internal/gitcli"
	"github.com/pushvault/pushvault/internal/npmfixture"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/vault"
)

// appEvents are the events GitHub sends the App: those app.yml subscribes
// to, and those every App gets unasked.
var appEvents = []string{"push", "pull_request", "check_run", "check_suite", "issue_comment", "installation", "installation_repositories", "ping"}

// recording is one delivery the test sends: a payload GitHub was recorded
// sending, or a variant of one.
type recording struct {
	name    string // flavour/event/index, then the variant's name
	event   string
	payload map[string]any
	form    bool // sent application/x-www-form-urlencoded
}

// outcomes notes what the real dispatcher returned for each delivery. It
// acknowledges every delivery: the recordings name repositories and
// installations the stand-in does not have, so handlers that get past
// decoding fail for that, and retrying them would only take time.
type outcomes struct {
	d  queue.Processor
	mu sync.Mutex
	by map[string]error // by delivery id
}

func (o *outcomes) Process(ctx context.Context, ev githubapp.Event) error {
	err := o.d.Process(ctx, ev)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.by[ev.DeliveryID] = err
	return nil
}

func (o *outcomes) of(delivery string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.by[delivery]
}

func (o *outcomes) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.by)
}

// TestRecordedPayloads sends every payload of @octokit/webhooks-examples
// (api.github.com and GHES) for the events serve handles, and variants the
// recordings lack, signed, to serve's real webhook endpoint, queue, workers
// and dispatcher (serve.New against the GitHub stand-in and a Vault dev
// server). Each must be answered 202; each must be queued and routed to its
// handler, except another app's check runs and suites and the actions
// nothing acts on (dropped at the endpoint: passedOver); no handler may refuse one for good (what would dead-letter it
// at once), least of all for decoding it.
func TestRecordedPayloads(t *testing.T) {
	e := startServe(t)
	handled := e.s.Dispatcher.Events()
	events := map[string]bool{}
	for _, ev := range appEvents {
		events[ev] = true
		if !handled[ev] {
			t.Errorf("GitHub sends the App %s events but serve has no handler for them", ev)
		}
	}
	app, srv, got, logs := e.app, e.srv, e.got, e.logs

	recs := recordings(t, events) // every event the App gets
	recs = append(recs, variants(t, recs, app.ID)...)
	queued := map[string]recording{}
	dropped := 0
	for i, r := range recs {
		delivery := fmt.Sprintf("rec-%d", i)
		if status := deliver(t, srv.URL, app.WebhookSecret, delivery, r); status != http.StatusAccepted {
			t.Errorf("%s: status %d, want 202", r.name, status)
			continue
		}
		switch {
		case passedOver(r):
			dropped++
		case !othersCheck(r, app.ID):
			queued[delivery] = r
		}
	}
	if dropped == 0 {
		t.Errorf("no recording has an action nothing acts on: the endpoint's filter is not exercised")
	}
	queuetest.Eventually(t, fmt.Sprintf("%d deliveries processed", len(queued)), func() bool { return got.count() >= len(queued) })
	got.mu.Lock()
	defer got.mu.Unlock()
	failedLater := 0
	for delivery, err := range got.by {
		r, ok := queued[delivery]
		if !ok {
			t.Errorf("delivery %s was queued: another app's check run or suite, or an action nothing acts on, must be dropped at the endpoint", delivery)
			continue
		}
		var perm *queue.PermanentError
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) || errors.As(err, &syntaxErr):
			t.Errorf("%s: the %s handler could not decode it: %v", r.name, r.event, err)
		case errors.As(err, &perm):
			t.Errorf("%s: the %s handler refused it for good (dead letter): %v", r.name, r.event, err)
		case err != nil:
			failedLater++ // the recording's repository is not on the stand-in
		}
	}
	if len(got.by) != len(queued) {
		t.Errorf("%d deliveries processed, want %d", len(got.by), len(queued))
	}
	t.Logf("%d deliveries, %d queued and routed, %d dropped at the endpoint for their action, %d failed after decoding for want of the recorded repository",
		len(recs), len(queued), dropped, failedLater)
	if t.Failed() {
		t.Logf("serve's logs:\n%s", logs)
	}
}

// served is serve (serve.New against the GitHub stand-in and a Vault dev
// server) with its webhook endpoint, workers and dispatcher running.
type served struct {
	s    *serve.Server
	gh   *githubtest.Server
	app  githubtest.App
	srv  *httptest.Server
	got  *outcomes // what the dispatcher returned, per delivery
	logs fmt.Stringer
}

// startServe starts serve with the test's configuration, each configure
// function changing it first.
func startServe(t *testing.T, configure ...func(*serve.ServeConfig)) *served {
	t.Helper()
	gh := githubtest.New(t)
	app := gh.App()
	v := vaulttest.Start(t)
	log, logs := queuetest.Logger()
	cfg := serve.DefaultServeConfig()
	cfg.DataDir, cfg.Listen, cfg.Queue = t.TempDir(), "127.0.0.1:0", queuetest.Config()
	cfg.GitHub = serve.GitHubConfig{AppID: app.ID, PrivateKey: string(app.PrivateKeyPEM), WebhookSecret: app.WebhookSecret,
		APIURL: gh.URL + "/", WebURL: gh.URL + "/"}
	cfg.Vault = vault.Config{Address: v.Addr, Auth: vault.Auth{Token: v.Token}}
	for _, c := range configure {
		c(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := serve.New(ctx, log, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	got := &outcomes{d: s.Dispatcher, by: map[string]error{}}
	workers := queue.NewWorkers(s.Queue, got, log, nil, 2, time.Second)
	done := make(chan struct{})
	go func() { defer close(done); workers.Run(ctx) }()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); cancel(); <-done; s.Close() })
	return &served{s: s, gh: gh, app: app, srv: srv, got: got, logs: logs}
}

// recordings reads every recorded payload of the events wanted.
func recordings(t *testing.T, wanted map[string]bool) []recording {
	t.Helper()
	var out []recording
	for _, file := range npmfixture.GitHubWebhookExamplesFiles {
		data, err := npmfixture.GitHubWebhookExamples.File(file)
		if err != nil {
			t.Fatal(err)
		}
		var events []struct {
			Name     string            `json:"name"`
			Examples []json.RawMessage `json:"examples"`
		}
		if err := json.Unmarshal(data, &events); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, e := range events {
			if !wanted[e.Name] {
				continue
			}
			for i, raw := range e.Examples {
				out = append(out, recording{name: fmt.Sprintf("%s/%s/%d", file, e.Name, i), event: e.Name, payload: decodeObject(t, raw)})
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no recordings of the handled events")
	}
	return out
}

// decodeObject decodes a JSON object keeping its numbers as they are.
func decodeObject(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// variant is one documented change to a recording: what GitHub sends that
// the recordings lack.
type variant struct {
	name string
	// change changes p (a deep copy) and reports whether it applies to
	// the recording of event.
	change func(event string, p map[string]any) bool
}

// variants applies every variant to every recording it fits.
func variants(t *testing.T, recs []recording, appID int64) []recording {
	t.Helper()
	headBranch := func(event string, p map[string]any) bool {
		ref, _ := p["ref"].(string)
		return event == "push" && p["installation"] != nil && len(ref) > len("refs/heads/") && ref[:len("refs/heads/")] == "refs/heads/"
	}
	ownCheck := func(event, action string, p map[string]any) bool {
		o := obj(p, "check_run")
		if event == "check_suite" {
			o = obj(p, "check_suite")
		}
		if o == nil || p["installation"] == nil {
			return false
		}
		p["action"] = action
		o["app"].(map[string]any)["id"] = appID
		if event == "check_run" {
			o["name"] = githubapp.CheckName
		}
		return true
	}
	vs := []variant{
		{"custom properties with a multi-select (array) value", func(_ string, p map[string]any) bool {
			r := obj(p, "repository")
			if r == nil {
				return false
			}
			r["custom_properties"] = map[string]any{"teams": []any{"payments", "platform"}, "tier": "gold"}
			return true
		}},
		{"an update push (not a new branch)", func(event string, p map[string]any) bool {
			if !headBranch(event, p) {
				return false
			}
			p["created"], p["before"] = false, "a10867b14bb761a232cd80139fbd4c0d33264240"
			return true
		}},
		{"a force push", func(event string, p map[string]any) bool {
			if !headBranch(event, p) {
				return false
			}
			p["created"], p["forced"], p["before"] = false, true, "a10867b14bb761a232cd80139fbd4c0d33264240"
			return true
		}},
		{"a branch deletion", func(event string, p map[string]any) bool {
			if !headBranch(event, p) {
				return false
			}
			p["created"], p["deleted"], p["before"], p["after"], p["head_commit"], p["commits"] = false, true, p["after"], gitcli.ZeroID, nil, []any{}
			return true
		}},
		{"a push without installation (GitHub leaves it out of some ref deletions)", func(event string, p map[string]any) bool {
			if event != "push" || p["installation"] == nil {
				return false
			}
			delete(p, "installation")
			return true
		}},
		{"a merged pushvault fix pull request", func(event string, p map[string]any) bool {
			pr := obj(p, "pull_request")
			if event != "pull_request" || p["action"] != "closed" || pr == nil {
				return false
			}
			pr["merged"], pr["merged_by"] = true, p["sender"]
			obj(pr, "head")["ref"] = "pushvault/fix-6113728"
			return true
		}},
		{"pushvault's own check run, re-run", func(event string, p map[string]any) bool {
			return event == "check_run" && ownCheck(event, "rerequested", p)
		}},
		{"pushvault's own check run, False positive button", func(event string, p map[string]any) bool {
			if event != "check_run" || !ownCheck(event, "requested_action", p) {
				return false
			}
			p["requested_action"] = map[string]any{"identifier": githubapp.ActionFalsePositive}
			return true
		}},
		{"pushvault's own check suite, Re-run all checks", func(event string, p map[string]any) bool {
			return event == "check_suite" && ownCheck(event, "rerequested", p)
		}},
		{"form-encoded", func(string, map[string]any) bool { return true }},
	}
	var out []recording
	for _, v := range vs {
		for _, r := range recs {
			p := decodeObject(t, mustJSON(t, r.payload)) // a deep copy
			if v.change(r.event, p) {
				out = append(out, recording{name: r.name + " (" + v.name + ")", event: r.event, payload: p, form: v.name == "form-encoded"})
			}
		}
	}
	return out
}

// obj is p[key] when it is a JSON object, else nil.
func obj(p map[string]any, key string) map[string]any {
	o, _ := p[key].(map[string]any)
	return o
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// othersCheck reports whether r is a check run or check suite of another
// app than appID.
func othersCheck(r recording, appID int64) bool {
	o := obj(r.payload, r.event)
	if (r.event != "check_run" && r.event != "check_suite") || o == nil {
		return false
	}
	return fmt.Sprint(obj(o, "app")["id"]) != fmt.Sprint(appID) // a json.Number, or an int64 a variant set
}

// actedOn are the actions serve acts on, for the events whose other
// actions need nothing (their check runs' created and completed, their
// pull requests' opened...).
var actedOn = map[string][]string{
	"check_run":    {"rerequested", "requested_action"},
	"check_suite":  {"rerequested"},
	"pull_request": {"closed"},
}

// passedOver reports whether r is an action nothing acts on: the endpoint
// answers it 202 without queueing it.
func passedOver(r recording) bool {
	if r.event == "push" {
		return pushPassedOver(r.payload)
	}
	acts, ok := actedOn[r.event]
	if !ok {
		return false
	}
	action, _ := r.payload["action"].(string)
	return !slices.Contains(acts, action)
}

// pushPassedOver says whether a push payload says by itself that nothing is
// scanned, which the endpoint then answers without queueing: it deletes a
// ref, its ref is neither a branch nor a tag, its tag is of no commit
// (head_commit null), or it has no installation to act with.
func pushPassedOver(payload map[string]any) bool {
	var p map[string]any // as JSON says it, whatever Go types built it
	if b, err := json.Marshal(payload); err != nil || json.Unmarshal(b, &p) != nil {
		return false
	}
	ref, _ := p["ref"].(string)
	after, _ := p["after"].(string)
	deleted, _ := p["deleted"].(bool)
	inst, _ := p["installation"].(map[string]any)
	id, _ := inst["id"].(float64)
	tag := strings.HasPrefix(ref, "refs/tags/")
	return deleted || after == strings.Repeat("0", 40) || id == 0 ||
		!(tag || strings.HasPrefix(ref, "refs/heads/")) || (tag && p["head_commit"] == nil)
}

// deliver posts r as GitHub would, signed with secret, and returns the
// status.
func deliver(t *testing.T, base, secret, delivery string, r recording) int {
	t.Helper()
	body, ctype := mustJSON(t, r.payload), "application/json"
	if r.form {
		body, ctype = []byte(url.Values{"payload": {string(body)}}.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest("POST", base+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-GitHub-Event", r.event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", githubapp.Sign([]byte(secret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestReducedPayloadsKeepWhatHandlersRead: a delivery too large for the
// queue is stored reduced (githubapp.Slim); for every recorded payload and
// variant, the reduced one decodes into its event's payload type exactly
// as the whole one does, so no handler can tell.
func TestReducedPayloadsKeepWhatHandlersRead(t *testing.T) {
	events := map[string]bool{}
	for _, ev := range appEvents {
		events[ev] = true
	}
	recs := recordings(t, events)
	recs = append(recs, variants(t, recs, 1)...)
	reduced := 0
	for _, r := range recs {
		whole, ok := githubapp.NewPayload(r.event)
		if !ok {
			continue // ping: a few bytes, never reduced
		}
		raw, err := json.Marshal(r.payload)
		if err != nil {
			t.Fatal(err)
		}
		ev := githubapp.Event{Event: r.event, Payload: raw}
		slim, err := githubapp.Slim(ev)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		fromSlim, _ := githubapp.NewPayload(r.event)
		if err := ev.Decode(whole); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if err := slim.Decode(fromSlim); err != nil {
			t.Fatalf("%s: reduced: %v", r.name, err)
		}
		if !reflect.DeepEqual(whole, fromSlim) {
			t.Errorf("%s: the reduced payload decodes to\n%+v\nnot\n%+v", r.name, fromSlim, whole)
		}
		if len(slim.Payload) >= len(raw) {
			t.Errorf("%s: reduced to %d bytes from %d", r.name, len(slim.Payload), len(raw))
		}
		reduced++
	}
	t.Logf("%d payloads reduced", reduced)
}
