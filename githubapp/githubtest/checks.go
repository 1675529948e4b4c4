package githubtest

import (
	"slices"
	"strconv"
	"time"
)

// CheckRun is a check run as the stand-in holds it.
type CheckRun struct {
	ID          int64
	Repo        string // "owner/name"
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	ExternalID  string
	DetailsURL  string
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation // every annotation sent, across create and updates
	Actions     []CheckAction
	StartedAt   time.Time
	CompletedAt time.Time
	// Requests counts the create and update calls that made it.
	Requests int
}

// Annotation is one check-run annotation.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	StartColumn     *int   `json:"start_column,omitempty"`
	EndColumn       *int   `json:"end_column,omitempty"`
	AnnotationLevel string `json:"annotation_level"`
	Message         string `json:"message"`
	Title           string `json:"title,omitempty"`
	RawDetails      string `json:"raw_details,omitempty"`
}

// CheckAction is a requested-action button on a check run.
type CheckAction struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	Identifier  string `json:"identifier"`
}

type checkRun = CheckRun

// CheckRuns returns copies of every check run, oldest first.
func (s *Server) CheckRuns() []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CheckRun, len(s.checkRuns))
	for i, c := range s.checkRuns {
		out[i] = *c
		out[i].Annotations = slices.Clone(c.Annotations)
		out[i].Actions = slices.Clone(c.Actions)
	}
	return out
}

type checkRunRequest struct {
	Name        *string    `json:"name"`
	HeadSHA     *string    `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	Conclusion  *string    `json:"conclusion"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title       *string      `json:"title"`
		Summary     *string      `json:"summary"`
		Text        *string      `json:"text"`
		Annotations []Annotation `json:"annotations"`
	} `json:"output"`
	Actions []CheckAction `json:"actions"`
}

const maxAnnotations, maxSummary = 50, 65535

// apply checks GitHub's limits and applies req to cr.
func (s *Server) applyCheckRun(cr *CheckRun, req *checkRunRequest) error {
	if o := req.Output; o != nil {
		if len(o.Annotations) > maxAnnotations {
			return validationFailed("Only 50 annotations may be sent per request", map[string]string{"resource": "CheckRun", "field": "annotations", "code": "too_many"})
		}
		if o.Summary != nil && len([]rune(*o.Summary)) > maxSummary {
			return validationFailed("Invalid request.\n\nOnly 65535 characters are allowed; 'summary' is too long.", map[string]string{"resource": "CheckRun", "field": "summary", "code": "too_long"})
		}
		if o.Text != nil && len([]rune(*o.Text)) > maxSummary {
			return validationFailed("Invalid request.\n\nOnly 65535 characters are allowed; 'text' is too long.", map[string]string{"resource": "CheckRun", "field": "text", "code": "too_long"})
		}
		for _, a := range o.Annotations {
			if a.Path == "" || a.StartLine < 1 || a.EndLine < a.StartLine || a.Message == "" {
				return validationFailed("Invalid request.\n\nAnnotations need a path, a start_line >= 1, an end_line >= start_line and a message.")
			}
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&cr.Title, o.Title)
		set(&cr.Summary, o.Summary)
		set(&cr.Text, o.Text)
		cr.Annotations = append(cr.Annotations, o.Annotations...)
	}
	if len(req.Actions) > 3 {
		return validationFailed("Only 3 actions may be sent per request")
	}
	if req.Actions != nil {
		cr.Actions = req.Actions
	}
	if req.Name != nil {
		cr.Name = *req.Name
	}
	if req.DetailsURL != nil {
		cr.DetailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		cr.ExternalID = *req.ExternalID
	}
	if req.StartedAt != nil {
		cr.StartedAt = *req.StartedAt
	}
	if req.Status != nil {
		cr.Status = *req.Status
	}
	if req.Conclusion != nil {
		cr.Conclusion = *req.Conclusion
		cr.Status = "completed"
	}
	if cr.Status == "completed" {
		if cr.Conclusion == "" {
			return validationFailed("Invalid request.\n\n\"conclusion\" is required when \"status\" is \"completed\".")
		}
		cr.CompletedAt = s.now()
		if req.CompletedAt != nil {
			cr.CompletedAt = *req.CompletedAt
		}
	}
	cr.Requests++
	return nil
}

