package main_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
)

// reportDoc is the part of `pushvault report --format json` this test reads.
type reportDoc struct {
	Repositories []reportFigures `json:"repositories"`
	Overall      reportFigures   `json:"overall"`
}

type reportFigures struct {
	Repository       string `json:"repository"`
	Found            int    `json:"found"`
	Vaulted          int    `json:"vaulted"`
	Rotated          int    `json:"rotated"`
	WaitingForPerson int    `json:"waiting_for_person"`
	Closed           int    `json:"closed"`
	Open             int    `json:"open"`
	OldestOpen       *struct {
		FindingID string `json:"finding_id"`
	} `json:"oldest_open"`
	ToVaulted reportDurations `json:"time_to_vaulted"`
	ToRotated reportDurations `json:"time_to_rotated"`
}

type reportDurations struct {
	Count int      `json:"count"`
	P50   *float64 `json:"p50_seconds"`
	P90   *float64 `json:"p90_seconds"`
}

// TestReportCommand runs `pushvault scan --fix` on a repository leaking a
// token of the test's Vault (rotated) and a Stripe key (left to a person),
// then `pushvault report` through the built binary: its figures are those
// of the ledger `evidence export` writes, they follow `pushvault rotated`,
// and no output holds a planted value.
func TestReportCommand(t *testing.T) {
	srv := vaulttest.Start(t)
	c := srv.Client(t)
	tok, err := c.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"default"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	token, stripe := tok.Auth.ClientToken, secrettest.New(62).Stripe()
	r := gittest.New(t)
	r.Git("remote", "add", "origin", "https://github.com/acme/shop.git")
	r.Commit("Dev <dev@example.com>", "configuration", map[string]string{
		".env":           "VAULT_TOKEN=" + token + "\n",
		"config/app.yml": "payments:\n  stripe_key: " + stripe + "\n",
	})
	data := t.TempDir()
	var outputs []result
	runIt := func(args ...string) result {
		t.Helper()
		res := vaultRun(t, srv, data, r.Dir, args...)
		outputs = append(outputs, res)
		return res
	}
	if fix := runIt("scan", "--fix"); fix.code != 1 {
		t.Fatalf("scan --fix: exit %d\n%s%s", fix.code, fix.stdout, fix.stderr)
	}

	// What the ledger says, by hand: each secret's detected, vaulted and
	// rotated times.
	type times struct{ detected, vaulted, rotated time.Time }
	ledgerTimes := func() (map[string]*times, string) {
		exp := runIt("evidence", "export")
		if exp.code != 0 {
			t.Fatalf("evidence export: exit %d %s", exp.code, exp.stderr)
		}
		byFP := map[string]*times{}
		var manualID string
		for _, line := range strings.Split(strings.TrimSpace(exp.stdout), "\n") {
			var rec struct {
				Time        time.Time `json:"time"`
				FindingID   string    `json:"finding_id"`
				Fingerprint string    `json:"fingerprint"`
				Transition  string    `json:"transition"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatal(err)
			}
			tt := byFP[rec.Fingerprint]
			if tt == nil {
				tt = &times{}
				byFP[rec.Fingerprint] = tt
			}
			switch rec.Transition {
			case "detected":
				tt.detected = rec.Time
			case "vaulted":
				tt.vaulted = rec.Time
			case "rotated", "marked_rotated":
				if tt.rotated.IsZero() {
					tt.rotated = rec.Time
				}
			case "rotation_manual":
				manualID = rec.FindingID
			}
		}
		return byFP, manualID
	}
	secs := func(d time.Duration) float64 { return float64(d.Round(time.Millisecond)) / float64(time.Second) }
	report := func(wantRotated, wantWaiting int) {
		t.Helper()
		res := runIt("report", "--format", "json")
		if res.code != 0 {
			t.Fatalf("report: exit %d\n%s", res.code, res.stderr)
		}
		var doc reportDoc
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
			t.Fatalf("report json: %v\n%s", err, res.stdout)
		}
		if len(doc.Repositories) != 1 || doc.Repositories[0].Repository != "acme/shop" {
			t.Fatalf("repositories: %+v", doc.Repositories)
		}
		f := doc.Repositories[0]
		byFP, _ := ledgerTimes()
		var toVaulted, toRotated []float64
		for _, tt := range byFP {
			toVaulted = append(toVaulted, secs(tt.vaulted.Sub(tt.detected)))
			if !tt.rotated.IsZero() {
				toRotated = append(toRotated, secs(tt.rotated.Sub(tt.detected)))
			}
		}
		if f.Found != 2 || f.Vaulted != 2 || f.Rotated != wantRotated || f.WaitingForPerson != wantWaiting || f.Closed != 0 || f.Open != 2 {
			t.Errorf("figures %+v, want found 2, vaulted 2, rotated %d, waiting %d, closed 0, open 2", f, wantRotated, wantWaiting)
		}
		// Two samples: nearest-rank p50 is the smaller, p90 the larger.
		lo, hi := min(toVaulted[0], toVaulted[1]), max(toVaulted[0], toVaulted[1])
		if f.ToVaulted.Count != 2 || *f.ToVaulted.P50 != lo || *f.ToVaulted.P90 != hi {
			t.Errorf("time to vaulted %+v, want 2 samples, p50 %v, p90 %v", f.ToVaulted, lo, hi)
		}
		if len(toRotated) != wantRotated || f.ToRotated.Count != wantRotated {
			t.Errorf("time to rotated: %d samples in the ledger, report %+v", len(toRotated), f.ToRotated)
		} else if wantRotated == 1 && (*f.ToRotated.P50 != toRotated[0] || *f.ToRotated.P90 != toRotated[0]) {
			t.Errorf("time to rotated %+v, want p50 = p90 = %v", f.ToRotated, toRotated[0])
		}
		if fmt.Sprint(doc.Overall.Found, doc.Overall.Rotated, doc.Overall.WaitingForPerson) != fmt.Sprint(f.Found, f.Rotated, f.WaitingForPerson) {
			t.Errorf("overall %+v differs from the one repository's %+v", doc.Overall, f)
		}
	}
	report(1, 1)

	// A person rotates the Stripe key: nothing waits any more.
	_, stripeID := ledgerTimes()
	if stripeID == "" {
		t.Fatal("no rotation_manual record in the ledger")
	}
	if m := runIt("rotated", stripeID, "--actor", "Ada Lovelace"); m.code != 0 {
		t.Fatalf("rotated: exit %d %s", m.code, m.stderr)
	}
	report(2, 0)

	// The other formats, the same source named explicitly, and a scope.
	csvRun := runIt("report", "--format", "csv", "--ledger", filepath.Join(data, "evidence.jsonl"), "--repo", "Acme/Shop")
	rows, err := csv.NewReader(strings.NewReader(csvRun.stdout)).ReadAll()
	if csvRun.code != 0 || err != nil || len(rows) != 3 || rows[0][0] != "row" || rows[1][1] != "acme/shop" || rows[1][3] != "2" || rows[2][0] != "overall" {
		t.Errorf("csv: exit %d, %v:\n%s%s", csvRun.code, err, csvRun.stdout, csvRun.stderr)
	}
	text := runIt("report")
	if text.code != 0 || !strings.Contains(text.stdout, "pushvault report: all repositories, as of ") || !strings.Contains(text.stdout, "\nacme/shop ") {
		t.Errorf("text: exit %d:\n%s%s", text.code, text.stdout, text.stderr)
	}

	// Bad input: a clear error and exit 2.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "--repo", "acme/typo"}, "the ledger holds no record of acme/typo"},
		{[]string{"report", "--installation", "7"}, "the ledger records no repository of installation 7"},
		{[]string{"report", "--installation", "7", "--repo", "acme/shop"}, "not both"},
		{[]string{"report", "--format", "xml"}, `unknown format "xml"`},
		{[]string{"report", "--repo", "shop"}, "--repo wants OWNER/REPO"},
		{[]string{"report", "--as-of", "yesterday"}, "RFC 3339"},
		{[]string{"report", "--ledger", filepath.Join(data, "none.jsonl")}, "does not exist"},
	} {
		res := runIt(tc.args...)
		if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, res.code, res.stderr, tc.want)
		}
	}

	ledger, err := os.ReadFile(filepath.Join(data, "evidence.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range append(outputs, result{stdout: string(ledger)}) {
		for _, v := range []string{token, stripe} {
			if strings.Contains(out.stdout+out.stderr, v) {
				t.Errorf("a planted value (starts %q) appears in pushvault's output", v[:4])
			}
		}
	}
}
