package githubtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// EventsPath is where the stand-in serves what the App has finished, as
// it happens, for scripts that wait on the App (the benchmark): GET
// EventsPath?after=N answers the events after sequence number N, waiting
// up to wait (a duration, at most 10 s) for the first one. Unlike
// StatePath its answer stays small however long the stand-in runs, and
// each event carries the stand-in's own time, so a waiter's polling
// interval does not blur what it measures. It is not a GitHub endpoint.
const EventsPath = "/_standin/events"

// Event is a check run completed or a pull request opened.
type Event struct {
	Seq  int       `json:"seq"`
	Kind string    `json:"kind"` // check_run.completed or pull_request.opened
	At   time.Time `json:"at"`
	Repo string    `json:"repo"`
	// HeadSHA and Name, Conclusion and Annotations: a check run's.
	HeadSHA     string `json:"head_sha,omitempty"`
	Name        string `json:"name,omitempty"`
	Conclusion  string `json:"conclusion,omitempty"`
	Annotations int    `json:"annotations,omitempty"`
	// Head: a pull request's head branch.
	Head string `json:"head,omitempty"`
}

// Events answers EventsPath.
type Events struct {
	Events []Event `json:"events"`
}

// maxEventWait bounds how long one events request waits.
const maxEventWait = 10 * time.Second

// addEvent records ev and wakes the waiters. s.mu must not be held.
func (s *Server) addEvent(ev Event) {
	s.mu.Lock()
	ev.Seq = len(s.events) + 1
	ev.At = time.Now()
	s.events = append(s.events, ev)
	wake := s.eventsChanged
	s.eventsChanged = make(chan struct{})
	s.mu.Unlock()
	close(wake)
}

// eventsAfter returns the events after seq, and a channel closed when
// there are more.
func (s *Server) eventsAfter(seq int) ([]Event, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eventsChanged == nil {
		s.eventsChanged = make(chan struct{})
	}
	seq = max(0, min(seq, len(s.events)))
	return append([]Event(nil), s.events[seq:]...), s.eventsChanged
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := strconv.Atoi(q.Get("after"))
	if q.Get("after") != "" && (err != nil || after < 0) {
		http.Error(w, "after: want a sequence number", http.StatusBadRequest)
		return
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 {
			http.Error(w, "wait: want a duration", http.StatusBadRequest)
			return
		}
	}
	timer := time.NewTimer(min(wait, maxEventWait))
	defer timer.Stop()
	evs, more := s.eventsAfter(after)
	for len(evs) == 0 {
		select {
		case <-more:
			evs, more = s.eventsAfter(after)
			continue
		case <-timer.C:
		case <-r.Context().Done():
		}
		break
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(Events{Events: append([]Event{}, evs...)})
}

// checkRunCompleted records a check run's completion.
func (s *Server) checkRunCompleted(cr *CheckRun) {
	s.addEvent(Event{Kind: "check_run.completed", Repo: cr.Repo, HeadSHA: cr.HeadSHA, Name: cr.Name,
		Conclusion: cr.Conclusion, Annotations: len(cr.Annotations)})
}

// pullOpened records a pull request's opening.
func (s *Server) pullOpened(pr *PullRequest) {
	s.addEvent(Event{Kind: "pull_request.opened", Repo: pr.Repo, Head: pr.Head})
}
