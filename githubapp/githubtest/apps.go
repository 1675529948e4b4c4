package githubtest

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

func (s *Server) getApp(c *call) (int, any, error) {
	return 200, s.appObject(), nil
}

func (s *Server) installationParam(c *call) (*Installation, error) {
	id, err := strconv.ParseInt(c.params["installation_id"], 10, 64)
	if err != nil {
		return nil, notFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.installs[id]
	if !ok {
		return nil, notFound()
	}
	return in, nil
}

func (s *Server) getInstallation(c *call) (int, any, error) {
	in, err := s.installationParam(c)
	if err != nil {
		return 0, nil, err
	}
	return 200, s.installationObject(in), nil
}

// TokenRequest is one POST /app/installations/{id}/access_tokens the
// stand-in granted: the repositories (full names) and permissions asked
// for, nil when the request left them out (the installation's).
type TokenRequest struct {
	InstallationID int64
	Repositories   []string
	Permissions    map[string]string
}

// TokenRequests returns every access-token request granted, in order.
func (s *Server) TokenRequests() []TokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokenRequests)
}

// createToken mints an installation token limited, as GitHub does, to the
// repositories named (repositories) or numbered (repository_ids) and to
// the permissions asked, each at most the App's.
func (s *Server) createToken(c *call) (int, any, error) {
	in, err := s.installationParam(c)
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if len(c.body) > 0 {
		if err := c.decode(&req); err != nil {
			return 0, nil, err
		}
	}
	limit, err := s.tokenRepos(in, req.Repositories, req.RepositoryIDs)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range req.Permissions {
		if granted, _ := appPermissions[k].(string); granted == "" || (v != "read" && v != "write") || (v == "write" && granted != "write") {
			return 0, nil, validationFailed("The permissions requested are not granted to this installation.")
		}
	}
	v, exp, err := s.mintToken(in.ID, limit, req.Permissions)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	s.tokenRequests = append(s.tokenRequests, TokenRequest{InstallationID: in.ID, Repositories: limit, Permissions: req.Permissions})
	s.mu.Unlock()
	sel := "all"
	if in.Repos != nil || limit != nil {
		sel = "selected"
	}
	perms := any(appPermissions)
	if req.Permissions != nil {
		perms = req.Permissions
	}
	return 201, obj{"token": v, "expires_at": exp.UTC().Format(time.RFC3339),
		"permissions": perms, "repository_selection": sel}, nil
}

// tokenRepos is the full names a token request limits its token to (nil:
// none named), each one the installation covers.
func (s *Server) tokenRepos(in *Installation, names []string, ids []int64) ([]string, error) {
	var limit []string
	for _, r := range names {
		limit = append(limit, in.Account+"/"+r)
	}
	for _, id := range ids {
		full := s.repoByID(id)
		if full == "" {
			return nil, validationFailed("There is at least one repository that does not exist or is not accessible to the parent installation.")
		}
		limit = append(limit, full)
	}
	for _, full := range limit {
		if !in.covers(full) || s.repo(full) == nil {
			return nil, validationFailed("There is at least one repository that does not exist or is not accessible to the parent installation.")
		}
	}
	return limit, nil
}

// repoByID is the full name of the repository with id, "" when none.
func (s *Server) repoByID(id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for full, rs := range s.repos {
		if rs.id == id {
			return full
		}
	}
	return ""
}

func (s *Server) getRepoInstallation(c *call) (int, any, error) {
	full := c.params["owner"] + "/" + c.params["repo"]
	s.mu.Lock()
	in := s.installationFor(full)
	_, exists := s.repos[full]
	s.mu.Unlock()
	if in == nil || !exists {
		return 0, nil, notFound()
	}
	return 200, s.installationObject(in), nil
}

func (s *Server) getOrgInstallation(c *call) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.installs {
		if in.Account == c.params["org"] {
			return 200, s.installationObject(in), nil
		}
	}
	return 0, nil, notFound()
}

// ManifestCode returns a one-time code for the manifest flow's
// POST /app-manifests/{code}/conversions, as GitHub's redirect carries it.
func (s *Server) ManifestCode() string {
	code := randHex(10)
	s.mu.Lock()
	s.manifestCode[code] = true
	s.mu.Unlock()
	return code
}

