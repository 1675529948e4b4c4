package awstest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushvault/pushvault/internal/awstest/contract"
)

// Default identity of the stand-in's one account.
const (
	DefaultAccount = "123456789012"
	DefaultRegion  = "us-east-1"
	// iamRegion is the region IAM requests are signed for: IAM is a global
	// service whose endpoint signs in us-east-1.
	iamRegion = "us-east-1"
	// maxBody bounds a request body; Secrets Manager's largest value is 64 KiB.
	maxBody = 1 << 20
)

// Server is the AWS stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the one endpoint of IAM, STS and Secrets Manager: IAM and STS
	// are told apart by the service in the request's SigV4 scope, Secrets
	// Manager by its X-Amz-Target.
	URL string

	account string
	region  string
	now     func() time.Time
	models  map[contract.Service]*contract.Model
	report  func(error)
	enforce bool
	log     *slog.Logger
	closers []func()

	mu         sync.Mutex
	users      map[string]*user      // by name
	root       *user                 // the account's root user, once CreateRootKey made it
	keys       map[string]*accessKey // by id, deleted ones too
	roles      map[string]*role      // by name
	groups     map[string]*group     // by name
	sessions   map[string]*session   // by access key id
	secrets    map[string]*secret    // by name, scheduled for deletion too
	faults     []*Fault
	calls      []Call
	violations []error
}

// Option configures a Server.
type Option func(*config)

type config struct {
	account, region string
	now             func() time.Time
	enforce         bool
}

// WithClock makes the stand-in read time from now: SigV4 skew, session
// expiry, creation dates. Tests advance their own clock instead of sleeping.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRegion sets the region STS and Secrets Manager requests must be
// signed for (default us-east-1). IAM is always us-east-1.
func WithRegion(r string) Option { return func(c *config) { c.region = r } }

// WithAccount sets the account id in every ARN (default 123456789012).
func WithAccount(id string) Option { return func(c *config) { c.account = id } }

// New starts a stand-in for the test t on a local httptest server. Every
// contract violation (a request or answer that does not match AWS's model)
// fails t through t.Errorf naming the operation and the rule.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := newServer(func(err error) { t.Errorf("aws stand-in: contract violation: %v", err) }, opts...)
	if err != nil {
		t.Fatalf("aws stand-in: %v", err)
	}
	ts := httptest.NewServer(s)
	s.URL = ts.URL
	t.Cleanup(ts.Close)
	return s
}

// Start runs a stand-in outside tests: listening on addr; violations are
// logged to log and kept (Violations). Stop it with Close.
func Start(addr string, log *slog.Logger, opts ...Option) (*Server, error) {
	s, err := newServer(func(err error) { log.Error("contract violation", "error", err.Error()) }, opts...)
	if err != nil {
		return nil, err
	}
	s.log = log
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	go hs.Serve(ln)
	s.URL = "http://" + ln.Addr().String()
	s.closers = append(s.closers, func() { hs.Close() })
	return s, nil
}

// Close stops a listener started with Start.
func (s *Server) Close() {
	for _, c := range s.closers {
		c()
	}
}

func newServer(report func(error), opts ...Option) (*Server, error) {
	c := config{account: DefaultAccount, region: DefaultRegion, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	s := &Server{
		account:  c.account,
		region:   c.region,
		now:      c.now,
		models:   map[contract.Service]*contract.Model{},
		report:   report,
		enforce:  c.enforce,
		log:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		users:    map[string]*user{},
		keys:     map[string]*accessKey{},
		roles:    map[string]*role{},
		groups:   map[string]*group{},
		sessions: map[string]*session{},
		secrets:  map[string]*secret{},
	}
	for _, svc := range []contract.Service{contract.IAM, contract.STS, contract.SecretsManager} {
		m, err := contract.Load(svc)
		if err != nil {
			return nil, fmt.Errorf("load AWS's %s model: %w", svc, err)
		}
		s.models[svc] = m
	}
	return s, nil
}

// Region is the region STS and Secrets Manager requests are signed for.
func (s *Server) Region() string { return s.region }

// Account is the account id in the stand-in's ARNs.
func (s *Server) Account() string { return s.account }

func (s *Server) regionAllowed(service, region string) bool {
	switch contract.Service(service) {
	case contract.IAM:
		return region == iamRegion
	case contract.STS, contract.SecretsManager:
		return region == s.region
	}
	return false
}

// Violations returns every contract violation seen so far, oldest first.
func (s *Server) Violations() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.violations...)
}

