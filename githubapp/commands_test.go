package githubapp_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       githubapp.Command
		ok         bool
	}{
		{"rescan", "/pushvault rescan-history", githubapp.Command{Name: githubapp.CommandRescanHistory}, true},
		{"after an explanation", "please look again\n  /pushvault rescan-history now\n", githubapp.Command{Name: githubapp.CommandRescanHistory}, true},
		{"false positive", "/pushvault false-positive pv_1 a test fixture", githubapp.Command{Name: githubapp.CommandFalsePositive, FindingID: "pv_1", Reason: "a test fixture"}, true},
		{"accept risk without reason", "/pushvault accept-risk pv_2", githubapp.Command{Name: githubapp.CommandAcceptRisk, FindingID: "pv_2"}, true},
		{"a longer word is no command", "/pushvault rescan-historyX", githubapp.Command{}, false},
		{"quoted mid-line", "did you run /pushvault rescan-history?", githubapp.Command{}, false},
		{"nothing", "thanks!", githubapp.Command{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := githubapp.ParseCommand(tc.body)
			if ok != tc.ok || got != tc.want {
				t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, %v", tc.body, got, ok, tc.want, tc.ok)
			}
		})
	}
	long, _ := githubapp.ParseCommand("/pushvault accept-risk pv_3 " + strings.Repeat("x", 500))
	if n := len([]rune(long.Reason)); n != githubapp.MaxReason+1 {
		t.Errorf("a 500-character reason kept %d characters, want %d and an ellipsis", n, githubapp.MaxReason)
	}
}

func TestParseReserve(t *testing.T) {
	for in, want := range map[string]int{"20%": 1000, "0": 0, "0%": 0, "1000": 1000, "100%": 5000} {
		r, err := githubapp.ParseReserve(in)
		if err != nil || r.Of(5000) != want {
			t.Errorf("ParseReserve(%q).Of(5000) = %d, %v; want %d", in, r.Of(5000), err, want)
		}
	}
	var errs []string
	for _, in := range []string{"", "-1", "101%", "x%", "lots"} {
		if _, err := githubapp.ParseReserve(in); err == nil {
			errs = append(errs, in)
		}
	}
	if diff := cmp.Diff([]string(nil), errs); diff != "" {
		t.Errorf("accepted (-want +got):\n%s", diff)
	}
}

// TestCoreRate: the installation's core budget as GET /rate_limit states
// it (the stand-in's SetRateBudget), and a GitHub that answers 404 there
// (GHES with rate limiting off) is ErrNoRateLimit, not a failure.
func TestCoreRate(t *testing.T) {
	srv, gh := standIn(t, map[string]string{"README.md": "x\n"})
	ctx := context.Background()
	inst, _ := srv.InstallationFor("acme", "shop")
	srv.SetRateBudget(inst, 100)
	r, err := githubapp.CoreRate(ctx, gh)
	if err != nil || r.Limit != 5000 || r.Remaining != 100 || r.Reset.IsZero() {
		t.Errorf("CoreRate = %+v, %v; want 100 of 5000 left", r, err)
	}
	srv.Fault(githubtest.Fault{Operation: "rate-limit/get", Kind: githubtest.ServerError, Status: 404})
	if _, err := githubapp.CoreRate(ctx, gh); !errors.Is(err, githubapp.ErrNoRateLimit) {
		t.Errorf("CoreRate on a 404 = %v, want ErrNoRateLimit", err)
	}
}
