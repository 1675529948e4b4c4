package awstest

import (
	"bytes"
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
)

// Fault is a failure injected into requests.
type Fault struct {
	// Operation is the operation to hit (e.g. "CreateAccessKey"); "" hits
	// every operation.
	Operation string
	Kind      FaultKind
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

// takeFault returns the first armed fault (other than OffModel) matching
// op, counting the hit.
func (s *Server) takeFault(op string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Kind != OffModel && f.hits < f.Count && (f.Operation == "" || f.Operation == op) {
			f.hits++
			return f
		}
	}
	return nil
}

// offModel reports whether an OffModel fault is armed for op and takes it.
func (s *Server) offModel(op string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Kind == OffModel && f.hits < f.Count && (f.Operation == "" || f.Operation == op) {
			f.hits++
			return true
		}
	}
	return false
}

// corrupt breaks an answer when an OffModel fault is armed for op.
func (s *Server) corrupt(op string, body []byte, xml bool) []byte {
	if !s.offModel(op) {
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
