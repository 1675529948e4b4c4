package githubapp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/internal/golden"
	"github.com/pushvault/pushvault/scanner"
)

func sampleOutcome() *githubapp.Outcome {
	return &githubapp.Outcome{
		Owner: "acme", Repo: "shop", Branch: "main", HeadSHA: "0123456789abcdef0123456789abcdef01234567", Scanned: 3,
		Skipped: map[string]int{"binary": 1, "too_large": 2},
		Unscanned: []scanner.SkippedFile{
			{Commit: "89abcdef0123456789abcdef0123456789abcdef", Path: "img/logo.png", Reason: scanner.SkipBinary, Bytes: 16 << 10},
			{Commit: "89abcdef0123456789abcdef0123456789abcdef", Path: "db/dump|1.sql", Reason: scanner.SkipTooLarge, Bytes: 12 << 20},
			{Commit: "0123456789abcdef0123456789abcdef01234567", Path: "data/big.csv", Reason: scanner.SkipTooLarge, Bytes: 30 << 20},
		},
		Base: "fedcba9876543210fedcba9876543210fedcba98",
		Secrets: []githubapp.SecretOutcome{
			{
				FindingID: "pv_0a1b2c3d4e5f60718293", Detector: "Stripe", Redacted: "sk_live_…9Zx",
				Locations: []scanner.Location{
					{Commit: "89abcdef0123456789abcdef0123456789abcdef", Path: "config/app.yml", Line: 4},
					{Commit: "0123456789abcdef0123456789abcdef01234567", Path: "src/pay|ment.js", Line: 12},
				},
				VaultPath: "secret/data/pushvault/acme/shop/stripe_api_key", VaultVersion: 1,
				Reference: "vault:secret/data/pushvault/acme/shop/stripe_api_key#value", EnvNames: []string{"STRIPE_API_KEY"},
				Rotation: "manual: see #7", Manual: []string{"Roll the key in the Stripe dashboard (Developers → API keys)."},
			},
			{
				FindingID: "pv_ffeeddccbbaa99887766", Detector: "VaultToken", Redacted: "hvs.…Qk",
				Locations: []scanner.Location{{Commit: "0123456789abcdef0123456789abcdef01234567", Path: ".env", Line: 2}},
				VaultPath: "secret/data/pushvault/acme/shop/vault_token", VaultVersion: 2,
				Reference: "vault:secret/data/pushvault/acme/shop/vault_token#value", EnvNames: []string{"VAULT_TOKEN"},
				Rotation: "revoked",
			},
		},
		PR: &githubapp.PRLink{Number: 8, URL: "https://github.example/acme/shop/pull/8", Branch: "pushvault/fix-0123456"},
	}
}

func TestSummaryGolden(t *testing.T) {
	o := sampleOutcome()
	golden.Assert(t, "githubapp/summary_found.md", githubapp.Summary(o))
	body, more := githubapp.PRBody(o)
	golden.Assert(t, "githubapp/pr_body.md", body)
	if len(more) != 0 || githubapp.Text(o) != "" {
		t.Errorf("a small report continues in %d comments and a text of %d bytes", len(more), len(githubapp.Text(o)))
	}

	clean := &githubapp.Outcome{Owner: "acme", Repo: "shop", Branch: "feature/x", HeadSHA: "abcdef0", Scanned: 1}
	golden.Assert(t, "githubapp/summary_clean.md", githubapp.Summary(clean))

	failed := sampleOutcome()
	failed.PR = nil
	failed.Failure = "Vault is unreachable at http://127.0.0.1:8200 after 5 attempts; the push will not be retried"
	golden.Assert(t, "githubapp/summary_failed.md", githubapp.Summary(failed))

	// Inline allows on record: listed with the pusher, no value, and the
	// run still succeeds.
	allowed := &githubapp.Outcome{Owner: "acme", Repo: "shop", Branch: "main", HeadSHA: "abcdef0", Scanned: 1, Pusher: "alice",
		InlineAllowed: []githubapp.InlineAllowed{{FindingID: "pv_00112233445566778899", Detector: "Github",
			Location: scanner.Location{Commit: "abcdef0123456789abcdef0123456789abcdef01", Path: "test/fixture.py", Line: 3}}}}
	golden.Assert(t, "githubapp/summary_inline_allowed.md", githubapp.Summary(allowed))
	if got := githubapp.Title(allowed); got != "No secrets found; 1 inline allow on record" || allowed.Conclusion() != githubapp.ConclusionSuccess {
		t.Errorf("title %q, conclusion %s", got, allowed.Conclusion())
	}
	// A tag: no pull request can change it, so the summary says what to do.
	tagged := sampleOutcome()
	tagged.Branch, tagged.Tag, tagged.PR = "", "v1.2.0", nil
	golden.Assert(t, "githubapp/summary_tag.md", githubapp.Summary(tagged))

	// Over the server's scan limits: the newest commits were scanned and
	// what they hold handled; the rest is named, with the command that
	// scans it all, and the run is neutral.
	truncated := sampleOutcome()
	truncated.Branch, truncated.Base, truncated.Scanned = "import", "refs/heads/main", 50
	truncated.Truncated = &githubapp.Truncated{Truncation: scanner.Truncation{By: "commits", Commits: 100000, Oldest: "5555555555555555555555555555555555555555"},
		Bytes: 3 << 20, Limits: scanner.Limits{MaxCommits: 50, MaxBytes: 1 << 30}}
	golden.Assert(t, "githubapp/summary_truncated.md", githubapp.Summary(truncated))
	if got, want := githubapp.Title(truncated), "2 secrets moved to Vault; 99950 commits not scanned (over the scan limits)"; got != want || truncated.Conclusion() != githubapp.ConclusionNeutral {
		t.Errorf("title %q, conclusion %s; want %q, neutral", got, truncated.Conclusion(), want)
	}
	truncated.Secrets, truncated.PR, truncated.Base = nil, nil, ""
	truncated.Truncated.By = "bytes"
	golden.Assert(t, "githubapp/summary_truncated_bytes.md", githubapp.Summary(truncated))
}

