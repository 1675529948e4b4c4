package remediator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/scanner"
)

// A password written percent-encoded in a URI (p%40ss for p@ss) is found,
// but a reference would put it back decoded, changing the URI: the fix
// leaves it, with a manual step at its line that names the reference and
// not the password, rather than skipping it silently.
func TestPipelinePercentEncodedPassword(t *testing.T) {
	g := secrettest.Fresh(t)
	pw := g.Alnum(10) + "@" + g.Alnum(10)
	files := map[string]string{".env": "PORT=8080\nDATABASE_URL=postgres://app:" + strings.Replace(pw, "@", "%40", 1) + "@db.acme.internal/app\n"}
	v, _ := fixOne(t, files, "Postgres")
	if len(v.Edits) != 0 || len(v.Manual) != 1 || v.Manual[0].Path != ".env" || v.Manual[0].Line != 2 {
		t.Fatalf("edits %v, manual %+v; want one manual step at .env:2", v.Edits, v.Manual)
	}
	if m := v.Manual[0]; !strings.Contains(m.Step, v.Refs["password"].Vault()) || strings.Contains(m.Step+m.Reason, pw) ||
		strings.Contains(m.Step+m.Reason, strings.Replace(pw, "@", "%40", 1)) {
		t.Errorf("manual step %q: want the password's reference, never the password", m.Step)
	}
}

// fixOne commits files to a fresh repository, scans it, wants one finding
// of detector, and runs the pipeline on it; it returns what the pipeline
// did with the finding, and the ports.
func fixOne(t *testing.T, files map[string]string, detector string) (*remediator.Vaulted, *ports) {
	t.Helper()
	r := gittest.New(t)
	r.Commit("", "files", files)
	scan, err := scanner.New().Scan(context.Background(), r.Dir, scanner.All())
	if err != nil || len(scan.Findings) != 1 || scan.Findings[0].Detector != detector {
		t.Fatalf("scan: %v, %d findings, want one %s", err, len(scan.Findings), detector)
	}
	p := newPorts()
	res, err := p.run(t, scan.Findings, files)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res.Plan.Secrets[0], p
}
