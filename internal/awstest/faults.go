package awstest

import (
	"bytes"
	"net/http"
)

// FaultKind is what a Fault makes the stand-in do.
type FaultKind int

const (
	// ServerError answers 500 with the service's internal-failure error
	// (IAM/STS ServiceFailure, Secrets Manager InternalServiceError),
	// before the operation runs.
	ServerError FaultKind = iota + 1
	// Throttling answers 400 Throttling (query) or ThrottlingException
	// (JSON), before the operation runs.
	Throttling
	// OffModel runs the operation, then breaks its answer so that it no
	// longer matches AWS's model (a member the output shape does not
	// have is added), which the stand-in's answer check reports as a
	// violation: the switch a contract test flips to see the check bite.
	OffModel
	// HoldRequest holds the request as it arrives — before it is
	// authenticated, so a request AWS would refuse is held too — until its
	// client goes away, and serves nothing: the client dies before the
	// operation happens.
	HoldRequest
	// HoldResponse serves the request — its side effect happens — then
	// holds the answer until the client goes away, and discards it: the
	// client dies knowing nothing of what it did (a crash between a side
	// effect and recording it).
	HoldResponse
)

// Fault is a failure injected into requests.
type Fault struct {
	// Operation is the operation to hit (e.g. "CreateAccessKey"); "" hits
	// every operation.
	Operation string
	Kind      FaultKind
	// AccessKeyID, when not "", hits only requests signed with that key.
	AccessKeyID string
	// Skip lets the first Skip matching requests through untouched.
	Skip int
	// Count is how many matching requests it hits; 0 means 1.
	Count int

	seen, hits int
}

// ClearFaults disarms every fault (FaultHits starts again from 0).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// FaultHits returns how many requests the armed faults have hit in total
// (a held request counts once it is held).
func (s *Server) FaultHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.hits
	}
	return n
}

// take reports whether f hits a request for op signed with keyID, counting
// it (s.mu held).
func (f *Fault) take(op, keyID string) bool {
	if f.hits >= f.Count || (f.Operation != "" && f.Operation != op) || (f.AccessKeyID != "" && f.AccessKeyID != keyID) {
		return false
	}
	if f.seen++; f.seen <= f.Skip {
		return false
	}
	f.hits++
	return true
}

// hold takes the first armed fault of kind (HoldRequest or HoldResponse)
// matching op and keyID and, when there is one, holds the request until its
// client goes away; it reports whether it held it (nothing is to be
// answered then).
func (s *Server) hold(r *http.Request, kind FaultKind, op, keyID string) bool {
	s.mu.Lock()
	var held bool
	for _, f := range s.faults {
		if f.Kind == kind && f.take(op, keyID) {
			held = true
			break
		}
	}
	s.mu.Unlock()
	if held {
		<-r.Context().Done()
	}
	return held
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

// takeFault returns the first armed error fault (ServerError, Throttling)
// matching op and keyID, counting the hit.
func (s *Server) takeFault(op, keyID string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if (f.Kind == ServerError || f.Kind == Throttling) && f.take(op, keyID) {
			return f
		}
	}
	return nil
}

// offModel reports whether an OffModel fault is armed for op and takes it.
func (s *Server) offModel(op, keyID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Kind == OffModel && f.take(op, keyID) {
			return true
		}
	}
	return false
}

// corrupt breaks an answer when an OffModel fault is armed for op.
func (s *Server) corrupt(op, keyID string, body []byte, xml bool) []byte {
	if !s.offModel(op, keyID) {
		return body
	}
	if xml {
		// A member no output shape of IAM or STS has, inside the result.
		i := bytes.Index(body, []byte("</"+op+"Result>"))
		if i < 0 {
			i = bytes.Index(body, []byte("<ResponseMetadata>"))
		}
		return append(append(append([]byte{}, body[:i]...), "<StandInExtra>1</StandInExtra>"...), body[i:]...)
	}
	i := bytes.LastIndexByte(body, '}')
	sep := ","
	if bytes.Equal(bytes.TrimSpace(body), []byte("{}")) {
		sep = ""
	}
	return append(append(append([]byte{}, body[:i]...), sep+`"StandInExtra":1`...), body[i:]...)
}

func (f *Fault) queryError() *apiError {
	if f.Kind == Throttling {
		return clientErr(400, "Throttling", "Rate exceeded")
	}
	return &apiError{status: 500, code: "ServiceFailure", msg: "The request processing has failed because of an unknown error, exception or failure."}
}

func (f *Fault) jsonError() *apiError {
	if f.Kind == Throttling {
		return clientErr(400, "ThrottlingException", "Rate exceeded")
	}
	return &apiError{status: 500, code: "InternalServiceError", msg: "An error occurred on the server side."}
}