func (s *Server) violation(err error) {
	s.mu.Lock()
	s.violations = append(s.violations, err)
	s.mu.Unlock()
	s.report(err)
}

// Call is one request the stand-in answered.
type Call struct {
	Service   string // "iam", "sts", "secretsmanager"
	Operation string // e.g. "CreateAccessKey"
	// AccessKeyID signed the request ("" when it was not authenticated).
	AccessKeyID string
	// Error is the AWS error code answered, "" on success.
	Error string
	// Held: the operation succeeded but a HoldResponse fault kept its
	// answer until the client went away.
	Held bool
}

// Calls returns the requests answered so far, oldest first (the most
// recent 5,000 to 10,000 of them once more were answered).
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount counts answered requests of one operation ("" error: only
// successful ones; "*": any outcome).
func (s *Server) CallCount(operation, errCode string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Operation == operation && (errCode == "*" || c.Error == errCode) {
			n++
		}
	}
	return n
}

// call is one request being served.
type call struct {
	svc    contract.Service
	model  *contract.Model
	op     *contract.Operation
	in     map[string]any
	caller *verified
	now    time.Time
}

// apiError is an error answered in the protocol's error shape.
type apiError struct {
	status int
	code   string
	msg    string
	sender bool
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func clientErr(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg, sender: true}
}

type handler func(c *call) (map[string]any, error)

// ServeHTTP answers one AWS API request: it reads the body (at most 1 MiB),
// tells the protocol and service apart, verifies the SigV4 signature,
// parses the request against AWS's model (a violation is reported and
// answered as AWS answers a malformed request), applies armed faults,
// runs the operation and checks the answer as it goes on the wire against
// the model (a violation is reported and answered 500).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	now := s.now()
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveJSON(w, r, body, target, now)
		return
	}
	s.serveQuery(w, r, body, now)
}

// maxCalls bounds the call log: a long-running stand-in (Start) keeps the
// most recent ones.
const maxCalls = 10000

func (s *Server) record(c Call) {
	s.mu.Lock()
	if len(s.calls) >= maxCalls {
		s.calls = append(s.calls[:0], s.calls[len(s.calls)-maxCalls/2:]...)
	}
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

// serveQuery serves IAM and STS (the awsquery protocol).
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, body []byte, now time.Time) {
	reqID := newRequestID()
	var form url.Values
	var perr error
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		form, perr = url.ParseQuery(string(body))
	case r.Method == http.MethodGet:
		form, perr = url.ParseQuery(r.URL.RawQuery)
	default:
		perr = errors.New("not a query-protocol request")
	}
	// The scope names the service before the signature is checked, so
	// errors come in that service's namespace.
	svc := contract.STS
	if a, err := parseAuthorization(r.Header.Get("Authorization")); err == nil && a.service == string(contract.IAM) {
		svc = contract.IAM
	}
	m := s.models[svc]
	rec := Call{Service: string(svc), Operation: form.Get("Action")}
	fail := func(e *apiError) {
		rec.Error = e.code
		s.record(rec)
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-RequestId", reqID)
		w.WriteHeader(e.status)
		w.Write(m.EncodeXMLError(e.code, e.msg, e.sender, reqID))
	}
	if perr != nil {
		fail(clientErr(400, "MalformedQueryString", "The query string is malformed"))
		return
	}
	if s.hold(r, HoldRequest, rec.Operation, requestKeyID(r)) {
		return
	}
	v, err := s.verify(r, body, now)
	if err != nil {
		fail(queryAuthError(err.(*authError)))
		return
	}
	rec.AccessKeyID = v.scope.keyID
	op, in, err := m.ParseQuery(form)
	if errors.Is(err, contract.ErrUnknownOperation) {
		fail(clientErr(400, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", form.Get("Action"), m.Metadata.APIVersion)))
		return
	}
	if err != nil {
		s.violation(err)
		fail(clientErr(400, "ValidationError", err.Error()))
		return
	}
	if f := s.takeFault(op.Name, rec.AccessKeyID); f != nil {
		fail(f.queryError())
		return
	}
	h := s.handlers()[string(svc)+"."+op.Name]
	if h == nil {
		s.violation(fmt.Errorf("%s %s: the stand-in does not serve this operation", svc, op.Name))
		fail(clientErr(400, "InvalidAction", "The stand-in does not serve "+op.Name))
		return
	}
	cl := &call{svc: svc, model: m, op: op, in: in, caller: v, now: now}
	if e := s.denied(cl); e != nil {
		fail(e)
		return
	}
	out, err := h(cl)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{status: 500, code: "ServiceFailure", msg: "internal failure"}
		}
		fail(ae)
		return
	}
	if s.hold(r, HoldResponse, op.Name, rec.AccessKeyID) {
		rec.Held = true
		s.record(rec)
		return
	}
	resp, err := m.EncodeXML(op, out, reqID)
	if err == nil {
		resp = s.corrupt(op.Name, rec.AccessKeyID, resp, true)
		err = m.CheckXMLResponse(op, resp)
	}
	if err != nil {
		s.violation(err)
		fail(&apiError{status: 500, code: "ServiceFailure", msg: "the stand-in answered off-model"})
		return
	}
	s.record(rec)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.Write(resp)
}

