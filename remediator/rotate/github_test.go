package rotate_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pushvault/pushvault/githubapp"
	"github.com/pushvault/pushvault/githubapp/githubtest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// TestGitHubTokenRevoked proves the revocation against the GitHub stand-in
// (held to GitHub's published contract): every kind of user token GitHub
// revokes through POST /credentials/revoke works before and is refused
// after, by REST and by git.
func TestGitHubTokenRevoked(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	srv := githubtest.New(t)
	if err := srv.CreateRepo("octocat", "app", map[string]string{"README.md": "app\n"}); err != nil {
		t.Fatal(err)
	}
	rev := revokerOn(t, srv.URL)
	var leaked []string
	for _, kind := range githubtest.UserTokenKinds {
		tok, err := srv.UserToken("octocat", kind)
		if err != nil {
			t.Fatal(err)
		}
		leaked = append(leaked, tok)
		if works, err := rev.TokenWorks(ctx, tok); err != nil || !works {
			t.Fatalf("before: %s token works = %v, %v; want true", kind, works, err)
		}
		if err := gitWith(tok, "ls-remote", srv.URL+"/octocat/app.git"); err != nil {
			t.Fatalf("before: git refuses the %s token: %v", kind, err)
		}
		tg := vaultSecret(t, c, "github_token_"+strings.Trim(kind, "_"), "Github", rotate.Data{"value": tok})
		rec := &recorder{}
		res, err := rotate.NewRunner(c, rotate.Settings{}, rec, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(rev, rev))).Run(ctx, tg)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if works, err := rev.TokenWorks(ctx, tok); err != nil || works {
			t.Fatalf("after: the leaked %s token still works (%v)", kind, err)
		}
		if err := gitWith(tok, "ls-remote", srv.URL+"/octocat/app.git"); err == nil {
			t.Fatalf("after: git still accepts the leaked %s token", kind)
		}
		if res.State != rotate.StateRotated || !res.ExposedDead || !res.ExposedDestroyed {
			t.Errorf("%s: result %+v", kind, res)
		}
		want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
		noLeak(t, []string{tok}, res, rec.events)
	}
	if got := srv.RevokedCredentials(); strings.Join(got, ",") != strings.Join(leaked, ",") {
		t.Errorf("the stand-in was asked to revoke %d credentials, want the %d leaked ones", len(got), len(leaked))
	}

	// A token GitHub does not revoke (a server-to-server ghs_ token) is
	// left to a person.
	rec := &recorder{}
	tg2 := vaultSecret(t, c, "installation_token", "Github", rotate.Data{"value": "ghs_" + strings.Repeat("x", 36)})
	res, err := rotate.NewRunner(c, rotate.Settings{}, rec, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(rev, rev))).Run(ctx, tg2)
	if err != nil || res.State != rotate.StateManual || res.Guide != "https://howtorotate.com/docs/tutorials/github/" {
		t.Errorf("ghs_ token: %+v %v", res, err)
	}
	noLeak(t, leaked, res, rec.events)
}

