package serve_test

import (
	"fmt"
	"testing"

	"github.com/pushvault/pushvault/app/queue/queuetest"
	"github.com/pushvault/pushvault/app/serve"
)

// TestFindingLabelsAreBounded: a repository's settings may define custom
// detectors and name them as they like; a pusher naming one per push must
// not add a series per name to pushvault_findings_total. Built-in
// detectors keep their own label.
func TestFindingLabelsAreBounded(t *testing.T) {
	m := serve.NewMetrics(nil)
	for i := range 50 {
		m.Finding(fmt.Sprintf("acme-internal-token-%d", i))
	}
	m.Finding("Stripe")
	m.Finding("VaultToken")
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		if mf.GetName() == "pushvault_findings_total" {
			series = len(mf.GetMetric())
		}
	}
	if series != 3 {
		t.Errorf("%d series of pushvault_findings_total, want 3 (custom, Stripe, VaultToken)", series)
	}
	if got := queuetest.Metric(t, m.Registry, "pushvault_findings_total", map[string]string{"detector": "custom"}); got != 50 {
		t.Errorf("custom findings = %v, want 50", got)
	}
}
