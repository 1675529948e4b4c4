package scanner_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/internal/fixture"
	"github.com/pushvault/pushvault/internal/gittest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/scanner"
)

type got struct {
	Detector string
	Commit   string
	Path     string
	Line     int
}

func summarize(res *scanner.Result) []got {
	var out []got
	for _, f := range res.Findings {
		l := f.First()
		out = append(out, got{f.Detector, l.Commit, l.Path, l.Line})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Detector < out[j].Detector })
	return out
}

// sameSecret compares a finding's value with the planted one, allowing for
// the forms detectors normalise to: PEM keys with their line breaks
// rewritten, connection URIs reduced to scheme://user:password@host:port.
func sameSecret(p fixture.Planted, got string) bool {
	switch p.Detector {
	case "PrivateKey":
		return strings.Join(strings.Fields(p.Value), "") == strings.Join(strings.Fields(got), "")
	case "Postgres":
		return strings.HasPrefix(p.Value, got) && strings.Count(got, ":") == 3
	}
	return p.Value == got
}

func scan(t *testing.T, dir string, target scanner.Target, opts ...scanner.Option) *scanner.Result {
	t.Helper()
	res, err := scanner.New(opts...).Scan(context.Background(), dir, target)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return res
}

func TestScanFindsEveryPlantedSecret(t *testing.T) {
	f := fixture.Leaky(t)
	res := scan(t, f.Repo.Dir, scanner.Reachable("HEAD"))

	var want []got
	for _, p := range f.Planted {
		want = append(want, got{p.Detector, f.Commits[p.Commit], p.Path, p.Line})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Detector < want[j].Detector })
	if diff := cmp.Diff(want, summarize(res)); diff != "" {
		t.Fatalf("findings (-want +got):\n%s", diff)
	}

	byDetector := map[string]*scanner.Finding{}
	for _, fd := range res.Findings {
		byDetector[fd.Detector] = fd
	}
	for _, p := range f.Planted {
		fd := byDetector[p.Detector]
		if !sameSecret(p, fd.Secret.Reveal()) {
			t.Errorf("%s: finding holds a different value than the one planted", p)
		}
		if fd.First().Author == "" || !strings.Contains(fd.First().Author, "@acme.test") {
			t.Errorf("%s: author %q", p, fd.First().Author)
		}
		if fd.Verified != scanner.VerifiedUnknown {
			t.Errorf("%s: verified %q without --verify, want unknown", p, fd.Verified)
		}
	}

	// The Stripe key was copied into billing/stripe.go in a later commit:
	// one finding, two locations, the first introduction first.
	stripe := byDetector["Stripe"]
	wantLocs := []got{
		{"Stripe", f.Commits[0], ".env", 2},
		{"Stripe", f.Commits[3], "billing/stripe.go", 3},
	}
	var gotLocs []got
	for _, l := range stripe.Locations {
		gotLocs = append(gotLocs, got{"Stripe", l.Commit, l.Path, l.Line})
	}
	if diff := cmp.Diff(wantLocs, gotLocs); diff != "" {
		t.Errorf("stripe locations (-want +got):\n%s", diff)
	}
	// AWS keys are one finding with both parts named.
	aws := byDetector["AWS"]
	if aws.Parts["access_key_id"].Reveal() == "" || aws.Parts["secret_access_key"].Reveal() == "" {
		t.Errorf("AWS finding lacks its two named parts: %v", aws.Parts)
	}
	if res.Stats.Commits != 4 {
		t.Errorf("stats.commits = %d, want 4", res.Stats.Commits)
	}
}

func TestScanLookalikesReportNothing(t *testing.T) {
	r := gittest.New(t)
	files := map[string]string{}
	entries, err := os.ReadDir("../testdata/lookalikes")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("../testdata/lookalikes", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(data)
	}
	r.Commit("", "look-alikes", files)
	res := scan(t, r.Dir, scanner.All())
	for _, f := range res.Findings {
		t.Errorf("false positive: %s at %s:%d (%s)", f.Detector, f.First().Path, f.First().Line, f.Redacted)
	}
	if res.Stats.Files != len(files) {
		t.Errorf("scanned %d files, want %d", res.Stats.Files, len(files))
	}
}

