package queue_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/app/serve"
	"github.com/pushvault/pushvault/githubapp"
)

// bigPush is a push payload of about 3 MiB, as GitHub sends for a push
// whose commits carry long messages or touch thousands of files.
func bigPush(t *testing.T) []byte {
	t.Helper()
	msg := strings.Repeat("vendor: update generated clients and their changelog\n", 20000)
	commit := map[string]any{"id": strings.Repeat("b", 40), "message": msg, "added": []string{}, "removed": []string{}, "modified": []string{"go.sum"}}
	raw, err := json.Marshal(map[string]any{
		"ref": "refs/heads/main", "before": strings.Repeat("a", 40), "after": strings.Repeat("b", 40),
		"commits": []any{commit, commit}, "head_commit": commit,
		"pusher":       map[string]string{"name": "dev", "email": "dev@acme.test"},
		"repository":   map[string]any{"id": 7, "name": "shop", "full_name": "acme/shop", "owner": map[string]any{"login": "acme"}, "default_branch": "main"},
		"installation": map[string]any{"id": 42},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestEnqueueLargerThanTheServersMessages: NATS takes messages up to its
// max_payload (1 MiB by default, in the embedded server and in an
// external one); GitHub sends deliveries up to 25 MB. A larger delivery is
// queued reduced to what the handlers read, not refused (which lost it:
// GitHub does not redeliver on its own), and the worker decodes the same
// push from it.
func TestEnqueueLargerThanTheServersMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func() queue.Config
	}{
		{"embedded", queuetest.Config},
		{"external", func() queue.Config { c := queuetest.Config(); c.URL = queuetest.StartNATS(t); return c }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := queuetest.Open(t, tc.cfg())
			raw := bigPush(t)
			if int64(len(raw)) <= q.MaxMessage() {
				t.Fatalf("the push is %d bytes, not over the server's %d", len(raw), q.MaxMessage())
			}
			var mu sync.Mutex
			var got []githubapp.Event
			runWorkers(t, q, &processor{Fn: func(_ context.Context, ev githubapp.Event, _ int) error {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, ev)
				return nil
			}}, serve.NewMetrics(q.Depth), 1)
			if _, err := q.Enqueue(context.Background(), githubapp.Event{DeliveryID: "big", Event: "push", InstallationID: 42,
				Repo: "acme/shop", SHA: strings.Repeat("b", 40), Payload: raw}); err != nil {
				t.Fatalf("a %d-byte push was refused: %v", len(raw), err)
			}
			queuetest.Eventually(t, "the push processed", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
			var want, have githubapp.PushPayload
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if err := got[0].Decode(&have); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(have, want) || got[0].Repo != "acme/shop" || got[0].InstallationID != 42 {
				t.Errorf("the worker got %+v (%s, installation %d), want %+v", have, got[0].Repo, got[0].InstallationID, want)
			}
		})
	}
}

// A delivery of an event pushvault has no payload type for cannot be
// reduced: refused with the sizes, so the webhook answers 503.
func TestEnqueueRefusesWhatCannotBeReduced(t *testing.T) {
	q := queuetest.Open(t, queuetest.Config())
	_, err := q.Enqueue(context.Background(), githubapp.Event{DeliveryID: "huge-ping", Event: "ping", Payload: bigPush(t)})
	if err == nil || !strings.Contains(err.Error(), "message limit") {
		t.Fatalf("err = %v, want the message limit named", err)
	}
}
