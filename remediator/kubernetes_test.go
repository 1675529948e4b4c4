package remediator_test

import (
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// yamlDocs parses a YAML stream with PyYAML, a parser independent of the
// one the rewrite uses.
func yamlDocs(t *testing.T, content []byte) []map[string]any {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 (PyYAML), the independent YAML parser, is not installed")
	}
	cmd := exec.Command("python3", "-c", "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))")
	cmd.Stdin = strings.NewReader(string(content))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyYAML does not parse the rewritten file: %v", err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(out, &docs); err != nil {
		t.Fatalf("PyYAML output: %v", err)
	}
	return docs
}

// changedLines lists the 1-based lines where a and b differ; both must have
// the same number of lines.
func changedLines(t *testing.T, a, b string) []int {
	t.Helper()
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(al) != len(bl) {
		t.Fatalf("the rewrite changed the number of lines from %d to %d", len(al), len(bl))
	}
	var out []int
	for i := range al {
		if al[i] != bl[i] {
			out = append(out, i+1)
		}
	}
	return out
}

// Committed Kubernetes Secrets hold their values base64-encoded under
// data:. The scanner reports the decoded secret; the fix vaults it decoded
// and writes, in place of the encoded value, the base64 of the Vault
// reference (bank-vaults' secrets webhook resolves such a value), changing
// nothing else: other keys, other documents, block and flow style alike. A
// base64 value outside a Secret's data gets a manual step that says so.
func TestPipelineRewritesKubernetesSecretData(t *testing.T) {
	g := secrettest.Fresh(t)
	stripe, slack, pw, gh, stripe2 := g.Stripe(), g.Slack(), g.PostgresPassword(), g.GitHub(), g.Stripe()
	dbURL := "postgres://shop:" + pw + "@db.shop.svc:5432/shop?sslmode=require"
	manifest := `# Payments service
apiVersion: v1
kind: ConfigMap
metadata:
  name: payments
data:
  LOG_LEVEL: info
---
apiVersion: v1
kind: Secret
metadata:
  name: payments
  namespace: shop
  labels:
    app.kubernetes.io/name: payments
type: Opaque
data:
  STRIPE_SECRET_KEY: ` + b64(stripe) + `
  WEBHOOK_PATH: ` + b64("/hooks/stripe") + `
  DATABASE_URL: "` + b64(dbURL) + `"
---
apiVersion: v1
kind: Service
metadata:
  name: payments
spec:
  ports: [{port: 80, targetPort: 8080}]
`
	flow := `{apiVersion: v1, kind: Secret, metadata: {name: slack-bot}, type: Opaque, data: {token: '` + b64(slack) + `', channel: ` + b64("#alerts") + `}}
`
	values := `{
  "image": {"pullSecret": {"registry": "ghcr.io", "auth": "` + b64("deploy:"+gh) + `"}}
}
`
	code := "package pay\n\nimport \"encoding/base64\"\n\n// obfuscated so it is not grepped\nvar encodedKey = \"" + b64(stripe2) + "\"\n\nfunc key() ([]byte, error) { return base64.StdEncoding.DecodeString(encodedKey) }\n"
	files := map[string]string{"k8s/payments.yaml": manifest, "deploy/slack-secret.yml": flow, "charts/shop/values.json": values, "internal/pay/key.go": code}
	fs := []*scanner.Finding{
		finding("pv_00000000000000000101", "Stripe", stripe, "k8s/payments.yaml", 18),
		finding("pv_00000000000000000102", "Postgres", dbURL, "k8s/payments.yaml", 20),
		finding("pv_00000000000000000103", "Slack", slack, "deploy/slack-secret.yml", 1),
		finding("pv_00000000000000000104", "Github", gh, "charts/shop/values.json", 2),
		finding("pv_00000000000000000105", "Stripe", stripe2, "internal/pay/key.go", 6),
	}
	p := newPorts()
	res, err := p.run(t, fs, files)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	planted := []string{stripe, slack, pw, gh, stripe2, b64(stripe), b64(slack), b64(dbURL), b64("deploy:" + gh), b64(stripe2)}
	noneIn := func(what, s string) {
		t.Helper()
		for _, v := range planted {
			if strings.Contains(s, v) {
				t.Errorf("%s holds a planted secret or its base64", what)
			}
		}
	}
	for _, v := range res.Plan.Secrets[:3] {
		if len(v.Edits) != 1 || len(v.Manual) != 0 {
			t.Errorf("%s: edits %+v, manual %+v; want one edit", v.Finding.Detector, v.Edits, v.Manual)
		}
	}

	// In Vault: the decoded value, never its base64.
	for i, want := range []string{stripe, pw, slack, gh} {
		v := res.Plan.Secrets[i]
		key := "value"
		if v.Finding.Detector == "Postgres" {
			key = "password"
		}
		item := p.store.Items[string(v.Finding.Fingerprint)]
		if got := item.Data[key].Reveal(); got != want {
			t.Errorf("%s: vaulted %s is not the decoded secret", v.Finding.Detector, key)
		}
	}
	if got := res.Plan.Secrets[0].Name; got != "stripe_secret_key" {
		t.Errorf("vault name of the Stripe key = %q, want the data key stripe_secret_key", got)
	}

	out := string(p.fix.Files["k8s/payments.yaml"])
	noneIn("k8s/payments.yaml", out)
	if diff := changedLines(t, manifest, out); len(diff) != 2 || diff[0] != 18 || diff[1] != 20 {
		t.Errorf("changed lines %v, want only 18 and 20 (the two leaked keys):\n%s", diff, out)
	}
	docs := yamlDocs(t, []byte(out))
	if len(docs) != 3 {
		t.Fatalf("%d documents after the fix, want 3", len(docs))
	}
	data := docs[1]["data"].(map[string]any)
	decode := func(v any) string {
		b, err := base64.StdEncoding.DecodeString(v.(string))
		if err != nil {
			t.Fatalf("data value is not base64 after the fix: %v", err)
		}
		return string(b)
	}
	if got, want := decode(data["STRIPE_SECRET_KEY"]), res.Plan.Secrets[0].Refs["value"].Vault(); got != want {
		t.Errorf("STRIPE_SECRET_KEY decodes to %q, want %q", got, want)
	}
	wantURL := strings.Replace(dbURL, pw, res.Plan.Secrets[1].Refs["password"].Inline(), 1)
	if got := decode(data["DATABASE_URL"]); got != wantURL {
		t.Errorf("DATABASE_URL decodes to %q, want %q", got, wantURL)
	}
	if got := decode(data["WEBHOOK_PATH"]); got != "/hooks/stripe" {
		t.Errorf("WEBHOOK_PATH changed to %q", got)
	}

	fout := string(p.fix.Files["deploy/slack-secret.yml"])
	noneIn("deploy/slack-secret.yml", fout)
	want := strings.Replace(flow, b64(slack), b64(res.Plan.Secrets[2].Refs["value"].Vault()), 1)
	if fout != want {
		t.Errorf("flow-style Secret:\n%s\nwant\n%s", fout, want)
	}
	yamlDocs(t, []byte(fout))

	// A base64 value pushvault does not decode: a manual step naming the
	// line, the encoding and the reference.
	gv := res.Plan.Secrets[3]
	if _, ok := p.fix.Files["charts/shop/values.json"]; ok || len(gv.Manual) != 1 {
		t.Fatalf("values.json: edits %+v, manual %+v; want one manual step and no edit", gv.Edits, gv.Manual)
	}
	m := gv.Manual[0]
	if m.Line != 2 || !strings.Contains(m.Step, "base64") || !strings.Contains(m.Step, gv.Refs["value"].Vault()) {
		t.Errorf("manual step %+v: want line 2, the base64 encoding and the reference", m)
	}
	noneIn("manual step", m.Step+m.Reason)

	// Base64 in code: read the decoded value from the environment.
	cv := res.Plan.Secrets[4]
	if _, ok := p.fix.Files["internal/pay/key.go"]; ok || len(cv.Manual) != 1 {
		t.Fatalf("key.go: edits %+v, manual %+v; want one manual step and no edit", cv.Edits, cv.Manual)
	}
	if m := cv.Manual[0]; m.Line != 6 || !strings.Contains(m.Step, "base64") || !strings.Contains(m.Step, `os.Getenv("`) || !strings.Contains(m.Step, cv.Refs["value"].Vault()) {
		t.Errorf("manual step %+v: want line 6, the encoding, the lookup and the reference", m)
	}
	noneIn("fix commit message", strings.Join(p.fix.Messages, "\n"))
}