// The author is the pusher's to write: control characters in it (the
// header's own field separator included) must not break the scan.
func TestScanAuthorWithControlCharacters(t *testing.T) {
	g := secrettest.New(9)
	r := gittest.New(t)
	r.Commit("Mal\x1flory\x1e <mal\x1f@acme.test>", "leak", map[string]string{"a.env": "TOKEN=" + g.GitHub() + "\n"})
	res := scan(t, r.Dir, scanner.Reachable("HEAD"))
	if len(res.Findings) != 1 || res.Findings[0].Detector != "Github" {
		t.Fatalf("findings = %v, want the GitHub token", summarize(res))
	}
	if got := res.Findings[0].First().Author; !strings.Contains(got, "Mal\x1flory") {
		t.Errorf("author = %q, want it whole", got)
	}
}

// A merge commit that adds content neither parent had ("evil merge") is
// scanned like any other commit; a clean merge adds no finding.
func TestScanEvilMerge(t *testing.T) {
	g := secrettest.New(10)
	r := gittest.New(t)
	r.Commit("", "base", map[string]string{"a.txt": "base\n"})
	r.Git("checkout", "-q", "-b", "side")
	r.Commit("", "side", map[string]string{"b.txt": "side\n"})
	r.Git("checkout", "-q", "main")
	r.Commit("", "main", map[string]string{"c.txt": "main\n"})
	r.Git("merge", "-q", "--no-commit", "side")
	r.Commit("", "merge side", map[string]string{"evil.env": "TOKEN=" + g.GitHub() + "\n"})
	merge := r.Git("rev-parse", "HEAD")
	res := scan(t, r.Dir, scanner.Reachable("HEAD"))
	if len(res.Findings) != 1 || res.Findings[0].First().Commit != merge || res.Findings[0].First().Path != "evil.env" {
		t.Fatalf("findings = %v, want the token the merge commit added", summarize(res))
	}
}