// revokerOn is a revoker speaking, unauthenticated as github.com wants it,
// to the GitHub API at baseURL (the API's root, as api.github.com's).
func revokerOn(t *testing.T, baseURL string) *githubapp.Revoker {
	t.Helper()
	client := github.NewClient(nil)
	u, err := url.Parse(baseURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	client.BaseURL = u
	return githubapp.NewRevoker(client)
}

// gitWith runs git with token as GitHub's basic auth, from the environment.
func gitWith(token string, args ...string) error {
	cred := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	cmd := exec.Command("git", args...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Basic "+cred)
	return cmd.Run()
}

// countingRevoker counts the revocation requests a Revoker is asked for.
type countingRevoker struct {
	rotate.TokenRevoker
	calls int
}

func (c *countingRevoker) Revoke(ctx context.Context, creds []string) error {
	c.calls++
	return c.TokenRevoker.Revoke(ctx, creds)
}

// TestGitHubTokensBatched: several leaked tokens cost one revocation
// request (GitHub allows 60 an hour), and each is still proven dead.
func TestGitHubTokensBatched(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	srv := githubtest.New(t)
	rev := revokerOn(t, srv.URL)
	counting := &countingRevoker{TokenRevoker: rev}
	runner := rotate.NewRunner(c, rotate.Settings{}, &recorder{}, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(counting, rev)))
	var targets []rotate.Target
	var leaked []string
	for i, kind := range []string{"ghp_", "gho_", "github_pat_"} {
		tok, err := srv.UserToken("octocat", kind)
		if err != nil {
			t.Fatal(err)
		}
		leaked = append(leaked, tok)
		targets = append(targets, vaultSecret(t, c, fmt.Sprintf("token_%d", i), "Github", rotate.Data{"value": tok}))
	}
	runner.Prepare(ctx, targets)
	for _, tg := range targets {
		res, err := runner.Run(ctx, tg)
		if err != nil || res.State != rotate.StateRotated || !res.ExposedDead {
			t.Fatalf("run: %+v %v", res, err)
		}
	}
	if counting.calls != 1 {
		t.Errorf("%d revocation requests for 3 tokens, want 1", counting.calls)
	}
	for _, tok := range leaked {
		if works, _ := rev.TokenWorks(ctx, tok); works {
			t.Error("a leaked token still works")
		}
	}
}

// TestGitHubForeignTokenLeftToAPerson: a token issued by another GitHub
// instance (same format) is refused (401) by the App's instance. It is not
// revoked there, not "proven dead" by that refusal, and its exposed version
// is kept: the rotation is manual. The token still works where it was
// issued.
func TestGitHubForeignTokenLeftToAPerson(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	here, elsewhere := githubtest.New(t), githubtest.New(t)
	rev := revokerOn(t, here.URL)
	for _, kind := range []string{"ghp_", "github_pat_"} {
		tok, err := elsewhere.UserToken("octocat", kind)
		if err != nil {
			t.Fatal(err)
		}
		tg := vaultSecret(t, c, "foreign_"+strings.Trim(kind, "_"), "Github", rotate.Data{"value": tok})
		rec := &recorder{}
		res, err := rotate.NewRunner(c, rotate.Settings{}, rec, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(rev, rev))).Run(ctx, tg)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if res.State != rotate.StateManual || res.ExposedDead || res.ExposedDestroyed || !strings.Contains(res.Reason, "another GitHub instance") {
			t.Errorf("%s: result %+v, want manual with the exposed version kept", kind, res)
		}
		if _, destroyed, _ := versions(t, c, tg); destroyed[1] {
			t.Errorf("%s: the exposed version was destroyed", kind)
		}
		if works, err := revokerOn(t, elsewhere.URL).TokenWorks(ctx, tok); err != nil || !works {
			t.Errorf("%s: the token no longer works where it was issued (%v)", kind, err)
		}
		noLeak(t, []string{tok}, res, rec.events)
	}
	if got := here.RevokedCredentials(); len(got) != 0 {
		t.Errorf("%d foreign credentials sent to this instance's revocation", len(got))
	}
}

// TestGitHubInstanceWithoutRevocation: an instance answering 404 to POST
// /credentials/revoke (no pinned GHES description documents it) leaves its
// own live token to a person, exposed version kept, instead of failing the
// rotation again and again.
func TestGitHubInstanceWithoutRevocation(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	srv := githubtest.New(t)
	noRoute := httptest.NewServer(http.NotFoundHandler())
	defer noRoute.Close()
	checker := revokerOn(t, srv.URL)
	tok, err := srv.UserToken("octocat", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	tg := vaultSecret(t, c, "ghes_token", "Github", rotate.Data{"value": tok})
	rec := &recorder{}
	res, err := rotate.NewRunner(c, rotate.Settings{}, rec, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(revokerOn(t, noRoute.URL), checker))).Run(ctx, tg)
	if err != nil || res.State != rotate.StateManual || !strings.Contains(res.Reason, "no credential revocation") {
		t.Fatalf("result %+v, %v; want manual", res, err)
	}
	if _, destroyed, _ := versions(t, c, tg); destroyed[1] {
		t.Error("the exposed version was destroyed")
	}
	noLeak(t, []string{tok}, res, rec.events)
}

