package githubapp_test

import (
	"context"
	"testing"

	"github.com/pushvault/pushvault/githubapp"
)

// PermissionOf reads the role GitHub's collaborator-permission API reports
// (served by the stand-in against GitHub's description): role_name tells
// maintain from write; a custom role counts as its legacy permission; a
// user without a role holds none.
func TestPermissionOf(t *testing.T) {
	srv, gh := standIn(t, map[string]string{"README.md": "shop\n"})
	for login, role := range map[string]string{"mara": "maintain", "wes": "write", "ada": "admin", "tri": "triage"} {
		if err := srv.SetRole("acme", "shop", login, role); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.SetCustomRole("acme", "shop", "cus", "security-lead", "maintain"); err != nil {
		t.Fatal(err)
	}
	for login, want := range map[string]githubapp.Role{
		"mara": githubapp.RoleMaintain, "wes": githubapp.RoleWrite, "ada": githubapp.RoleAdmin, "tri": githubapp.RoleTriage,
		"cus": githubapp.RoleWrite, "nobody": githubapp.RoleNone,
	} {
		got, err := githubapp.PermissionOf(context.Background(), gh, "acme", "shop", login)
		if err != nil || got != want {
			t.Errorf("PermissionOf(%s) = %q, %v; want %q", login, got, err, want)
		}
		if ok := got.AtLeast(githubapp.DefaultActionPermission); ok != (want == githubapp.RoleMaintain || want == githubapp.RoleAdmin) {
			t.Errorf("%s (%s) AtLeast(maintain) = %v", login, got, ok)
		}
	}
	if got, err := githubapp.PermissionOf(context.Background(), gh, "acme", "elsewhere", "mara"); err != nil || got != githubapp.RoleNone {
		t.Errorf("on a repository GitHub does not know (404): %q, %v; want none", got, err)
	}
	if v := srv.Violations(); len(v) != 0 {
		t.Errorf("contract violations: %v", v)
	}
}

func TestParseRole(t *testing.T) {
	for _, s := range []string{"read", "triage", "write", "maintain", "admin"} {
		if r, err := githubapp.ParseRole(s); err != nil || string(r) != s {
			t.Errorf("ParseRole(%q) = %q, %v", s, r, err)
		}
	}
	for _, s := range []string{"", "none", "owner", "Maintain"} {
		if _, err := githubapp.ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q): no error", s)
		}
	}
	if githubapp.Role("security-lead").AtLeast(githubapp.RoleRead) {
		t.Error("an unknown role counts as read")
	}
}