func TestScanTargets(t *testing.T) {
	g := secrettest.New(7)
	r := gittest.New(t)
	base := r.Commit("", "base", map[string]string{"a.txt": "token: " + g.GitHub() + "\n"})
	r.Git("checkout", "-q", "-b", "feature")
	feat := r.Commit("", "feature", map[string]string{"b.txt": "stripe: " + g.Stripe() + "\n"})
	r.Git("checkout", "-q", "main")

	cases := []struct {
		name   string
		target scanner.Target
		want   []string
	}{
		{"range base..feature", scanner.Range(base, "feature"), []string{"Stripe"}},
		{"all", scanner.All(), []string{"Github", "Stripe"}},
		{"reachable from main", scanner.Reachable("main"), []string{"Github"}},
		{"new branch feature", scanner.NewBranch("refs/heads/feature", feat), []string{"Stripe"}},
		{"empty range", scanner.Range(feat, feat), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			for _, f := range scan(t, r.Dir, tc.target).Findings {
				names = append(names, f.Detector)
			}
			sort.Strings(names)
			if diff := cmp.Diff(tc.want, names); diff != "" {
				t.Errorf("detectors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	r := gittest.New(t)
	r.Commit("", "one", map[string]string{"a.txt": "hello\n"})
	notRepo := t.TempDir()
	file := filepath.Join(notRepo, "file")
	os.WriteFile(file, []byte("x"), 0o644)

	cases := []struct {
		name    string
		dir     string
		target  scanner.Target
		wantErr string
		is      error
	}{
		{"not a repository", notRepo, scanner.Reachable("HEAD"), "not a git repository", scanner.ErrNotRepository},
		{"a file", file, scanner.Reachable("HEAD"), "not a git repository", scanner.ErrNotRepository},
		{"missing dir", filepath.Join(notRepo, "nope"), scanner.Reachable("HEAD"), "not a git repository", scanner.ErrNotRepository},
		{"bad range end", r.Dir, scanner.Range("HEAD", "nosuchbranch"), `bad range HEAD..nosuchbranch: "nosuchbranch" is not a commit`, nil},
		{"option-like revision", r.Dir, scanner.Range("--output=/tmp/x", "HEAD"), `"--output=/tmp/x" is not a commit`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanner.New().Scan(context.Background(), tc.dir, tc.target)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
		})
	}
	if _, err := scanner.ParseRange("main"); err == nil || !strings.Contains(err.Error(), "want A..B") {
		t.Errorf("ParseRange(main) = %v, want a usage error", err)
	}
}

func TestScanSkipsBinaryLFSAndLargeFiles(t *testing.T) {
	g := secrettest.New(9)
	r := gittest.New(t)
	secret := g.Stripe()
	big := strings.Repeat("filler line without secrets\n", 2000) + "key=" + secret + "\n"
	r.Commit("", "assets", map[string]string{
		"img/logo.png":   fixture.PNG(t, "key="+secret),
		"data/model.bin": "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69f22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
		"dump.sql":       big,
		"ok.txt":         "nothing here\n",
	})
	settings, err := scanner.ParseSettings("test", []byte("scan:\n  max_file_size: 32KiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := scan(t, r.Dir, scanner.All(), scanner.WithSettings(settings))
	if len(res.Findings) != 0 {
		t.Errorf("findings in skipped files: %v", summarize(res))
	}
	want := map[scanner.SkipReason]int{scanner.SkipBinary: 1, scanner.SkipLFS: 1, scanner.SkipTooLarge: 1}
	if diff := cmp.Diff(want, res.Stats.Reasons); diff != "" {
		t.Errorf("skip reasons (-want +got):\n%s", diff)
	}
	if res.Stats.Skipped != 3 || res.Stats.Files != 1 {
		t.Errorf("stats %+v, want 3 skipped, 1 scanned", res.Stats)
	}
	for _, s := range res.Skipped {
		if s.Reason == scanner.SkipTooLarge && (s.Path != "dump.sql" || s.Bytes != int64(len(big))) {
			t.Errorf("too large: %+v, want dump.sql with the %d bytes it adds", s, len(big))
		}
	}
	// Under the default limit the large file is scanned and the secret found.
	res = scan(t, r.Dir, scanner.All())
	if len(res.Findings) != 1 || res.Findings[0].First().Path != "dump.sql" || res.Findings[0].First().Line != 2001 {
		t.Errorf("default limit: %v, want the Stripe key at dump.sql:2001", summarize(res))
	}
}

func TestScanOpenSSHKeyIsNotAPlaceholder(t *testing.T) {
	key := secrettest.New(17).OpenSSHKey()
	if !strings.Contains(key, "AAAAAAAA") {
		t.Fatalf("fixture key has no run of A; the test would prove nothing")
	}
	r := gittest.New(t)
	r.Commit("", "key", map[string]string{"id_ed25519": key})
	if got := summarize(scan(t, r.Dir, scanner.All())); len(got) != 1 || got[0].Detector != "PrivateKey" {
		t.Fatalf("findings %v, want the OpenSSH private key", got)
	}
}

func TestScanEncodedSecrets(t *testing.T) {
	g := secrettest.New(19)
	gh, stripe := g.GitHub(), g.Stripe()
	r := gittest.New(t)
	r.Commit("", "encoded", map[string]string{
		"k8s/secret.yaml": "apiVersion: v1\nkind: Secret\ndata:\n  token: " + base64.StdEncoding.EncodeToString([]byte("GITHUB_TOKEN="+gh)) + "\n",
		"app.js":          "const key = \"" + strings.ReplaceAll(stripe, "_", "\\u005f") + "\";\n",
	})
	want := []got{{"Github", r.Head(), "k8s/secret.yaml", 4}, {"Stripe", r.Head(), "app.js", 1}}
	if diff := cmp.Diff(want, summarize(scan(t, r.Dir, scanner.All()))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestScanOddPathsAndDiffText(t *testing.T) {
	g := secrettest.New(11)
	r := gittest.New(t)
	a, b, c := g.GitHub(), g.GitHub(), g.GitHub()
	r.Commit("", "odd", map[string]string{
		"dir with space/fïlé \"q\".txt": "x\n" + a + "\n",
		"notes.md":                      "+++ b/fake header\ndiff --git a/x b/x\n@@ -1 +1 @@\n" + b + "\n",
		"-dash.txt":                     c + "\n",
	})
	res := scan(t, r.Dir, scanner.All())
	want := map[string]int{"dir with space/fïlé \"q\".txt": 2, "notes.md": 4, "-dash.txt": 1}
	gotPaths := map[string]int{}
	for _, f := range res.Findings {
		gotPaths[f.First().Path] = f.First().Line
	}
	if diff := cmp.Diff(want, gotPaths); diff != "" {
		t.Errorf("paths and lines (-want +got):\n%s", diff)
	}
}

func TestScanWindowsLargeAdditions(t *testing.T) {
	// A secret deep inside a large added file, and a PEM key straddling the
	// boundary between two scan windows, are both found at the right line.
	g := secrettest.New(13)
	r := gittest.New(t)
	key := g.PrivateKey()
	var b strings.Builder
	line := 0
	for b.Len() < (64<<10)-200 {
		b.WriteString("some ordinary configuration line number xx\n")
		line++
	}
	keyLine := line + 1
	b.WriteString(key)
	line += strings.Count(key, "\n")
	for b.Len() < 300<<10 {
		b.WriteString("more ordinary text that holds nothing at all\n")
		line++
	}
	tok := g.GitHub()
	b.WriteString("token=" + tok + "\n")
	tokLine := line + 1
	r.Commit("", "big", map[string]string{"big.txt": b.String()})
	res := scan(t, r.Dir, scanner.All())
	wantLines := map[string]int{"PrivateKey": keyLine, "Github": tokLine}
	gotLines := map[string]int{}
	for _, f := range res.Findings {
		gotLines[f.Detector] = f.First().Line
	}
	if diff := cmp.Diff(wantLines, gotLines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// A value a pattern detector finds is that detector's finding only, also
// when a name says it is a password and when the two are in different
// commits; a generic secret beside it is still found, marked report-only
// under the default mode.
func TestGenericLeavesPatternSecretsToTheirDetectors(t *testing.T) {
	g := secrettest.Fresh(t)
	stripe, pass := g.Stripe(), g.PostgresPassword()
	r := gittest.New(t)
	r.Commit("", "billing", map[string]string{".env": "STRIPE_SECRET_KEY=" + stripe + "\n"})
	r.Commit("", "db", map[string]string{"config/database.yml": "production:\n  password: " + pass + "\n  api_secret: \"" + stripe + "\"\n"})
	res := scan(t, r.Dir, scanner.All())
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s %s report_only=%v", f.Detector, f.First().Path, f.ReportOnly))
	}
	sort.Strings(got)
	want := []string{"Generic config/database.yml report_only=true", "Stripe .env report_only=false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestScanVaultTokenSpellingAWord: a Vault token is random after its
// prefix, so some real tokens spell an English word. TruffleHog's word
// filter drops any value holding a word of its list (for its detectors'
// keyword-and-entropy matches); applied to Vault tokens it dropped real
// ones, about one in a few dozen. Only the known placeholder terms apply.
func TestScanVaultTokenSpellingAWord(t *testing.T) {
	tok := secrettest.New(23).VaultToken()
	tok = tok[:20] + "garden" + tok[26:] // "garden" is in TruffleHog's fp_words.txt
	r := gittest.New(t)
	r.Commit("", "ci", map[string]string{"ci/env.sh": "export VAULT_TOKEN=" + tok + "\n"})
	if got := summarize(scan(t, r.Dir, scanner.All())); len(got) != 1 || got[0].Detector != "VaultToken" {
		t.Fatalf("findings %v, want the Vault token", got)
	}
}

// TestScanKeySpellingAWord: TruffleHog refuses an unverified value that
// holds any word of its English list, and pushvault does not verify: a
// live Stripe key whose random part happens to spell "garden" (about one
// random key in 600 spells some word) went unreported. A value mostly made
// of words is still a placeholder.
func TestScanKeySpellingAWord(t *testing.T) {
	key := secrettest.New(29).Stripe()
	key = key[:12] + "Garden" + key[18:]
	r := gittest.New(t)
	r.Commit("", "keys", map[string]string{
		"config/live.env":    "STRIPE_KEY=" + key + "\n",
		"config/example.env": "STRIPE_KEY=sk_live_ThisIsNotARealSecretKeyHere\n",
	})
	want := []got{{"Stripe", r.Head(), "config/live.env", 1}}
	if diff := cmp.Diff(want, summarize(scan(t, r.Dir, scanner.All()))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