func TestConclusion(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    *githubapp.Outcome
		want string
	}{
		{"nothing found", &githubapp.Outcome{}, githubapp.ConclusionSuccess},
		{"found and fixed", sampleOutcome(), githubapp.ConclusionActionRequired},
		{"failed", &githubapp.Outcome{Failure: "vault down", Secrets: sampleOutcome().Secrets}, githubapp.ConclusionFailure},
	} {
		if got := tc.o.Conclusion(); got != tc.want {
			t.Errorf("%s: Conclusion() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSummaryStaysUnderGitHubsLimit(t *testing.T) {
	o := sampleOutcome()
	base := o.Secrets[0]
	o.Secrets = nil
	for i := range 2000 {
		s := base
		s.FindingID = fmt.Sprintf("pv_%020d", i)
		s.Locations = []scanner.Location{{Commit: "89abcdef", Path: strings.Repeat("deep/", 10) + fmt.Sprintf("f%d.yml", i), Line: i + 1}}
		o.Secrets = append(o.Secrets, s)
	}
	got, text := githubapp.Summary(o), githubapp.Text(o)
	if len(got) > githubapp.MaxSummary || len(text) > githubapp.MaxText {
		t.Fatalf("summary is %d characters, text %d: over GitHub's %d", len(got), len(text), githubapp.MaxSummary)
	}
	if !strings.Contains(got, "continues in its details below") || !strings.Contains(text, "each an annotation of this run") {
		t.Errorf("a report cut must say where the rest is; the summary ends %q, the text %q", got[len(got)-200:], text[len(text)-300:])
	}
	if n := len(githubapp.Annotations(o)); n != 2000 {
		t.Errorf("Annotations = %d, want one per location (2000)", n)
	}
}

func TestAnnotationsOnePerLocation(t *testing.T) {
	anns := githubapp.Annotations(sampleOutcome())
	var got []string
	for _, a := range anns {
		got = append(got, fmt.Sprintf("%s:%d %s", a.GetPath(), a.GetStartLine(), a.GetAnnotationLevel()))
	}
	want := []string{"config/app.yml:4 failure", "src/pay|ment.js:12 failure", ".env:2 failure"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTextsNameTheStore: an outcome whose secrets went to AWS Secrets
// Manager says so in every text a person reads (title, summary, fix PR
// body, annotations, tag and orphan advice, manual-rotation issue, history
// issue), and none of them claims the values are in Vault. (With Vault,
// the goldens above hold the wording byte for byte.)
func TestTextsNameTheStore(t *testing.T) {
	o := sampleOutcome()
	for i := range o.Secrets {
		o.Secrets[i].Store = "AWS Secrets Manager"
		o.Secrets[i].VaultPath = "aws-secretsmanager:eu-west-1/pushvault/acme/shop/" + o.Secrets[i].Detector
		o.Secrets[i].Reference = "ref+awssecrets://pushvault/acme/shop/" + o.Secrets[i].Detector + "?region=eu-west-1#/value"
	}
	tag, orphan := *o, *o
	tag.Tag, tag.PR = "v1", nil
	orphan.Orphaned = true
	body, _ := githubapp.PRBody(o)
	issue, _ := githubapp.RotationBody(o, githubapp.Rotation{Secret: o.Secrets[0], Steps: []string{"rotate it"}})
	history := githubapp.HistoryBody(&githubapp.History{Owner: "acme", Repo: "shop", DefaultBranch: "main", Commits: 3,
		Items: []githubapp.HistoryItem{{Secret: o.Secrets[0]}}})
	var notes []string
	for _, a := range githubapp.Annotations(o) {
		notes = append(notes, a.GetMessage())
	}
	for name, text := range map[string]string{
		"title": githubapp.Title(o), "summary": githubapp.Summary(o), "pr body": body, "annotations": strings.Join(notes, "\n"),
		"tag summary": githubapp.Summary(&tag), "orphan summary": githubapp.Summary(&orphan), "rotation issue": issue, "history issue": history,
	} {
		if !strings.Contains(text, "AWS Secrets Manager") || containsAny(text, "to Vault", "in Vault", "into Vault", "| Vault |", "Vault path", "vault kv", "vault reference", "vault-env") {
			t.Errorf("%s does not name AWS Secrets Manager alone:\n%s", name, text)
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
