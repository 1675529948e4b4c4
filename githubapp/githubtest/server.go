package githubtest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushvault/pushvault/githubapp/githubtest/contract"
)

// Server is the GitHub stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of both the REST API and git smart HTTP
	// (clone URLs are URL/owner/repo.git).
	URL string

	app      App
	key      *rsa.PrivateKey
	now      func() time.Time
	tokenTTL time.Duration
	// revokeDelay is how long a revoked credential keeps working.
	revokeDelay time.Duration
	root        string // bare repositories live under root/owner/name.git
	spec        *contract.Spec
	hooks       *contract.Webhooks
	report      func(error)
	corrupt     func(opID string, status int, body []byte) []byte
	log         *slog.Logger
	client      *http.Client // webhook deliveries
	closers     []func()
	routes      []route

	mu          sync.Mutex
	nextID      int64
	repos       map[string]*repoState // key "owner/name"
	installs    map[int64]*Installation
	tokens      map[string]*token
	revocations []Revocation
	// tokenRequests are the access-token requests granted.
	tokenRequests []TokenRequest
	checkRuns     []*checkRun
	pulls         []*pullRequest
	comments      []*Comment
	issues        []*issue
	labels        map[string][]Label // repo key -> labels
	deliveries    []*Delivery
	webhookURL    string
	faults        []*Fault
	calls         map[string]int // REST requests served, by operation
	connections   int            // connections clients opened (New's server)
	heldFrom      []string       // HoldResponse faults' clients
	dropNext      int
	violations    []error
	rateUsed      map[string]int
	lowBudget     map[int64]int // SetRateBudget, by installation
	manifestCode  map[string]bool
	grants        map[string]map[string]grant // repo key -> login -> role
	events        []Event
	eventsChanged chan struct{} // closed and replaced when an event is added
}

// Option configures a Server.
type Option func(*config)

type config struct {
	now         func() time.Time
	tokenTTL    time.Duration
	webhookURL  string
	corrupt     func(opID string, status int, body []byte) []byte
	appID       int64
	slug        string
	revokeDelay time.Duration
}

// DefaultRevocationDelay is how long a credential sent to POST
// /credentials/revoke keeps working by default: GitHub answers 202 and
// revokes in the background, so every test meets a revocation that is not
// yet done when it is accepted.
const DefaultRevocationDelay = 300 * time.Millisecond

// WithRevocationDelay sets how long a credential sent to POST
// /credentials/revoke keeps authenticating after the 202 (default
// DefaultRevocationDelay; 0 revokes before answering). The delay is wall
// time, not WithClock's: it models GitHub's background job.
func WithRevocationDelay(d time.Duration) Option { return func(c *config) { c.revokeDelay = d } }

// WithClock makes the stand-in read time from now: token expiry, JWT
// checks, timestamps. Tests advance their own clock instead of sleeping.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithTokenTTL sets how long installation tokens live (GitHub: 1 h, the default).
func WithTokenTTL(d time.Duration) Option { return func(c *config) { c.tokenTTL = d } }

// WithWebhookURL sets where webhooks are delivered (see also SetWebhookURL).
func WithWebhookURL(u string) Option { return func(c *config) { c.webhookURL = u } }

// WithAppID sets the App's id and slug (default 1, "pushvault").
func WithAppID(id int64, slug string) Option {
	return func(c *config) { c.appID, c.slug = id, slug }
}

// WithResponseHook lets a test make the stand-in answer wrongly: corrupt is
// called with every successful REST response body before it is validated
// and sent, and returns the body to send. Response validation then reports
// the break as a Violation.
func WithResponseHook(corrupt func(opID string, status int, body []byte) []byte) Option {
	return func(c *config) { c.corrupt = corrupt }
}

var (
	specOnce  sync.Once
	specVal   *contract.Spec
	hooksVal  *contract.Webhooks
	errSpec   error
	errHooks  error
	procStart = time.Now()
)

func loadContract() (*contract.Spec, *contract.Webhooks, error) {
	specOnce.Do(func() {
		specVal, errSpec = contract.Load()
		hooksVal, errHooks = contract.LoadWebhooks()
	})
	return specVal, hooksVal, errors.Join(errSpec, errHooks)
}

// New starts a stand-in for the test t on a local httptest server. Every
// contract violation (a request, response or webhook that does not match
// GitHub's published schema) fails t through t.Errorf naming the operation
// and the schema error. Everything is torn down with t.Cleanup.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := newServer(t.TempDir(), func(err error) {
		t.Errorf("github stand-in: contract violation: %v", err)
	}, opts...)
	if err != nil {
		t.Fatalf("github stand-in: %v", err)
	}
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ConnState = s.connState
	ts.Start()
	s.URL = ts.URL
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s
}

