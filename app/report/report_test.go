package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/app/ledger"
	"github.com/pushvault/pushvault/app/local"
	"github.com/pushvault/pushvault/app/queue"
	"github.com/pushvault/pushvault/app/report"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/internal/vaulttest"
	"github.com/pushvault/pushvault/remediator"
	"github.com/pushvault/pushvault/remediator/evidence"
	"github.com/pushvault/pushvault/remediator/rotate"
	"github.com/pushvault/pushvault/remediator/vault"
	"github.com/pushvault/pushvault/scanner"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// asOf is when the test reports: two days after t0.
var asOf = t0.Add(48 * time.Hour)

// history appends, through the ledger API and the records' own
// constructors (remediator.FindingRecord, RotationRecorder, FixRecord, the
// handlers' closed, coverage and button-press records), the lifecycle of
// nine secrets at known times, to the recorder whose ledger clock is *now.
// It returns the planted values: none may appear in a report.
//
// Installation 42 covers acme/shop, acme/api, acme/clean and acme/old
// (removed later); installation 7 covers other/x.
//
//	acme/shop  s1 Stripe      detected t0, vaulted +1m, rotation_manual, fix_proposed; open
//	           s2 VaultToken  detected +10m, vaulted +11m, started +12m, rotated +14m, dead +15m, destroyed +16m, closed +2h10m
//	           s3 Postgres    detected +20m, vaulted +21m, started, rotated +23m, failed +24m, started +30m, dead +31m; open
//	           s4 AWS         detected +40m, vaulted +45m, rotation_pending +46m, rotation_approved +50m; open
//	acme/api   s5 Github      detected +1h, vaulted +1h00m30s, started, rotated, failed +1h02m, action_refused, closed (false positive) t0+24h
//	           s6 Slack       detected +2h, vaulted +2h02m, rotation_manual +2h03m, marked_rotated +5h; open
//	           s7 Generic     detected +3h (report only); open
//	acme/old   s8 SendGrid    detected t0-30m, vaulted t0-29m; open (repository removed at +6h)
//	other/x    s9 NpmToken    detected +5m; open
//
// Also: an inline_allowed and a scan_skipped record on acme/shop, and a
// closed record of s1 after asOf.
func history(t *testing.T, ctx context.Context, rec *ledger.Recorder, now *time.Time, fpr scanner.Fingerprinter) []string {
	t.Helper()
	g := secrettest.New(16)
	at := func(d time.Duration) { *now = t0.Add(d) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var planted []string
	finding := func(detector, value, commit, path string) *scanner.Finding {
		fp, err := fpr.Fingerprint(ctx, []byte(value))
		must(err)
		planted = append(planted, value)
		id := scanner.LocationID(detector, commit, path, 3)
		return &scanner.Finding{ID: id, Detector: detector, Secret: scanner.NewSecret(value), Redacted: scanner.Redact(value),
			Fingerprint: fp, Locations: []scanner.Location{{Commit: commit, Path: path, Line: 3, ID: id}}}
	}
	repoOf := map[*scanner.Finding]string{}
	vaulted := map[*scanner.Finding]*remediator.Vaulted{}
	detect := func(repo string, f *scanner.Finding) {
		repoOf[f] = repo
		must(rec.Append(ctx, remediator.FindingRecord(repo, f, evidence.Detected, "pushvault (push by dev)", nil)))
	}
	store := func(f *scanner.Finding) {
		v := &remediator.Vaulted{Finding: f, Name: strings.ToLower(f.Detector), Stored: vault.Stored{Path: "pushvault/" + repoOf[f] + "/" + strings.ToLower(f.Detector), Version: 1}}
		vaulted[f] = v
		must(rec.Append(ctx, remediator.FindingRecord(repoOf[f], f, evidence.Vaulted, "pushvault (push by dev)", v)))
	}
	rotation := func(f *scanner.Finding, e rotate.Event) {
		target := rotate.Target{Repository: repoOf[f], FindingID: f.ID, Fingerprint: string(f.Fingerprint), Detector: f.Detector,
			Mount: "secret", Path: vaulted[f].Stored.Path, ExposedVersion: 1}
		must(remediator.RotationRecorder(rec, "pushvault (push by dev)").Record(ctx, target, e))
	}
	fix := func(f *scanner.Finding) {
		must(rec.Append(ctx, remediator.FixRecord(repoOf[f], vaulted[f], "pushvault (push by dev)",
			remediator.FixCommit{Branch: "pushvault/fix-1234567", Commit: "89abcdef0123456789abcdef0123456789abcdef"})))
	}
	closed := func(f *scanner.Finding, actor, reason string) {
		must(rec.Append(ctx, evidence.Record{FindingID: f.ID, Fingerprint: string(f.Fingerprint), Repository: repoOf[f],
			Transition: evidence.Closed, Actor: actor, VaultPath: vaulted[f].Location(), VaultVersion: 1,
			Detail: map[string]string{"reason": reason, "detector": f.Detector}}))
	}
	press := func(f *scanner.Finding, transition string) {
		must(rec.Append(ctx, evidence.Record{FindingID: f.ID, Fingerprint: string(f.Fingerprint), Repository: repoOf[f],
			Transition: transition, Actor: "github:mallory", Detail: map[string]string{"detector": f.Detector, "occurrence": "press " + transition}}))
	}
	coverage := func(installation int64, repo, transition, delivery string) {
		must(rec.Append(ctx, evidence.Record{FindingID: evidence.CoverageSubject(installation, repo), Repository: repo,
			Transition: transition, Actor: "github:admin",
			Detail: map[string]string{"delivery_id": delivery, "event": "installation", "action": "created", "installation_id": strconv.FormatInt(installation, 10)}}))
	}

	ak, _ := g.AWS()
	s1 := finding("Stripe", g.Stripe(), "c1", "config/app.yml")
	s2 := finding("VaultToken", g.VaultToken(), "c1", ".env")
	s3 := finding("Postgres", g.PostgresPassword(), "c2", ".env")
	s4 := finding("AWS", ak, "c3", "deploy.sh")
	s5 := finding("Github", g.GitHub(), "a1", "ci.yml")
	s6 := finding("Slack", g.Slack(), "a2", "bot.py")
	s7 := finding(scanner.GenericName, g.Alnum(32), "a3", "settings.ini")
	s8 := finding("SendGrid", g.SendGrid(), "o1", "mail.go")
	s9 := finding("NpmToken", g.NPM(), "x1", ".npmrc")
	s7.ReportOnly = true
	inline := finding("Stripe", g.Stripe(), "c4", "test/fixture.yml")

	at(-time.Hour)
	for _, repo := range []string{"acme/shop", "acme/api", "acme/clean", "acme/old"} {
		coverage(42, repo, evidence.RepositoryAdded, "d-1")
	}
	coverage(7, "other/x", evidence.RepositoryAdded, "d-2")
	at(-30 * time.Minute)
	detect("acme/old", s8)
	at(-29 * time.Minute)
	store(s8)
	at(0)
	detect("acme/shop", s1)
	must(rec.Append(ctx, evidence.Record{FindingID: "push:refs/heads/main@c0", Repository: "acme/shop", Transition: evidence.ScanSkipped,
		Actor: "admin", Detail: map[string]string{"reason": "emergency"}}))
	repoOf[inline] = "acme/shop"
	for _, r := range remediator.InlineAllowedRecords("acme/shop", inline, "dev") {
		must(rec.Append(ctx, r))
	}
	at(time.Minute)
	store(s1)
	at(2 * time.Minute)
	rotation(s1, rotate.Event{Transition: evidence.RotationManual, Detail: map[string]string{"guide": "stripe"}})
	at(3 * time.Minute)
	fix(s1)
	at(5 * time.Minute)
	detect("other/x", s9)
	at(10 * time.Minute)
	detect("acme/shop", s2)
	at(11 * time.Minute)
	store(s2)
	at(12 * time.Minute)
	rotation(s2, rotate.Event{Transition: evidence.RotationStarted, Rotator: "vault_token", Attempt: 1, Version: 1})
	at(14 * time.Minute)
	rotation(s2, rotate.Event{Transition: evidence.Rotated, Rotator: "vault_token", Attempt: 1, Version: 2})
	at(15 * time.Minute)
	rotation(s2, rotate.Event{Transition: evidence.ExposedVerifiedDead, Rotator: "vault_token", Attempt: 1, Version: 1})
	at(16 * time.Minute)
	rotation(s2, rotate.Event{Transition: evidence.ExposedDestroyed, Rotator: "vault_token", Attempt: 1, Version: 1})
	at(17 * time.Minute)
	fix(s2)
	at(20 * time.Minute)
	detect("acme/shop", s3)
	at(21 * time.Minute)
	store(s3)
	at(22 * time.Minute)
	rotation(s3, rotate.Event{Transition: evidence.RotationStarted, Rotator: "postgres", Attempt: 1, Version: 1})
	at(23 * time.Minute)
	rotation(s3, rotate.Event{Transition: evidence.Rotated, Rotator: "postgres", Attempt: 1, Version: 2})
	at(24 * time.Minute)
	rotation(s3, rotate.Event{Transition: evidence.RotationFailed, Rotator: "postgres", Attempt: 1,
		Detail: map[string]string{"step": "checking the exposed value is dead", "reason": "connection refused"}})
	at(30 * time.Minute)
	rotation(s3, rotate.Event{Transition: evidence.RotationStarted, Rotator: "postgres", Attempt: 2, Version: 1})
	at(31 * time.Minute)
	rotation(s3, rotate.Event{Transition: evidence.ExposedVerifiedDead, Rotator: "postgres", Attempt: 2, Version: 1})
	at(40 * time.Minute)
	detect("acme/shop", s4)
	at(45 * time.Minute)
	store(s4)
	at(46 * time.Minute)
	rotation(s4, rotate.Event{Transition: evidence.RotationPending, Rotator: "aws", Detail: map[string]string{"reason": "approval: required"}})
	at(50 * time.Minute)
	press(s4, evidence.RotationApproved)
	at(time.Hour)
	detect("acme/api", s5)
	at(time.Hour + 30*time.Second)
	store(s5)
	at(time.Hour + time.Minute)
	rotation(s5, rotate.Event{Transition: evidence.RotationStarted, Rotator: "github", Attempt: 1, Version: 1})
	at(time.Hour + 90*time.Second)
	rotation(s5, rotate.Event{Transition: evidence.Rotated, Rotator: "github", Attempt: 1, Version: 2})
	at(time.Hour + 2*time.Minute)
	rotation(s5, rotate.Event{Transition: evidence.RotationFailed, Rotator: "github", Attempt: 1,
		Detail: map[string]string{"step": "checking the exposed value is dead", "reason": "503"}})
	at(time.Hour + 3*time.Minute)
	press(s5, evidence.ActionRefused)
	at(2 * time.Hour)
	detect("acme/api", s6)
	at(2*time.Hour + 2*time.Minute)
	store(s6)
	at(2*time.Hour + 3*time.Minute)
	rotation(s6, rotate.Event{Transition: evidence.RotationManual, Detail: map[string]string{"guide": "slack"}})
	at(2*time.Hour + 10*time.Minute)
	closed(s2, "github:octocat", "fix merged")
	at(3 * time.Hour)
	detect("acme/api", s7)
	at(5 * time.Hour)
	rotation(s6, rotate.Event{Transition: evidence.MarkedRotated, Actor: "alice", Version: 2, Detail: map[string]string{"previous_state": "rotation_manual"}})
	at(6 * time.Hour)
	coverage(42, "acme/old", evidence.RepositoryRemoved, "d-3")
	at(24 * time.Hour)
	closed(s5, "github:octocat", "false positive (marked from the check run by octocat)")
	at(10 * 24 * time.Hour)
	closed(s1, "github:octocat", "fix merged")
	return planted
}

func f64(v float64) *float64 { return &v }

func durations(n int, p50, p90 float64) report.Durations {
	return report.Durations{Count: n, P50: f64(p50), P90: f64(p90)}
}

// wantInstallation42 is the report of installation 42 as of asOf, computed
// by hand from history's table.
func wantInstallation42() *report.Report {
	shop := &report.Figures{Repository: "acme/shop", Coverage: "covered", Found: 4, Vaulted: 4, Rotated: 2, WaitingForPerson: 2, Closed: 1, Open: 3,
		// s1, detected at t0: 48 h old.
		OldestOpen: &report.Exposure{Repository: "acme/shop", FindingID: scanner.LocationID("Stripe", "c1", "config/app.yml", 3), Detector: "Stripe",
			Commit: "c1", Path: "config/app.yml", Line: "3", DetectedAt: t0, AgeSeconds: 172800},
		ToVaulted: durations(4, 60, 300),  // 60 60 60 300: ranks 2 and 4
		ToRotated: durations(2, 240, 660), // s2 14m-10m, s3 31m-20m
		ToClosed:  durations(1, 7200, 7200),
	}
	api := &report.Figures{Repository: "acme/api", Coverage: "covered", Found: 3, Vaulted: 2, Rotated: 1, WaitingForPerson: 0, Closed: 1, Open: 2,
		// s6, detected at +2h: 46 h old.
		OldestOpen: &report.Exposure{Repository: "acme/api", FindingID: scanner.LocationID("Slack", "a2", "bot.py", 3), Detector: "Slack",
			Commit: "a2", Path: "bot.py", Line: "3", DetectedAt: t0.Add(2 * time.Hour), AgeSeconds: 165600},
		ToVaulted: durations(2, 30, 120),
		ToRotated: durations(1, 10800, 10800), // marked 3 h after detection
		ToClosed:  durations(1, 82800, 82800), // 24h - 1h
	}
	clean := &report.Figures{Repository: "acme/clean", Coverage: "covered"}
	s8 := &report.Exposure{Repository: "acme/old", FindingID: scanner.LocationID("SendGrid", "o1", "mail.go", 3), Detector: "SendGrid",
		Commit: "o1", Path: "mail.go", Line: "3", DetectedAt: t0.Add(-30 * time.Minute), AgeSeconds: 174600}
	old := &report.Figures{Repository: "acme/old", Coverage: "removed", Found: 1, Vaulted: 1, Open: 1, OldestOpen: s8,
		ToVaulted: durations(1, 60, 60)}
	overall := &report.Figures{Found: 8, Vaulted: 7, Rotated: 3, WaitingForPerson: 2, Closed: 2, Open: 6, OldestOpen: s8,
		ToVaulted: durations(7, 60, 300),     // 30 60 60 60 60 120 300: ranks 4 and 7
		ToRotated: durations(3, 660, 10800),  // 240 660 10800: ranks 2 and 3
		ToClosed:  durations(2, 7200, 82800), // ranks 1 and 2
	}
	return &report.Report{AsOf: asOf, Installation: 42, Repositories: []*report.Figures{api, clean, old, shop}, Overall: overall}
}

// setup builds history's ledger in a file signed by a real Vault's transit
// key and returns its path.
func setup(t *testing.T) (path string, planted []string) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	s, err := vault.Open(ctx, vault.Config{Address: srv.Addr, Auth: vault.Auth{Token: srv.Token}})
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "evidence.jsonl")
	var now time.Time
	l := evidence.New(evidence.NewFile(path), evidence.TransitSigner{T: s.Transit, Key: vault.EvidenceKey},
		evidence.WithClock(func() time.Time { return now }))
	rec, err := ledger.Over(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	planted = history(t, ctx, rec, &now, s.Transit.Fingerprinter(vault.FingerprintKey))
	rep, err := l.Verify(ctx)
	if err != nil {
		t.Fatalf("the test's ledger does not verify: %v", err)
	}
	t.Logf("ledger of %d records", rep.Records)
	return path, planted
}

