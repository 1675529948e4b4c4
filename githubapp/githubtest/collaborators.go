package githubtest

import (
	"cmp"
	"fmt"
	"slices"
)

// baseRoles are GitHub's base repository roles, and legacy maps each to the
// legacy permission the collaborator-permission API reports beside it
// (maintain counts as write, triage as read).
var (
	baseRoles = []string{"read", "triage", "write", "maintain", "admin"}
	legacy    = map[string]string{"read": "read", "triage": "read", "write": "write", "maintain": "write", "admin": "admin"}
)

// grant is a user's role on a repository: a base role, or a custom role's
// name and the base role it extends.
type grant struct{ name, base string }

// SetRole gives login the base role (read, triage, write, maintain, admin)
// on owner/repo, as GitHub's collaborator-permission API will report it;
// "" takes it away. A user never given a role holds none.
func (s *Server) SetRole(owner, repo, login, role string) error {
	if role != "" && !slices.Contains(baseRoles, role) {
		return fmt.Errorf("role %q: want one of %v", role, baseRoles)
	}
	return s.setGrant(owner, repo, login, grant{name: role, base: role})
}

// SetCustomRole gives login an organisation's custom repository role named
// name, extending the base role base: the API reports the name as
// role_name and the base's legacy permission.
func (s *Server) SetCustomRole(owner, repo, login, name, base string) error {
	if !slices.Contains(baseRoles, base) || name == "" || slices.Contains(baseRoles, name) {
		return fmt.Errorf("custom role %q extending %q: want a new name and one of %v", name, base, baseRoles)
	}
	return s.setGrant(owner, repo, login, grant{name: name, base: base})
}

func (s *Server) setGrant(owner, repo, login string, g grant) error {
	full := owner + "/" + repo
	if s.repo(full) == nil {
		return fmt.Errorf("repo %s: %w", full, ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants[full] == nil {
		s.grants[full] = map[string]grant{}
	}
	if g.base == "" {
		delete(s.grants[full], login)
		return nil
	}
	s.grants[full][login] = g
	return nil
}

// getCollaboratorPermission serves repos/get-collaborator-permission-level.
func (s *Server) getCollaboratorPermission(c *call) (int, any, error) {
	login := c.params["username"]
	s.mu.Lock()
	g, ok := s.grants[c.repo.full()][login]
	s.mu.Unlock()
	if !ok {
		g = grant{name: "none", base: "none"}
	}
	at := slices.Index(baseRoles, g.base) // -1 for none
	user := s.user(login, "User")
	user["role_name"] = g.name
	user["permissions"] = obj{"pull": at >= 0, "triage": at >= 1, "push": at >= 2, "maintain": at >= 3, "admin": at >= 4}
	return 200, obj{"permission": cmp.Or(legacy[g.base], "none"), "role_name": g.name, "user": user}, nil
}
