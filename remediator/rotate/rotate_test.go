package rotate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// recorder keeps the events in order, once per (finding, transition,
// attempt) as the ledger does.
type recorder struct {
	mu     sync.Mutex
	events []rotate.Event
	seen   map[string]bool
}

func (r *recorder) Record(_ context.Context, t rotate.Target, e rotate.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := fmt.Sprint(t.Fingerprint, e.Transition, e.Attempt)
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if !r.seen[key] {
		r.seen[key] = true
		r.events = append(r.events, e)
	}
	return nil
}

// transitions lists the recorded transitions as "transition@attempt".
func (r *recorder) transitions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, fmt.Sprintf("%s@%d", e.Transition, e.Attempt))
	}
	return out
}

// vaultSecret stores data as version 1 of a KV secret the way the store
// does (metadata first, then version 1 with check-and-set 0), and returns
// the target for it.
func vaultSecret(t *testing.T, c *api.Client, name, detector string, data rotate.Data) rotate.Target {
	t.Helper()
	ctx := context.Background()
	path := "pushvault/acme/shop/" + name
	fp := "hmac-sha256:test-" + name
	if _, err := c.Logical().Write("secret/metadata/"+path, map[string]any{"custom_metadata": map[string]string{
		"fingerprint": fp, "state": "vaulted", "exposed_version": "1", "managed_by": "pushvault", "detector": detector,
	}}); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for k, v := range data {
		m[k] = v
	}
	if _, err := c.KVv2("secret").Put(ctx, path, m, api.WithCheckAndSet(0)); err != nil {
		t.Fatal(err)
	}
	return rotate.Target{Repository: "acme/shop", FindingID: "pv_" + name, Fingerprint: fp, Detector: detector, Name: name,
		SourcePath: "config/" + name + ".env", Mount: "secret", Path: path, ExposedVersion: 1, Exposed: data}
}

// versions returns the secret's current version and, per version, whether
// it is destroyed.
func versions(t *testing.T, c *api.Client, tg rotate.Target) (int, map[int]bool, map[string]string) {
	t.Helper()
	meta, err := c.KVv2("secret").GetMetadata(context.Background(), tg.Path)
	if err != nil {
		t.Fatal(err)
	}
	destroyed := map[int]bool{}
	for k, v := range meta.Versions {
		var n int
		fmt.Sscan(k, &n)
		destroyed[n] = v.Destroyed
	}
	md := map[string]string{}
	for k, v := range meta.CustomMetadata {
		md[k], _ = v.(string)
	}
	return meta.CurrentVersion, destroyed, md
}

// noLeak fails when any output holds one of the values.
func noLeak(t *testing.T, values []string, outputs ...any) {
	t.Helper()
	for _, o := range outputs {
		var text string
		switch o := o.(type) {
		case string:
			text = o
		case error:
			if o != nil {
				text = o.Error()
			}
		default:
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			text = string(b) + fmt.Sprintf("%v %+v %#v", o, o, o)
		}
		for _, v := range values {
			if v != "" && strings.Contains(text, v) {
				t.Errorf("a secret value appears in output: %.200s", text)
			}
		}
	}
}

func startVault(t *testing.T) (*vaulttest.Server, *api.Client) {
	t.Helper()
	s := vaulttest.Start(t)
	return s, s.Client(t)
}

func want(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}