func run(t *testing.T, o local.ReportOptions) string {
	t.Helper()
	var out bytes.Buffer
	if err := local.Report(context.Background(), o, &out); err != nil {
		t.Fatalf("report %+v: %v", o.Options, err)
	}
	return out.String()
}

func noPlanted(t *testing.T, name, out string, planted []string) {
	t.Helper()
	for _, v := range planted {
		if strings.Contains(out, v) {
			t.Errorf("%s output holds a planted secret value", name)
		}
	}
}

// TestReportFigures checks every figure of the three formats against the
// hand-computed report of a ledger the test writes with known times.
func TestReportFigures(t *testing.T) {
	path, planted := setup(t)
	src := local.EvidenceSource{Path: path}
	opts := func(format string, o report.Options) local.ReportOptions {
		o.AsOf = asOf
		return local.ReportOptions{Source: src, Options: o, Format: format}
	}

	// JSON: the whole document.
	out := run(t, opts("json", report.Options{Installation: 42}))
	noPlanted(t, "json", out, planted)
	var got report.Report
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if diff := cmp.Diff(wantInstallation42(), &got, cmp.AllowUnexported(report.Figures{})); diff != "" {
		t.Errorf("installation 42, json (-want +got):\n%s", diff)
	}
	for _, key := range []string{`"as_of": "2026-03-04T09:00:00Z"`, `"time_to_rotated": {`, `"p50_seconds": 660`, `"waiting_for_person": 2`, `"oldest_open": null`} {
		if !strings.Contains(out, key) {
			t.Errorf("json lacks %s:\n%s", key, out)
		}
	}

	// CSV: every cell.
	out = run(t, opts("csv", report.Options{Installation: 42}))
	noPlanted(t, "csv", out, planted)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	w := wantInstallation42()
	id := func(e *report.Exposure) string { return e.FindingID }
	const as = "2026-03-04T09:00:00Z"
	wantCSV := [][]string{
		report.CSVHeader,
		{"repository", "acme/api", "covered", "3", "2", "1", "0", "1", "2", id(w.Repositories[0].OldestOpen), "acme/api", "2026-03-02T11:00:00Z", "165600",
			"2", "30", "120", "1", "10800", "10800", "1", "82800", "82800", as},
		{"repository", "acme/clean", "covered", "0", "0", "0", "0", "0", "0", "", "", "", "", "0", "", "", "0", "", "", "0", "", "", as},
		{"repository", "acme/old", "removed", "1", "1", "0", "0", "0", "1", id(w.Overall.OldestOpen), "acme/old", "2026-03-02T08:30:00Z", "174600",
			"1", "60", "60", "0", "", "", "0", "", "", as},
		{"repository", "acme/shop", "covered", "4", "4", "2", "2", "1", "3", id(w.Repositories[3].OldestOpen), "acme/shop", "2026-03-02T09:00:00Z", "172800",
			"4", "60", "300", "2", "240", "660", "1", "7200", "7200", as},
		{"overall", "", "", "8", "7", "3", "2", "2", "6", id(w.Overall.OldestOpen), "acme/old", "2026-03-02T08:30:00Z", "174600",
			"7", "60", "300", "3", "660", "10800", "2", "7200", "82800", as},
	}
	if diff := cmp.Diff(wantCSV, rows); diff != "" {
		t.Errorf("installation 42, csv (-want +got):\n%s", diff)
	}

	// Text: the table as people read it.
	out = run(t, opts("text", report.Options{Installation: 42}))
	noPlanted(t, "text", out, planted)
	wantText := "pushvault report: installation 42, as of 2026-03-04T09:00:00Z\n\n" +
		"REPOSITORY          FOUND  VAULTED  ROTATED  WAITING  CLOSED  OPEN  OLDEST OPEN                    TO VAULTED p50/p90  TO ROTATED p50/p90  TO CLOSED p50/p90  \n" +
		"acme/api            3      2        1        0        1       2     1d22h " + id(w.Repositories[0].OldestOpen) + "  30s/2m00s           3h00m/3h00m         23h00m/23h00m      \n" +
		"acme/clean          0      0        0        0        0       0     -                              -                   -                   -                  \n" +
		"acme/old (removed)  1      1        0        0        0       1     2d0h " + id(w.Overall.OldestOpen) + "   1m00s/1m00s         -                   -                  \n" +
		"acme/shop           4      4        2        2        1       3     2d0h " + id(w.Repositories[3].OldestOpen) + "   1m00s/5m00s         4m00s/11m00s        2h00m/2h00m        \n" +
		"(all)               8      7        3        2        2       6     2d0h " + id(w.Overall.OldestOpen) + "   1m00s/5m00s         11m00s/3h00m        2h00m/23h00m       \n" +
		"\nWAITING: open secrets whose rotation waits for a person (manual, or held for approval).\n" +
		"OLDEST OPEN: the longest-known open secret, its age since detection. Times run from detection.\n"
	if diff := cmp.Diff(wantText, out); diff != "" {
		t.Errorf("installation 42, text (-want +got):\n%s", diff)
	}

	// One repository, named in another case: its row is the same.
	out = run(t, opts("json", report.Options{Repository: "ACME/API"}))
	var one report.Report
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatal(err)
	}
	wantOne := &report.Report{AsOf: asOf, Repository: "ACME/API", Repositories: []*report.Figures{w.Repositories[0]}, Overall: &report.Figures{}}
	*wantOne.Overall = *w.Repositories[0]
	wantOne.Overall.Repository, wantOne.Overall.Coverage = "", ""
	if diff := cmp.Diff(wantOne, &one, cmp.AllowUnexported(report.Figures{})); diff != "" {
		t.Errorf("--repo ACME/API (-want +got):\n%s", diff)
	}

	// No scope: installation 7's repository joins; nothing else changes.
	out = run(t, opts("json", report.Options{}))
	var all report.Report
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range all.Repositories {
		names = append(names, f.Repository)
	}
	if diff := cmp.Diff([]string{"acme/api", "acme/clean", "acme/old", "acme/shop", "other/x"}, names); diff != "" {
		t.Errorf("every repository (-want +got):\n%s", diff)
	}
	if o := all.Overall; o.Found != 9 || o.Open != 7 || o.Vaulted != 7 || all.Repositories[4].Coverage != "covered" {
		t.Errorf("every repository: overall found %d open %d vaulted %d; other/x coverage %q, want 9, 7, 7, covered",
			o.Found, o.Open, o.Vaulted, all.Repositories[4].Coverage)
	}

	// As of t0 + 11 days, s1's closing counts: acme/shop has 2 closed.
	later := opts("json", report.Options{Repository: "acme/shop"})
	later.AsOf = t0.Add(11 * 24 * time.Hour)
	var after report.Report
	if err := json.Unmarshal([]byte(run(t, later)), &after); err != nil {
		t.Fatal(err)
	}
	if f := after.Repositories[0]; f.Closed != 2 || f.WaitingForPerson != 1 || *f.ToClosed.P90 != 864000 {
		t.Errorf("acme/shop as of t0+11d: closed %d, waiting %d, time to closed p90 %v; want 2, 1, 864000", f.Closed, f.WaitingForPerson, *f.ToClosed.P90)
	}

	// A scope the ledger knows nothing of is an error, not an empty report.
	for _, o := range []report.Options{{Installation: 9}, {Repository: "acme/typo"}} {
		err := local.Report(context.Background(), opts("text", o), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "nothing recorded") {
			t.Errorf("%+v: error %v, want one saying nothing is recorded", o, err)
		}
	}
}