// TestGitHubRevocationTakesTime: GitHub answers 202 and revokes in the
// background. A revocation that takes seconds is waited for (CheckDead asks
// again with backoff) and then proven and recorded; one that is not done
// within the bound fails the rotation honestly: the token is not said to be
// dead, its exposed version is kept, and the next attempt retries.
func TestGitHubRevocationTakesTime(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		delay, wait time.Duration
		dead        bool
	}{
		{"done within the default bound", 3 * time.Second, rotate.DefaultDeadWait, true},
		{"not done within the bound", 20 * time.Second, 2 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := githubtest.New(t, githubtest.WithRevocationDelay(tc.delay))
			rev := revokerOn(t, srv.URL)
			tok, err := srv.UserToken("octocat", "ghp_")
			if err != nil {
				t.Fatal(err)
			}
			tg := vaultSecret(t, c, "slow_"+strings.ReplaceAll(tc.name, " ", "_"), "Github", rotate.Data{"value": tok})
			rec := &recorder{}
			start := time.Now()
			res, err := rotate.NewRunner(c, rotate.Settings{}, rec,
				rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(rev, rev, rotate.WithDeadWait(tc.wait)))).Run(ctx, tg)
			took := time.Since(start)
			if tc.dead {
				if err != nil || res.State != rotate.StateRotated || !res.ExposedDead || !res.ExposedDestroyed || took < tc.delay {
					t.Fatalf("after %s: %+v, %v; want rotated, proven dead once GitHub revoked (%s)", took, res, err, tc.delay)
				}
				want(t, "events", []string{"rotation_started@1", "rotated@1", "exposed_verified_dead@1", "exposed_destroyed@1"}, rec.transitions())
			} else {
				if !errors.Is(err, rotate.ErrStillWorks) || res.State != rotate.StateFailed || res.ExposedDead || took < tc.wait || took > tc.delay {
					t.Fatalf("after %s: %+v, %v; want failed with ErrStillWorks after the bound (%s)", took, res, err, tc.wait)
				}
				if _, destroyed, _ := versions(t, c, tg); destroyed[1] {
					t.Error("the exposed version of a token still live was destroyed")
				}
				want(t, "events", []string{"rotation_started@1", "rotated@1", "rotation_failed@1"}, rec.transitions())
			}
			noLeak(t, []string{tok}, res, rec.events)
		})
	}
}

// lostAnswer revokes for real, then fails as a client does whose
// connection drops before GitHub's 202 arrives.
type lostAnswer struct{ rotate.TokenRevoker }

func (l lostAnswer) Revoke(ctx context.Context, creds []string) error {
	if err := l.TokenRevoker.Revoke(ctx, creds); err != nil {
		return err
	}
	return errors.New("connection reset before the answer")
}

// TestGitHubRevocationResumed: an attempt whose revocation went through on
// GitHub but whose answer was lost (the connection dropped, or serve died
// waiting) fails; the next attempt finds the token dead and finishes the
// rotation — rotated, proven dead, exposed version destroyed — with no
// second revocation request and without calling the token foreign.
func TestGitHubRevocationResumed(t *testing.T) {
	_, c := startVault(t)
	ctx := context.Background()
	srv := githubtest.New(t, githubtest.WithRevocationDelay(0))
	rev := revokerOn(t, srv.URL)
	tok, err := srv.UserToken("octocat", "ghp_")
	if err != nil {
		t.Fatal(err)
	}
	tg := vaultSecret(t, c, "resumed_token", "Github", rotate.Data{"value": tok})
	rec := &recorder{}
	first, err := rotate.NewRunner(c, rotate.Settings{}, rec, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(lostAnswer{rev}, rev))).Run(ctx, tg)
	if err == nil || first.State != rotate.StateFailed {
		t.Fatalf("the attempt that lost its answer: %+v, %v; want failed", first, err)
	}
	res, err := rotate.NewRunner(c, rotate.Settings{}, rec, rotate.WithRotator(rotate.NameGitHub, rotate.NewGitHub(rev, rev))).Run(ctx, tg)
	if err != nil || res.State != rotate.StateRotated || !res.ExposedDead || !res.ExposedDestroyed {
		t.Fatalf("the resumed attempt: %+v, %v; want rotated, proven dead, exposed version destroyed", res, err)
	}
	if got := srv.RevokedCredentials(); len(got) != 1 {
		t.Errorf("%d revocation requests, want 1", len(got))
	}
	want(t, "events", []string{"rotation_started@1", "rotation_failed@1", "rotation_started@2", "rotated@2", "exposed_verified_dead@2", "exposed_destroyed@2"}, rec.transitions())
	noLeak(t, []string{tok}, res, rec.events)
}
