package githubtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// TestFaults: each injected fault is seen by go-github as the error type
// GitHub's real answer produces, once, and the next request succeeds.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	get := func(gh *github.Client) error {
		_, _, err := gh.Repositories.Get(ctx, "acme", "shop")
		return err
	}
	cases := []struct {
		name  string
		fault Fault
		check func(t *testing.T, err error)
	}{
		{"primary rate limit", Fault{Operation: "repos/get", Kind: PrimaryRateLimit, RetryAfter: 30 * time.Minute},
			func(t *testing.T, err error) {
				var rl *github.RateLimitError
				if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || rl.Rate.Reset.IsZero() {
					t.Fatalf("err = %#v, want *github.RateLimitError with remaining 0 and a reset", err)
				}
			}},
		{"secondary rate limit", Fault{Operation: "repos/get", Kind: SecondaryRateLimit, RetryAfter: 42 * time.Second},
			func(t *testing.T, err error) {
				var ab *github.AbuseRateLimitError
				if !errors.As(err, &ab) || ab.RetryAfter == nil || *ab.RetryAfter != 42*time.Second {
					t.Fatalf("err = %#v, want *github.AbuseRateLimitError with RetryAfter 42s", err)
				}
			}},
		{"server error", Fault{Operation: "repos/get", Kind: ServerError, Status: 503},
			func(t *testing.T, err error) {
				var er *github.ErrorResponse
				if !errors.As(err, &er) || er.Response.StatusCode != 503 {
					t.Fatalf("err = %v, want a 503 ErrorResponse", err)
				}
			}},
		{"validation", Fault{Kind: Validation},
			func(t *testing.T, err error) {
				var er *github.ErrorResponse
				if !errors.As(err, &er) || er.Response.StatusCode != 422 || len(er.Errors) != 1 {
					t.Fatalf("err = %v, want a 422 ErrorResponse with its errors", err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if err := get(f.gh); err != nil { // token fetched before the fault is armed
				t.Fatal(err)
			}
			f.srv.Fault(tc.fault)
			tc.check(t, get(f.gh))
			if f.srv.FaultHits() != 1 {
				t.Errorf("fault hits = %d", f.srv.FaultHits())
			}
			// go-github now holds back after a rate limit, client side: ask
			// with a fresh client whether the stand-in serves again.
			if err := get(client(t, f.srv, f.tr)); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

func TestSlowResponse(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.gh.Repositories.Get(context.Background(), "acme", "shop"); err != nil {
		t.Fatal(err)
	}
	f.srv.Fault(Fault{Operation: "repos/get", Kind: Slow, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := f.gh.Repositories.Get(ctx, "acme", "shop")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	if f.srv.FaultHits() != 1 {
		t.Errorf("fault hits = %d", f.srv.FaultHits())
	}
}

// TestDroppedDeliveryRedelivered: a dropped push webhook is recorded as
// dropped and never arrives; redelivering it sends the same payload under
// the same delivery id.
func TestDroppedDeliveryRedelivered(t *testing.T) {
	f := newFixture(t)
	dir := clone(t, f.srv, "acme", "shop", f.token(t))
	f.srv.DropDeliveries(1)
	writeFile(t, dir, "x.txt", "x\n")
	mustGit(t, dir, "add", "-A")
	mustGit(t, dir, "commit", "-q", "-m", "x")
	mustGit(t, dir, "push", "-q", "origin", "main")
	ds := f.srv.Deliveries()
	if len(ds) != 1 || !ds[0].Dropped || ds[0].Event != "push" || ds[0].StatusCode != 0 {
		t.Fatalf("deliveries = %+v", ds)
	}
	if n := len(f.rc.all()); n != 0 {
		t.Fatalf("receiver got %d deliveries of a dropped one", n)
	}
	d, err := f.srv.Redeliver(ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got := f.rc.all()
	if !d.Redelivery || d.StatusCode != 202 || len(got) != 1 || got[0].Delivery != ds[0].ID || string(got[0].Payload) != string(ds[0].Payload) {
		t.Errorf("redelivery = %+v; received %d", d, len(got))
	}
	if _, err := f.srv.Redeliver("no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown delivery: %v", err)
	}
}

// TestHeldResponseActsFirst: a HoldResponse fault serves the request — the
// check run exists — and the client, which gives up waiting, gets no
// answer: a client that dies there never learns what it did.
func TestHeldResponseActsFirst(t *testing.T) {
	f := newFixture(t)
	head := mustGit(t, clone(t, f.srv, "acme", "shop", f.token(t)), "rev-parse", "HEAD")
	f.srv.Fault(Fault{Operation: "checks/create", Kind: HoldResponse})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _, err := f.gh.Checks.CreateCheckRun(ctx, "acme", "shop", github.CreateCheckRunOptions{Name: "pushvault", HeadSHA: head})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	if runs := f.srv.CheckRuns(); len(runs) != 1 || runs[0].HeadSHA != head {
		t.Errorf("check runs = %+v, want the held request's run", runs)
	}
}

// TestReplayedDeliveryHasAFreshID: Replay sends a past delivery's payload,
// signed, under a new X-GitHub-Delivery (Redeliver keeps the id).
func TestReplayedDeliveryHasAFreshID(t *testing.T) {
	f := newFixture(t)
	dir := clone(t, f.srv, "acme", "shop", f.token(t))
	writeFile(t, dir, "x.txt", "x\n")
	mustGit(t, dir, "add", "-A")
	mustGit(t, dir, "commit", "-q", "-m", "x")
	mustGit(t, dir, "push", "-q", "origin", "main")
	orig := f.srv.Deliveries()[0]
	d, err := f.srv.Replay(orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := f.rc.all()
	if d.Redelivery || d.ID == orig.ID || d.StatusCode != 202 || len(got) != 2 || got[1].Delivery != d.ID || string(got[1].Payload) != string(orig.Payload) {
		t.Errorf("replay = %+v; received %d", d, len(got))
	}
	if _, err := f.srv.Replay("no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown delivery: %v", err)
	}
}