// TestReportFromServeLedger reads the same history from the JetStream
// ledger of pushvault serve's embedded NATS store (--data-dir): the report
// is the file ledger's.
func TestReportFromServeLedger(t *testing.T) {
	ctx := context.Background()
	srv := vaulttest.Start(t)
	s, err := vault.Open(ctx, vault.Config{Address: srv.Addr, Auth: vault.Auth{Token: srv.Token}})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	js, closeJS, err := queue.ConnectJetStream(ctx, slog.New(slog.DiscardHandler), queue.Config{}, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := evidence.CreateJetStream(ctx, js, 1)
	if err != nil {
		closeJS()
		t.Fatal(err)
	}
	var now time.Time
	l := evidence.New(b, evidence.TransitSigner{T: s.Transit, Key: vault.EvidenceKey}, evidence.WithClock(func() time.Time { return now }))
	rec, err := ledger.Over(ctx, l)
	if err != nil {
		closeJS()
		t.Fatal(err)
	}
	planted := history(t, ctx, rec, &now, s.Transit.Fingerprinter(vault.FingerprintKey))
	closeJS() // serve must be stopped for --data-dir

	out := run(t, local.ReportOptions{Source: local.EvidenceSource{DataDir: dataDir}, Options: report.Options{Installation: 42, AsOf: asOf}, Format: "json"})
	noPlanted(t, "json", out, planted)
	var got report.Report
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantInstallation42(), &got, cmp.AllowUnexported(report.Figures{})); diff != "" {
		t.Errorf("installation 42 from the JetStream ledger (-want +got):\n%s", diff)
	}
}