func queryAuthError(e *authError) *apiError {
	switch e.problem {
	case authMissing:
		return clientErr(403, "MissingAuthenticationToken", e.msg)
	case authIncomplete, authMissingDateSig:
		return clientErr(400, "IncompleteSignature", e.msg)
	case authUnknownKey:
		return clientErr(403, "InvalidClientTokenId", e.msg)
	case authExpiredToken:
		return clientErr(403, "ExpiredToken", e.msg)
	default: // bad signature, skew, scope
		return clientErr(403, "SignatureDoesNotMatch", e.msg)
	}
}

func jsonAuthError(e *authError) *apiError {
	switch e.problem {
	case authMissing:
		return clientErr(400, "MissingAuthenticationTokenException", e.msg)
	case authIncomplete, authMissingDateSig:
		return clientErr(400, "IncompleteSignatureException", e.msg)
	case authUnknownKey:
		return clientErr(400, "UnrecognizedClientException", e.msg)
	case authExpiredToken:
		return clientErr(400, "ExpiredTokenException", e.msg)
	default:
		return clientErr(400, "InvalidSignatureException", e.msg)
	}
}

// serveJSON serves Secrets Manager (JSON 1.1 with X-Amz-Target).
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, body []byte, target string, now time.Time) {
	reqID := newRequestID()
	m := s.models[contract.SecretsManager]
	prefix, name, _ := strings.Cut(target, ".")
	rec := Call{Service: string(contract.SecretsManager), Operation: name}
	fail := func(e *apiError) {
		rec.Error = e.code
		s.record(rec)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-RequestId", reqID)
		w.WriteHeader(e.status)
		out, _ := contract.EncodeJSON(map[string]any{"__type": e.code, "message": e.msg})
		w.Write(out)
	}
	if r.Method != http.MethodPost {
		fail(clientErr(400, "UnknownOperationException", "JSON-protocol requests are POST"))
		return
	}
	if s.hold(r, HoldRequest, name, requestKeyID(r)) {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-"+m.Metadata.JSONVersion {
		s.violation(fmt.Errorf("secretsmanager %s request: Content-Type %q, the model's protocol is application/x-amz-json-%s", name, ct, m.Metadata.JSONVersion))
		fail(clientErr(400, "UnknownOperationException", "unsupported Content-Type"))
		return
	}
	v, err := s.verify(r, body, now)
	if err != nil {
		fail(jsonAuthError(err.(*authError)))
		return
	}
	rec.AccessKeyID = v.scope.keyID
	if v.scope.service != string(contract.SecretsManager) {
		fail(clientErr(400, "InvalidSignatureException", "Credential should be scoped to correct service: 'secretsmanager'."))
		return
	}
	op := m.Op(name)
	if prefix != m.Metadata.TargetPrefix || op == nil {
		fail(clientErr(400, "UnknownOperationException", ""))
		return
	}
	in, err := m.ParseJSON(op, body)
	if err != nil {
		s.violation(err)
		fail(clientErr(400, "InvalidParameterException", err.Error()))
		return
	}
	if f := s.takeFault(op.Name, rec.AccessKeyID); f != nil {
		fail(f.jsonError())
		return
	}
	h := s.handlers()["secretsmanager."+op.Name]
	if h == nil {
		s.violation(fmt.Errorf("secretsmanager %s: the stand-in does not serve this operation", op.Name))
		fail(clientErr(400, "UnknownOperationException", "The stand-in does not serve "+op.Name))
		return
	}
	cl := &call{svc: contract.SecretsManager, model: m, op: op, in: in, caller: v, now: now}
	if e := s.denied(cl); e != nil {
		fail(e)
		return
	}
	out, err := h(cl)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{status: 500, code: "InternalServiceError", msg: "internal failure"}
		}
		fail(ae)
		return
	}
	if s.hold(r, HoldResponse, op.Name, rec.AccessKeyID) {
		rec.Held = true
		s.record(rec)
		return
	}
	resp, err := contract.EncodeJSON(out)
	if err == nil {
		resp = s.corrupt(op.Name, rec.AccessKeyID, resp, false)
		err = m.CheckJSONResponse(op, resp)
	}
	if err != nil {
		s.violation(err)
		fail(&apiError{status: 500, code: "InternalServiceError", msg: "the stand-in answered off-model"})
		return
	}
	s.record(rec)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.Write(resp)
}

