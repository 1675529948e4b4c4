package githubtest

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// TestEventsStream: a waiter on EventsPath is answered as soon as a check
// run completes, with only the events after the sequence number it gives
// and the stand-in's own time; with nothing new it gets an empty list
// after its wait.
func TestEventsStream(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir, _ := f.srv.RepoDir("acme", "shop")
	head := mustGit(t, dir, "rev-parse", "main")
	cr, _, err := f.gh.Checks.CreateCheckRun(ctx, "acme", "shop", github.CreateCheckRunOptions{Name: "pushvault", HeadSHA: head})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Events, 1)
	asked := time.Now()
	go func() { got <- getEvents(t, f.srv.URL+EventsPath+"?after=0&wait=5s") }()
	time.Sleep(200 * time.Millisecond)
	if _, _, err := f.gh.Checks.UpdateCheckRun(ctx, "acme", "shop", cr.GetID(), github.UpdateCheckRunOptions{Name: "pushvault",
		Conclusion: github.String("success"), Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")}}); err != nil {
		t.Fatal(err)
	}
	evs := <-got
	if len(evs.Events) != 1 {
		t.Fatalf("events = %+v, want the completion", evs)
	}
	e := evs.Events[0]
	if e.Seq != 1 || e.Kind != "check_run.completed" || e.HeadSHA != head || e.Conclusion != "success" || e.Repo != "acme/shop" {
		t.Errorf("event = %+v", e)
	}
	if e.At.Before(asked) || time.Since(asked) > 4*time.Second {
		t.Errorf("answered %v after asking, event at %v: want as soon as it happened", time.Since(asked), e.At.Sub(asked))
	}
	started := time.Now()
	if evs := getEvents(t, f.srv.URL+EventsPath+"?after=1&wait=300ms"); len(evs.Events) != 0 {
		t.Errorf("after 1: %+v, want none", evs)
	}
	if waited := time.Since(started); waited < 250*time.Millisecond {
		t.Errorf("answered after %v, want the 300ms wait", waited)
	}
	if evs := getEvents(t, f.srv.URL+EventsPath); len(evs.Events) != 1 {
		t.Errorf("all events: %+v, want 1", evs)
	}
}

func getEvents(t *testing.T, url string) Events {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Error(err)
		return Events{}
	}
	defer resp.Body.Close()
	var evs Events
	if err := json.NewDecoder(resp.Body).Decode(&evs); err != nil {
		t.Error(err)
	}
	return evs
}