// Start runs a stand-in outside tests (the standalone process): listening
// on addr, repositories under dir (created if missing). Violations are
// logged to log and counted (Violations). Stop it with Close.
func Start(addr, dir string, log *slog.Logger, opts ...Option) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	s, err := newServer(dir, func(err error) {
		log.Error("contract violation", "error", err.Error())
	}, opts...)
	if err != nil {
		return nil, err
	}
	s.log = log
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	s.URL = "http://" + ln.Addr().String()
	s.closers = append(s.closers, func() { hs.Close() })
	return s, nil
}

func newServer(dir string, report func(error), opts ...Option) (*Server, error) {
	c := config{now: time.Now, tokenTTL: time.Hour, appID: 1, slug: "pushvault", revokeDelay: DefaultRevocationDelay}
	for _, o := range opts {
		o(&c)
	}
	spec, hooks, err := loadContract()
	if err != nil {
		return nil, fmt.Errorf("load GitHub's OpenAPI contract: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s := &Server{
		key:          key,
		now:          c.now,
		tokenTTL:     c.tokenTTL,
		revokeDelay:  c.revokeDelay,
		root:         filepath.Join(dir, "repos"),
		spec:         spec,
		hooks:        hooks,
		report:       report,
		corrupt:      c.corrupt,
		log:          slog.New(slog.NewJSONHandler(io.Discard, nil)),
		client:       &http.Client{Timeout: 10 * time.Second},
		nextID:       1000,
		repos:        map[string]*repoState{},
		installs:     map[int64]*Installation{},
		tokens:       map[string]*token{},
		labels:       map[string][]Label{},
		webhookURL:   c.webhookURL,
		rateUsed:     map[string]int{},
		lowBudget:    map[int64]int{},
		manifestCode: map[string]bool{},
		grants:       map[string]map[string]grant{},
	}
	s.app = App{
		ID:            c.appID,
		Slug:          c.slug,
		Name:          c.slug,
		ClientID:      "Iv1." + randHex(8),
		ClientSecret:  randHex(20),
		WebhookSecret: randHex(20),
		PrivateKeyPEM: encodeKey(key),
	}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, err
	}
	s.routes = s.buildRoutes()
	return s, nil
}

// Close stops the standalone listener (New's cleanup calls it too).
func (s *Server) Close() {
	for _, c := range s.closers {
		c()
	}
}

// Calls returns how many REST requests for operation (a GitHub
// operationId, e.g. "issues/list-for-repo") the stand-in has been sent.
func (s *Server) Calls(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operation]
}

// connState counts the connections clients open.
func (s *Server) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		s.mu.Lock()
		s.connections++
		s.mu.Unlock()
	}
}

// Connections returns how many connections clients have opened to the
// stand-in started by New.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// Violations returns every contract violation seen so far (requests,
// responses, webhooks), oldest first.
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

func (s *Server) id() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	return s.nextID
}

// call is one REST request being served.
type call struct {
	r  *http.Request
	op string
	// operation is op in GitHub's description (nil until the request is
	// validated, or when the contract lacks it).
	operation *contract.Operation
	params    map[string]string
	body      []byte
	inst      *Installation // set for installation-token requests
	repo      *repoState    // set when the path names a repository
}

// decode strictly decodes the request body into v.
func (c *call) decode(v any) error {
	if err := json.Unmarshal(c.body, v); err != nil {
		return validationFailed("Problems parsing JSON: " + err.Error())
	}
	return nil
}