// requestKeyID is the access key id a request's Authorization header names
// ("" when it has none), before the signature is checked.
func requestKeyID(r *http.Request) string {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return ""
	}
	return a.keyID
}

func newRequestID() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// handlers maps "service.Operation" to its handler.
func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		"sts.GetCallerIdentity":  s.getCallerIdentity,
		"sts.AssumeRole":         s.assumeRole,
		"sts.GetSessionToken":    s.getSessionToken,
		"sts.GetFederationToken": s.getFederationToken,

		"iam.GetUser":                  s.getUser,
		"iam.ListAccessKeys":           s.listAccessKeys,
		"iam.CreateAccessKey":          s.createAccessKey,
		"iam.UpdateAccessKey":          s.updateAccessKey,
		"iam.DeleteAccessKey":          s.deleteAccessKey,
		"iam.CreateUser":               s.createUser,
		"iam.TagUser":                  s.tagUser,
		"iam.PutUserPolicy":            s.putUserPolicy,
		"iam.DeleteUserPolicy":         s.deleteUserPolicy,
		"iam.ListUserPolicies":         s.listUserPolicies,
		"iam.AttachUserPolicy":         s.attachUserPolicy,
		"iam.DetachUserPolicy":         s.detachUserPolicy,
		"iam.ListAttachedUserPolicies": s.listAttachedUserPolicies,
		"iam.AddUserToGroup":           s.addUserToGroup,
		"iam.RemoveUserFromGroup":      s.removeUserFromGroup,
		"iam.ListGroupsForUser":        s.listGroupsForUser,
		"iam.DeleteUser":               s.deleteUser,

		"secretsmanager.CreateSecret":             s.createSecret,
		"secretsmanager.PutSecretValue":           s.putSecretValue,
		"secretsmanager.GetSecretValue":           s.getSecretValue,
		"secretsmanager.DescribeSecret":           s.describeSecret,
		"secretsmanager.UpdateSecretVersionStage": s.updateSecretVersionStage,
		"secretsmanager.TagResource":              s.tagResource,
		"secretsmanager.ListSecretVersionIds":     s.listSecretVersionIds,
		"secretsmanager.DeleteSecret":             s.deleteSecret,
	}
}
