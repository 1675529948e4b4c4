package scanner_test

import (
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
