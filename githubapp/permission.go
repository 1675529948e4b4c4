package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/google/go-github/v60/github"
)

// Role is a person's role on a repository, as GitHub's collaborator
// permission API names the base roles, weakest first after RoleNone.
type Role string

// The base repository roles.
const (
	RoleNone     Role = "none"
	RoleRead     Role = "read"
	RoleTriage   Role = "triage"
	RoleWrite    Role = "write"
	RoleMaintain Role = "maintain"
	RoleAdmin    Role = "admin"
)

// roles are the base roles, weakest first.
var roles = []Role{RoleNone, RoleRead, RoleTriage, RoleWrite, RoleMaintain, RoleAdmin}

// DefaultActionPermission is the role the check run's "False positive" and
// "Approve rotation" buttons need unless the server says otherwise:
// maintain (or admin), above the write access every pusher has.
const DefaultActionPermission = RoleMaintain

// ParseRole reads a required role as the server's configuration spells it:
// one of read, triage, write, maintain, admin.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if r == RoleNone || !slices.Contains(roles, r) {
		return "", fmt.Errorf("%q is not one of read, triage, write, maintain, admin", s)
	}
	return r, nil
}

// AtLeast reports whether r is min or stronger. An unknown role is
// weaker than any.
func (r Role) AtLeast(min Role) bool {
	return slices.Index(roles, r) >= slices.Index(roles, min) && slices.Contains(roles, r)
}

// collaboratorPermission is GitHub's repository-collaborator-permission;
// go-github v60's RepositoryPermissionLevel lacks role_name.
type collaboratorPermission struct {
	Permission string `json:"permission"`
	RoleName   string `json:"role_name"`
}

// PermissionOf asks GitHub which role user holds on owner/repo (GET
// /repos/{owner}/{repo}/collaborators/{username}/permission), counting
// every source of the grant (repository, teams, organisation). The
// role_name tells maintain from write and triage from read; a custom
// role's name says nothing of its power, so for one the legacy permission
// (admin, write, read, none: maintain counted as write, triage as read)
// decides, which can only understate it. A user GitHub does not know on
// the repository (404) holds RoleNone. Other failures are errors.
func PermissionOf(ctx context.Context, gh *github.Client, owner, repo, user string) (Role, error) {
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(user))
	req, err := gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return RoleNone, err
	}
	var p collaboratorPermission
	if _, err := gh.Do(ctx, req, &p); err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			return RoleNone, nil
		}
		return RoleNone, fmt.Errorf("permission of %s on %s/%s: %w", user, owner, repo, err)
	}
	if r := Role(p.RoleName); slices.Contains(roles, r) {
		return r, nil
	}
	if r := Role(p.Permission); r == RoleAdmin || r == RoleWrite || r == RoleRead {
		return r, nil
	}
	return RoleNone, nil
}
