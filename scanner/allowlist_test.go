package scanner_test

import (
	"context"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

func detectorsOf(res *scanner.Result) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.Detector+"@"+f.First().Path)
	}
	sort.Strings(out)
	return out
}

// Each allowlist form drops exactly what it names.
func TestAllowlists(t *testing.T) {
	g := secrettest.New(21)
	r := gittest.New(t)
	gh, stripe, slack, vaultTok := g.GitHub(), g.Stripe(), g.Slack(), g.VaultToken()
	r.Commit("", "mixed", map[string]string{
		"app/config.env":          "GITHUB_TOKEN=" + gh + "\nSTRIPE_KEY=" + stripe + "\n",
		"app/inline.py":           "TOKEN = \"" + g.GitHub() + "\"  # pushvault:allow fixture for the API tests\n",
		"testdata/fixtures/a.txt": "slack=" + slack + "\n",
		"ops/vault.sh":            "export VAULT_TOKEN=" + vaultTok + "\n",
	})
	all := []string{"Github@app/config.env", "Slack@testdata/fixtures/a.txt", "Stripe@app/config.env", "VaultToken@ops/vault.sh"}

	base := scan(t, r.Dir, scanner.All())
	if diff := cmp.Diff(all, detectorsOf(base)); diff != "" {
		t.Fatalf("without allowlist (-want +got):\n%s", diff)
	}
	var stripeID string
	for _, f := range base.Findings {
		if f.Detector == "Stripe" {
			stripeID = f.ID
		}
	}

	cases := []struct {
		name     string
		settings string
		want     []string
	}{
		{"inline comment only", "", all},
		{"path glob", "allowlist:\n  paths: [\"testdata/**\"]\n",
			[]string{"Github@app/config.env", "Stripe@app/config.env", "VaultToken@ops/vault.sh"}},
		{"path glob with extension", "allowlist:\n  paths: [\"**/*.sh\"]\n",
			[]string{"Github@app/config.env", "Slack@testdata/fixtures/a.txt", "Stripe@app/config.env"}},
		{"detector name, any case", "allowlist:\n  detectors: [github, VaultToken]\n",
			[]string{"Slack@testdata/fixtures/a.txt", "Stripe@app/config.env"}},
		{"finding id", "allowlist:\n  findings: [" + stripeID + "]\n",
			[]string{"Github@app/config.env", "Slack@testdata/fixtures/a.txt", "VaultToken@ops/vault.sh"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := scanner.ParseSettings("pushvault.yml", []byte(tc.settings))
			if err != nil {
				t.Fatal(err)
			}
			got := detectorsOf(scan(t, r.Dir, scanner.All(), scanner.WithSettings(s)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Inline markers do not make the scanner drop anything: what they mark
// comes back apart, in InlineAllowed, and DisregardInlineAllow joins it to
// the finding of the same secret as if no line were marked.
func TestInlineAllowedKeptApart(t *testing.T) {
	g := secrettest.New(rand.Uint64())
	shared, marked := g.GitHub(), g.Stripe()
	r := gittest.New(t)
	first := r.Commit("", "fixtures", map[string]string{
		"a/client.py": "TOKEN = \"" + shared + "\"  # pushvault:allow fixture\n",
		"b/test.env":  "STRIPE=" + marked + " # trufflehog:ignore\n",
	})
	second := r.Commit("", "reuse", map[string]string{"c/prod.env": "GITHUB_TOKEN=" + shared + "\n"})
	res := scan(t, r.Dir, scanner.All(), scanner.WithFingerprinter(localKey(t)))
	type loc struct{ Detector, ID, Commit, Path string }
	locs := func(fs []*scanner.Finding) []loc {
		var out []loc
		for _, f := range fs {
			if f.Fingerprint == "" {
				t.Errorf("%s finding %s has no fingerprint", f.Detector, f.ID)
			}
			for _, l := range f.Locations {
				out = append(out, loc{f.Detector, f.ID, l.Commit, l.Path})
			}
		}
		return out
	}
	id := func(det, commit, path string) string { return scanner.LocationID(det, commit, path, 1) }
	want := []loc{{"Github", id("Github", second, "c/prod.env"), second, "c/prod.env"}}
	if diff := cmp.Diff(want, locs(res.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	wantInline := []loc{
		{"Github", id("Github", first, "a/client.py"), first, "a/client.py"},
		{"Stripe", id("Stripe", first, "b/test.env"), first, "b/test.env"},
	}
	if diff := cmp.Diff(wantInline, locs(res.InlineAllowed)); diff != "" {
		t.Errorf("inline allowed (-want +got):\n%s", diff)
	}
	res.DisregardInlineAllow()
	joined := []loc{
		{"Github", id("Github", first, "a/client.py"), first, "a/client.py"},
		{"Github", id("Github", first, "a/client.py"), second, "c/prod.env"},
		{"Stripe", id("Stripe", first, "b/test.env"), first, "b/test.env"},
	}
	if diff := cmp.Diff(joined, locs(res.Findings)); diff != "" || len(res.InlineAllowed) != 0 {
		t.Errorf("disregarding the markers (-want +got):\n%s\n%d still inline allowed", diff, len(res.InlineAllowed))
	}
}

// A finding id names where a secret was introduced, so the same id comes
// out of a clone of the repository on another machine, and it holds nothing
// of the value: two different secrets at the same place get the same id.
func TestFindingIDsAreStableAndValueFree(t *testing.T) {
	g := secrettest.New(23)
	a, b := g.Stripe(), g.Stripe()
	mk := func(v string) *gittest.Repo {
		r := gittest.New(t)
		r.Commit("", "k", map[string]string{"k.env": "STRIPE=" + v + "\n"})
		return r
	}
	r1 := mk(a)
	clone := gittest.Clone(t, r1.Dir)
	id1 := scan(t, r1.Dir, scanner.All()).Findings[0].ID
	idClone := scan(t, clone.Dir, scanner.All()).Findings[0].ID
	if id1 != idClone {
		t.Errorf("id differs between a repository and its clone: %s vs %s", id1, idClone)
	}
	rA, rB := mk(a), mk(b)
	fa, fb := scan(t, rA.Dir, scanner.All()).Findings[0], scan(t, rB.Dir, scanner.All()).Findings[0]
	want := scanner.LocationID("Stripe", fa.First().Commit, "k.env", 1)
	if fa.ID != want {
		t.Errorf("id %s, want LocationID(detector, commit, path, line) = %s", fa.ID, want)
	}
	if fb.ID != scanner.LocationID("Stripe", fb.First().Commit, "k.env", 1) {
		t.Errorf("id of b is not derived from its location")
	}
}

func TestCustomDetectorFromSettings(t *testing.T) {
	r := gittest.New(t)
	r.Commit("", "internal", map[string]string{
		"svc.yaml": "acme_token: acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0\nother: acme_short\n",
	})
	s, err := scanner.ParseSettings("pushvault.yml", []byte(`
detectors:
  - name: AcmeInternalToken
    regex: '\b(acme_[0-9a-f]{32})\b'
    keywords: [acme_]
`))
	if err != nil {
		t.Fatal(err)
	}
	res := scan(t, r.Dir, scanner.All(), scanner.WithSettings(s))
	if diff := cmp.Diff([]got{{"AcmeInternalToken", r.Head(), "svc.yaml", 1}}, summarize(res)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A custom detector's name is a valid allowlist entry.
	s, err = scanner.ParseSettings("pushvault.yml", []byte(`
allowlist:
  detectors: [AcmeInternalToken]
detectors:
  - name: AcmeInternalToken
    regex: 'acme_[0-9a-f]{32}'
`))
	if err != nil {
		t.Fatal(err)
	}
	if res := scan(t, r.Dir, scanner.All(), scanner.WithSettings(s)); len(res.Findings) != 0 {
		t.Errorf("allowlisted custom detector still reported: %v", summarize(res))
	}
}

func localKey(t *testing.T) *scanner.LocalKey {
	t.Helper()
	k, err := scanner.NewLocalKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// batchKey is LocalKey with FingerprintAll, counting its calls.
type batchKey struct {
	*scanner.LocalKey
	calls, values int
}

func (b *batchKey) FingerprintAll(ctx context.Context, values [][]byte) ([]scanner.Fingerprint, error) {
	b.calls++
	b.values += len(values)
	out := make([]scanner.Fingerprint, len(values))
	for i, v := range values {
		out[i], _ = b.Fingerprint(ctx, v)
	}
	return out, nil
}

// TestFingerprintsInOneBatch: a Fingerprinter that batches is asked once
// per scan, for each distinct secret once (an inline-allowed occurrence of
// a secret found elsewhere too included), and gives the fingerprints one
// at a time would.
func TestFingerprintsInOneBatch(t *testing.T) {
	g := secrettest.New(rand.Uint64())
	shared, other := g.GitHub(), g.Stripe()
	r := gittest.New(t)
	r.Commit("", "leaks", map[string]string{
		"a/client.py": "TOKEN = \"" + shared + "\"  # pushvault:allow fixture\n",
		"b/prod.env":  "GITHUB_TOKEN=" + shared + "\nSTRIPE=" + other + "\n",
	})
	bk := &batchKey{LocalKey: localKey(t)}
	res := scan(t, r.Dir, scanner.All(), scanner.WithFingerprinter(bk))
	if bk.calls != 1 || bk.values != 2 {
		t.Errorf("%d batch calls for %d values, want 1 for 2", bk.calls, bk.values)
	}
	plain := scan(t, r.Dir, scanner.All(), scanner.WithFingerprinter(localKey(t)))
	want := map[string]scanner.Fingerprint{}
	for _, f := range append(plain.Findings, plain.InlineAllowed...) {
		want[f.ID] = f.Fingerprint
	}
	for _, f := range append(res.Findings, res.InlineAllowed...) {
		if f.Fingerprint == "" || f.Fingerprint != want[f.ID] {
			t.Errorf("%s finding %s: fingerprint %q, want %q", f.Detector, f.ID, f.Fingerprint, want[f.ID])
		}
	}
}