// apiError is an error answered in GitHub's error body shape.
type apiError struct {
	status  int
	message string
	errs    []map[string]string
	header  http.Header
	doc     string // appended to the documentation URL
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

func notFound() *apiError { return &apiError{status: 404, message: "Not Found"} }

func validationFailed(msg string, errs ...map[string]string) *apiError {
	return &apiError{status: 422, message: msg, errs: errs}
}

func unauthorized(msg string) *apiError { return &apiError{status: 401, message: msg} }

const docsURL = "https://docs.github.com/rest"

// ServeHTTP serves git smart HTTP under /{owner}/{repo}.git/ and the REST
// operations of routes.go everywhere else. A REST request is validated
// against GitHub's description first (a violation is reported and answered
// 422, as GitHub answers a body its schema refuses), then faults apply, then
// authentication, then the handler; a successful answer is validated before
// it is sent (a violation is reported and answered 500). Error answers are
// built by writeError in GitHub's basic-error / validation-error shape and
// validated where the operation documents their status (or
// contract.StatusExceptions lists it); GitHub's description leaves most
// error statuses undocumented per operation (401 nowhere, 422 not for
// checks/create), and those go unchecked. A request no route serves is a
// violation too (answered 404): pushvault called an endpoint the stand-in,
// and so no test, covers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isGitPath(r.URL.Path) {
		s.serveGit(w, r)
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == StatePath {
		s.serveState(w)
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == EventsPath {
		s.serveEvents(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 100<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		// GitHub takes a JSON null body as no body; ghinstallation sends
		// one when it asks for a token without options.
		body = nil
	}
	rt, params := s.match(r.Method, r.URL.EscapedPath())
	if rt == nil {
		s.violation(fmt.Errorf("%s %s: the stand-in serves no such operation, so no test covers it (add it to contract.Served and routes.go)", r.Method, r.URL.Path))
		s.writeError(w, nil, notFound(), "")
		return
	}
	c := &call{r: r, op: rt.op, params: params, body: body}
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[rt.op]++
	s.mu.Unlock()
	cred := credential(r)

	op, _, verr := s.spec.ValidateRequest(cloneRequest(r, body), body)
	c.operation = op
	switch {
	case errors.Is(verr, contract.ErrNoOperation):
		s.violation(fmt.Errorf("%s %s: the stand-in serves it but the contract has no such operation: %w", r.Method, r.URL.Path, verr))
	case verr != nil:
		s.violation(verr)
		// GitHub answers a body that breaks the schema with 422.
		s.writeError(w, c, validationFailed("Invalid request.\n\n"+verr.Error()), cred)
		return
	}

	// Faults come after request validation: a request that breaks the
	// contract is reported whatever the stand-in then answers.
	f := s.takeFault(rt.op)
	if f != nil && f.Kind != HoldResponse {
		if done := s.applyFault(w, r, c, f, cred); done {
			return
		}
	}

	status, v, herr := s.authorize(c, rt)
	if herr == nil {
		status, v, herr = rt.h(c)
	}
	if s.holdResponse(r, f) {
		return
	}
	if herr != nil {
		var ae *apiError
		if !errors.As(herr, &ae) {
			ae = &apiError{status: 500, message: herr.Error()}
		}
		s.writeError(w, c, ae, cred)
		return
	}
	var out []byte
	if v != nil {
		out, err = json.Marshal(v)
		if err != nil {
			s.writeError(w, c, &apiError{status: 500, message: err.Error()}, cred)
			return
		}
	}
	if s.corrupt != nil {
		out = s.corrupt(rt.op, status, out)
	}
	h := http.Header{}
	s.rateHeaders(h, cred)
	if v != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	if op != nil {
		if err := s.spec.ValidateResponse(op, r, status, h, out); err != nil {
			s.violation(err)
			s.writeError(w, c, &apiError{status: 500, message: "the stand-in's response broke GitHub's contract: " + err.Error()}, cred)
			return
		}
	}
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	w.Write(out)
}

func cloneRequest(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	return r2
}

// errorBody is e's body in GitHub's basic-error / validation-error shape.
func errorBody(e *apiError) map[string]any {
	body := map[string]any{"message": e.message, "documentation_url": docsURL + e.doc}
	if e.status == 422 {
		errs := e.errs
		if errs == nil {
			errs = []map[string]string{}
		}
		body["errors"] = errs
		body["status"] = "422"
	}
	return body
}

// checkError reports an error answer to c that breaks what its operation
// documents for the status (a 422 that is no validation-error, say). A
// status the operation does not document (nor StatusExceptions) is not
// checked.
func (s *Server) checkError(c *call, e *apiError) {
	if c == nil || c.operation == nil || !s.spec.Answers(c.operation, e.status) {
		return
	}
	out, err := json.Marshal(errorBody(e))
	if err == nil {
		err = s.spec.ValidateError(c.operation, c.r, e.status, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, out)
	}
	if err != nil {
		s.violation(err)
	}
}

// writeError answers e to c (nil: a request no route serves), checked
// against c's operation first (checkError).
func (s *Server) writeError(w http.ResponseWriter, c *call, e *apiError, cred string) {
	s.checkError(c, e)
	body := errorBody(e)
	for k, vs := range e.header {
		w.Header()[k] = vs
	}
	s.rateHeaders(w.Header(), cred)
	if e.header.Get("X-RateLimit-Remaining") != "" {
		// a primary rate limit fault overrides the counters
		for _, k := range []string{"X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used"} {
			w.Header().Set(k, e.header.Get(k))
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(body)
}

// rateHeaders sets GitHub's rate-limit headers, counting per credential.
func (s *Server) rateHeaders(h http.Header, cred string) {
	s.mu.Lock()
	s.rateUsed[cred]++
	s.mu.Unlock()
	limit, remaining, reset := s.rateOf(cred)
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(limit-remaining))
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-GitHub-Request-Id", strings.ToUpper(randHex(8)))
}

// credential is the Authorization header's secret, or "" when absent.
func credential(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if i := strings.IndexByte(a, ' '); i > 0 {
		return strings.TrimSpace(a[i+1:])
	}
	return ""
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
