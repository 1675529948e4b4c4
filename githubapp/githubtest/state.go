package githubtest

import (
	"encoding/json"
	"net/http"
)

// StatePath is where the stand-in serves a JSON summary of its state for
// people and scripts (the standalone demo); it is not a GitHub endpoint.
// Revoked credentials appear as a count and deliveries without payloads:
// both may hold secrets.
const StatePath = "/_standin/state"

// State is the summary served at StatePath.
type State struct {
	CheckRuns          []CheckRun      `json:"check_runs"`
	PullRequests       []PullRequest   `json:"pull_requests"`
	Comments           []Comment       `json:"comments"`
	Issues             []Issue         `json:"issues"`
	RevokedCredentials int             `json:"revoked_credentials"`
	Deliveries         []DeliveryState `json:"deliveries"`
	Violations         []string        `json:"violations"`
}

// DeliveryState is a delivery without its payload.
type DeliveryState struct {
	ID, Event, Action string
	Redelivery        bool
	Dropped           bool
	StatusCode        int
	Err               string
}

// Snapshot returns the state summary.
func (s *Server) Snapshot() State {
	st := State{CheckRuns: s.CheckRuns(), PullRequests: s.PullRequests(), Comments: s.Comments(),
		Issues: s.Issues(), RevokedCredentials: len(s.RevokedCredentials()), Deliveries: []DeliveryState{}, Violations: []string{}}
	for _, d := range s.Deliveries() {
		st.Deliveries = append(st.Deliveries, DeliveryState{ID: d.ID, Event: d.Event, Action: d.Action,
			Redelivery: d.Redelivery, Dropped: d.Dropped, StatusCode: d.StatusCode, Err: d.Err})
	}
	for _, v := range s.Violations() {
		st.Violations = append(st.Violations, v.Error())
	}
	return st
}

func (s *Server) serveState(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(s.Snapshot())
}