func (s *Server) createCheckRun(c *call) (int, any, error) {
	var req checkRunRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name == nil || req.HeadSHA == nil {
		return 0, nil, validationFailed("Invalid request.\n\n\"name\" and \"head_sha\" are required.")
	}
	sha, err := s.git(c.repo, nil, "rev-parse", "--verify", "--quiet", *req.HeadSHA+"^{commit}")
	if err != nil || sha != *req.HeadSHA {
		return 0, nil, validationFailed("No commit found for SHA: "+*req.HeadSHA, map[string]string{"resource": "CheckRun", "field": "head_sha", "code": "invalid"})
	}
	cr := &CheckRun{ID: s.id(), Repo: c.repo.full(), HeadSHA: sha, Status: "queued", StartedAt: s.now()}
	if err := s.applyCheckRun(cr, &req); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	s.checkRuns = append(s.checkRuns, cr)
	snap := *cr
	s.mu.Unlock()
	// GitHub tells the App about its own check runs too.
	s.deliver("check_run", s.checkRunEvent(c.repo, &snap, "created", s.bot()))
	if snap.Status == "completed" {
		s.checkRunCompleted(&snap)
		s.deliver("check_run", s.checkRunEvent(c.repo, &snap, "completed", s.bot()))
	}
	return 201, s.checkRunObject(c.repo, &snap), nil
}

func (s *Server) checkRunParam(c *call) (*CheckRun, error) {
	id, err := strconv.ParseInt(c.params["check_run_id"], 10, 64)
	if err != nil {
		return nil, notFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cr := range s.checkRuns {
		if cr.ID == id && cr.Repo == c.repo.full() {
			return cr, nil
		}
	}
	return nil, notFound()
}

func (s *Server) getCheckRun(c *call) (int, any, error) {
	cr, err := s.checkRunParam(c)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return 200, s.checkRunObject(c.repo, cr), nil
}

func (s *Server) updateCheckRun(c *call) (int, any, error) {
	var req checkRunRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	cr, err := s.checkRunParam(c)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	next := *cr
	next.Annotations = slices.Clone(cr.Annotations)
	if err := s.applyCheckRun(&next, &req); err != nil {
		s.mu.Unlock()
		return 0, nil, err
	}
	completed := cr.Status != "completed" && next.Status == "completed"
	*cr = next
	snap := next
	s.mu.Unlock()
	if completed {
		s.checkRunCompleted(&snap)
		s.deliver("check_run", s.checkRunEvent(c.repo, &snap, "completed", s.bot()))
	}
	return 200, s.checkRunObject(c.repo, &snap), nil
}

func (s *Server) listCheckRuns(c *call) (int, any, error) {
	sha, err := s.git(c.repo, nil, "rev-parse", "--verify", "--quiet", c.params["ref"]+"^{commit}")
	if err != nil {
		return 0, nil, notFound()
	}
	q := c.r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	runs := []obj{}
	for _, cr := range s.checkRuns {
		if cr.Repo != c.repo.full() || cr.HeadSHA != sha {
			continue
		}
		if n := q.Get("check_name"); n != "" && n != cr.Name {
			continue
		}
		if st := q.Get("status"); st != "" && st != cr.Status {
			continue
		}
		runs = append(runs, s.checkRunObject(c.repo, cr))
	}
	slices.Reverse(runs) // newest first, as GitHub lists them
	return 200, obj{"total_count": len(runs), "check_runs": runs}, nil
}

func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

// checkRunObject renders cr; the caller holds s.mu or owns cr.
func (s *Server) checkRunObject(rs *repoState, cr *CheckRun) obj {
	api := s.URL + "/repos/" + rs.full() + "/check-runs/" + strconv.FormatInt(cr.ID, 10)
	actions := []obj{}
	for _, a := range cr.Actions {
		actions = append(actions, obj{"label": a.Label, "description": a.Description, "identifier": a.Identifier})
	}
	return obj{
		"id": cr.ID, "node_id": nodeID("CheckRun", cr.ID), "head_sha": cr.HeadSHA, "name": cr.Name,
		"url": api, "html_url": s.URL + "/" + rs.full() + "/runs/" + strconv.FormatInt(cr.ID, 10),
		"details_url": nullable(cr.DetailsURL), "external_id": nullable(cr.ExternalID),
		"status": cr.Status, "conclusion": nullable(cr.Conclusion),
		"started_at": nullTime(cr.StartedAt), "completed_at": nullTime(cr.CompletedAt),
		"output": obj{"title": nullable(cr.Title), "summary": nullable(cr.Summary), "text": nullable(cr.Text),
			"annotations_count": len(cr.Annotations), "annotations_url": api + "/annotations"},
		"check_suite": obj{"id": cr.ID + 500000}, "app": s.appObject(), "pull_requests": []obj{},
		"actions": actions,
	}
}
