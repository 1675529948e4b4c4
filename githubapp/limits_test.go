package githubapp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/scanner"
)

// manyLocations is sampleOutcome with n secrets, secret i committed at
// deep/…/f<i>.yml line i+1 of sha and vaulted at …/key_<i>.
func manyLocations(n int, sha string) *githubapp.Outcome {
	o := sampleOutcome()
	base := o.Secrets[0]
	o.Secrets = nil
	for i := range n {
		s := base
		s.FindingID = fmt.Sprintf("pv_%020d", i)
		s.VaultPath = fmt.Sprintf("secret/data/pushvault/acme/shop/key_%d", i)
		s.Reference = "vault:" + s.VaultPath + "#value"
		s.Locations = []scanner.Location{{Commit: sha, Path: strings.Repeat("deep/", 10) + fmt.Sprintf("f%d.yml", i), Line: i + 1}}
		o.Secrets = append(o.Secrets, s)
	}
	return o
}

// thread is what GitHub shows of one pull request, issue or commit: its
// body and its comments.
func thread(srv *githubtest.Server, body string, issue int, sha string) []string {
	out := []string{body}
	for _, c := range srv.Comments() {
		if (issue != 0 && c.Kind == "issue" && c.Issue == issue) || (sha != "" && c.CommitSHA == sha) {
			out = append(out, c.Body)
		}
	}
	return out
}

// within fails t for a text over GitHub's body limit and for each want not
// in texts; it returns how many texts there are.
func within(t *testing.T, what string, texts []string, want ...string) int {
	t.Helper()
	for _, s := range texts {
		if n := utf8.RuneCountInString(s); n > githubapp.MaxBody {
			t.Errorf("%s: a text of %d characters", what, n)
		}
	}
	all := strings.Join(texts, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%s: %q is not listed", what, w)
		}
	}
	return len(texts)
}

// TestBodiesPastGitHubsLimitContinueInComments: a fix pull request for
// 2000 secrets, a commit comment listing them and a rotation issue for a
// secret committed in 3000 places are each more than one GitHub body. Each
// is opened (the stand-in refuses an oversize body as GitHub does), the
// rest follows in comments, every secret and place is listed, and doing it
// all again posts nothing more.
func TestBodiesPastGitHubsLimitContinueInComments(t *testing.T) {
	srv, gh := standIn(t, map[string]string{"README.md": "shop\n"})
	ctx := context.Background()
	sha := head(t, gh, "acme", "shop", "main")
	o := manyLocations(2000, sha)
	var paths, places []string
	for _, s := range o.Secrets {
		paths = append(paths, "`"+s.VaultPath+"`")
		places = append(places, fmt.Sprintf("`%s:%d`", s.Locations[0].Path, s.Locations[0].Line))
	}
	pushFixBranch(t, gh, "pushvault/fix-0123456")
	lone := sampleOutcome().Secrets[0]
	lone.Locations = nil
	for i := range 3000 {
		lone.Locations = append(lone.Locations, scanner.Location{Commit: sha, Path: fmt.Sprintf("svc%d/config.yml", i), Line: 7})
	}
	rot := githubapp.Rotation{Secret: lone, Steps: []string{"Roll the key in the Stripe dashboard."}}
	var lonePlaces []string
	for _, l := range lone.Locations {
		lonePlaces = append(lonePlaces, fmt.Sprintf("`%s:7`", l.Path))
	}

	var counts []int
	for range 2 {
		pr, err := githubapp.NewPullRequests(gh).Open(ctx, o, "pushvault/fix-0123456", "main")
		if err != nil {
			t.Fatal(err)
		}
		o.PR = pr
		if err := githubapp.NewComments(gh).CommitComments(ctx, o); err != nil {
			t.Fatal(err)
		}
		iss, err := githubapp.NewIssues(gh).OpenRotation(ctx, o, rot)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, len(srv.Comments()))
		prs, issues := srv.PullRequests(), srv.Issues()
		if len(prs) != 1 || len(issues) != 1 {
			t.Fatalf("%d pull requests and %d issues, want one each", len(prs), len(issues))
		}
		if n := within(t, "fix pull request", thread(srv, prs[0].Body, pr.Number, ""), append(paths, places...)...); n < 2 {
			t.Errorf("the fix pull request is in %d parts: the test no longer passes GitHub's limit", n)
		}
		if n := within(t, "commit comments", thread(srv, "", 0, sha), places...); n < 3 {
			t.Errorf("the commit comment is in %d parts: the test no longer passes GitHub's limit", n-1)
		}
		if n := within(t, "rotation issue", thread(srv, issues[0].Body, iss.Number, ""), lonePlaces...); n < 2 {
			t.Errorf("the rotation issue is in %d parts: the test no longer passes GitHub's limit", n)
		}
	}
	if counts[0] != counts[1] {
		t.Errorf("doing it again posted %d more comments", counts[1]-counts[0])
	}
}