func (s *Server) convertManifest(c *call) (int, any, error) {
	s.mu.Lock()
	ok := s.manifestCode[c.params["code"]]
	delete(s.manifestCode, c.params["code"])
	s.mu.Unlock()
	if !ok {
		return 0, nil, notFound()
	}
	o := s.appObject()
	o["client_secret"] = s.app.ClientSecret
	o["webhook_secret"] = s.app.WebhookSecret
	o["pem"] = string(s.app.PrivateKeyPEM)
	return 201, o, nil
}

func (s *Server) getRateLimit(c *call) (int, any, error) {
	cred := credential(c.r)
	limit, remaining, reset := s.rateOf(cred)
	rate := obj{"limit": limit, "remaining": remaining, "reset": reset.Unix(), "used": limit - remaining}
	search := obj{"limit": 30, "remaining": 30, "reset": s.now().Add(time.Minute).Unix(), "used": 0}
	return 200, obj{"rate": rate, "resources": obj{"core": rate, "search": search}}, nil
}

// getAuthenticatedUser answers GET /user: the user a user token belongs
// to; an installation token authenticates but is no user (403, as GitHub
// answers), no credentials 401. Dead credentials were refused (401) by
// authAny already.
func (s *Server) getAuthenticatedUser(c *call) (int, any, error) {
	cred := credential(c.r)
	if cred == "" {
		return 0, nil, unauthorized("Requires authentication")
	}
	in, err := s.tokenInstallation(cred)
	if err != nil || in.ID != 0 {
		return 0, nil, &apiError{status: http.StatusForbidden, message: "Resource not accessible by integration",
			doc: "/rest/users/users#get-the-authenticated-user"}
	}
	u := s.user(in.Account, "User")
	for k, v := range (obj{"user_view_type": "public", "name": nil, "company": nil, "blog": "", "location": nil,
		"email": nil, "hireable": nil, "bio": nil, "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z"}) {
		u[k] = v
	}
	return http.StatusOK, u, nil
}

// revokeCredentials records every value and answers 202; as on GitHub,
// which revokes in the background, stand-in tokens among them stop
// authenticating only after the revocation delay (WithRevocationDelay).
func (s *Server) revokeCredentials(c *call) (int, any, error) {
	var req struct {
		Credentials []string `json:"credentials"`
	}
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if len(req.Credentials) == 0 || len(req.Credentials) > 1000 {
		return 0, nil, validationFailed("credentials must hold 1 to 1000 values")
	}
	_, enterprise := cutEnterprise(c.r.URL.EscapedPath())
	var by int64
	if c.inst != nil {
		by = c.inst.ID
	}
	s.mu.Lock()
	for _, v := range req.Credentials {
		s.revocations = append(s.revocations, Revocation{Credential: v, Enterprise: enterprise, InstallationID: by})
	}
	s.mu.Unlock()
	revoke := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, v := range req.Credentials {
			delete(s.tokens, v)
		}
	}
	if s.revokeDelay <= 0 {
		revoke()
	} else {
		time.AfterFunc(s.revokeDelay, revoke)
	}
	return 202, obj{}, nil
}

func (s *Server) getRepo(c *call) (int, any, error) {
	return 200, s.repoObject(c.repo), nil
}

// rateLimit is GitHub's primary limit of an installation's tokens.
const rateLimit = 5000

// lowBudgetWindow is the reset SetRateBudget's low budget reports: the
// window ends soon, and a new one is as low until ResetRateBudget.
const lowBudgetWindow = 2 * time.Second

// SetRateBudget makes every token of installation id see remaining of
// GitHub's core limit (GET /rate_limit and the X-RateLimit headers), with
// a window that resets every lowBudgetWindow and stays as low — the budget
// other clients of the installation keep spending — until ResetRateBudget.
// Requests are still served: remaining is what is left, not exhausted.
func (s *Server) SetRateBudget(id int64, remaining int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lowBudget[id] = remaining
}

// ResetRateBudget ends SetRateBudget for installation id: its tokens
// count their own requests again (the window reset).
func (s *Server) ResetRateBudget(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.lowBudget, id)
}

// rateOf is the core limit credential cred sees: its own count, or its
// installation's low budget (SetRateBudget).
func (s *Server) rateOf(cred string) (limit, remaining int, reset time.Time) {
	inst := int64(-1)
	if in, err := s.tokenInstallation(cred); err == nil && in.ID != 0 {
		inst = in.ID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if low, ok := s.lowBudget[inst]; ok {
		return rateLimit, low, s.now().Add(lowBudgetWindow)
	}
	return rateLimit, max(rateLimit-s.rateUsed[cred], 0), s.now().Add(time.Hour)
}
