package githubtest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/pushvault/pushvault/internal/pause"
)

// FaultKind is what a Fault makes the stand-in do.
type FaultKind int

const (
	// ServerError answers Status (default 502) with GitHub's error body.
	ServerError FaultKind = iota + 1
	// SecondaryRateLimit answers Status (403, or 429) with the
	// secondary-rate-limit message and documentation URL, and Retry-After
	// (RetryAfter, default 60 s) unless OmitRetryAfter: GitHub documents
	// both, and says to wait at least a minute when no header says how long.
	SecondaryRateLimit
	// PrimaryRateLimit answers Status (403, or 429) with
	// X-RateLimit-Remaining: 0 and X-RateLimit-Reset (RetryAfter from now,
	// default 1 h).
	PrimaryRateLimit
	// RevocationBudget answers POST /credentials/revoke with 422, which its
	// description documents as "Validation failed, or the endpoint has been
	// spammed", with X-RateLimit-Remaining: 0 and X-RateLimit-Reset
	// (RetryAfter from now, default 1 h): the 60 requests an hour are spent.
	RevocationBudget
	// Validation answers 422 with GitHub's validation error body.
	Validation
	// Slow waits Delay before serving the request normally (or until the
	// client gives up, and then serves nothing: a long Delay holds a
	// request until its client dies, with no side effect).
	Slow
	// HoldResponse serves the request — its side effect happens — then
	// holds the answer until the client goes away, and discards it: the
	// client dies knowing nothing of what it did (a crash between a side
	// effect and recording it).
	HoldResponse
)

// Fault is a failure injected into REST requests.
type Fault struct {
	// Operation is the GitHub operationId to hit (e.g. "checks/create");
	// "" hits every operation.
	Operation  string
	Kind       FaultKind
	Status     int           // ServerError; rate limits: 403 (default) or 429
	RetryAfter time.Duration // rate limits
	// OmitRetryAfter sends a SecondaryRateLimit without Retry-After.
	OmitRetryAfter bool
	Delay          time.Duration // Slow
	// Count is how many matching requests it hits; 0 means 1.
	Count int

	hits int
}

// Fault arms f; faults are taken in the order they were armed.
func (s *Server) Fault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// FaultHits returns how many requests the armed faults have hit in total.
func (s *Server) FaultHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.hits
	}
	return n
}

func (s *Server) takeFault(op string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.hits < f.Count && (f.Operation == "" || f.Operation == op) {
			f.hits++
			c := *f
			return &c
		}
	}
	return nil
}

// applyFault answers the request per f and reports true, or (Slow) waits
// and reports false so the request is served normally. HoldResponse is
// not applied here but after the request is served (holdResponse).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, c *call, f *Fault, cred string) bool {
	switch f.Kind {
	case Slow:
		if err := pause.For(r.Context(), f.Delay); err != nil {
			return true // the client went away
		}
		return false
	case ServerError:
		st := f.Status
		if st == 0 {
			st = http.StatusBadGateway
		}
		s.writeError(w, c, &apiError{status: st, message: http.StatusText(st)}, cred)
	case SecondaryRateLimit:
		h := http.Header{}
		if !f.OmitRetryAfter {
			h.Set("Retry-After", strconv.Itoa(int(cmp.Or(f.RetryAfter, time.Minute)/time.Second)))
		}
		s.writeError(w, c, &apiError{status: cmp.Or(f.Status, http.StatusForbidden), header: h,
			message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			doc:     "/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}, cred)
	case PrimaryRateLimit:
		msg := "API rate limit exceeded for installation."
		s.writeError(w, c, &apiError{status: cmp.Or(f.Status, http.StatusForbidden), header: s.exhausted(f), message: msg,
			doc: "/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit"}, cred)
	case RevocationBudget:
		e := validationFailed("API rate limit exceeded for credential revocation.")
		e.header = s.exhausted(f)
		s.writeError(w, c, e, cred)
	case Validation:
		s.writeError(w, c, validationFailed("Validation Failed",
			map[string]string{"resource": "Stand-in", "code": "custom", "message": "injected validation failure"}), cred)
	}
	return true
}

// exhausted is the rate-limit headers of a spent primary limit that resets
// f.RetryAfter from now (default 1 h).
func (s *Server) exhausted(f *Fault) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", "5000")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(cmp.Or(f.RetryAfter, time.Hour)).Unix(), 10))
	return h
}

// holdResponse holds a served request's answer until its client goes away
// when f is a HoldResponse fault, and reports whether it did (the answer
// is then not to be written). The client's address is kept for HeldFrom.
func (s *Server) holdResponse(r *http.Request, f *Fault) bool {
	if f == nil || f.Kind != HoldResponse {
		return false
	}
	s.mu.Lock()
	s.heldFrom = append(s.heldFrom, r.RemoteAddr)
	s.mu.Unlock()
	<-r.Context().Done()
	return true
}

// HeldFrom is the client address (host:port) of every request a
// HoldResponse fault held, in the order they were held: which process made
// the request, when several share the App.
func (s *Server) HeldFrom() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.heldFrom)
}
