package rotate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/hashicorp/vault/api"
)

// StaticRole rotates database credentials found in connection URIs whose
// host, port and database the settings map to a Vault database secrets
// engine connection: the leaked role becomes a Vault static role (Vault
// sets a new password at once and then every rotation period), and the
// fix's references point at <mount>/static-creds/<role>. The next KV
// version holds no password, only where the credential now lives.
// NewPostgres and NewMySQL return it for PostgreSQL and for MySQL/MariaDB.
//
// Proof: the exposed password must be refused by the database, and the
// password Vault holds must log in.
type StaticRole struct {
	c   *api.Client
	dbs []Database
	e   engine
}

// engine is what differs between databases.
type engine struct {
	name        string
	schemes     []string
	defaultPort string
	// login logs in with the URI's user and password and runs a query.
	login func(ctx context.Context, u *url.URL, password string) error
	// refused: the error is the server refusing the password.
	refused func(error) bool
}

var _ Rotator = (*StaticRole)(nil)

// dbTarget is what the rotator reads from a finding.
type dbTarget struct {
	uri      *url.URL
	user     string
	host     string
	port     string
	database string
	db       Database
	role     string
}

func (p *StaticRole) parse(t Target) (dbTarget, bool) {
	raw := strings.TrimPrefix(t.Exposed.Reveal("value"), "jdbc:")
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(p.e.schemes, u.Scheme) || u.User == nil {
		return dbTarget{}, false
	}
	if _, ok := u.User.Password(); !ok || u.User.Username() == "" {
		return dbTarget{}, false
	}
	pt := dbTarget{uri: u, user: u.User.Username(), host: u.Hostname(), port: u.Port(), database: strings.TrimPrefix(u.Path, "/")}
	if pt.port == "" {
		pt.port = p.e.defaultPort
	}
	for _, d := range p.dbs {
		// Roles belong to the server, not to one database: a URI naming no
		// database (detectors often drop it) matches on host and port.
		if glob(d.Match.Host, pt.host) && glob(d.Match.Port, pt.port) && (pt.database == "" || glob(d.Match.Database, pt.database)) {
			if d.Mount == "" {
				d.Mount = "database"
			}
			if d.RotationPeriod == "" {
				d.RotationPeriod = "24h"
			}
			pt.db = d
			pt.role = roleName(t.Repository, pt.user)
			return pt, true
		}
	}
	return dbTarget{}, false
}

func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := doublestar.Match(pattern, s)
	return ok
}

// roleName is the static role's name: pv-<owner>-<repo>-<user>, made of
// characters Vault accepts in a path segment.
func roleName(repo, user string) string {
	var b strings.Builder
	for _, r := range "pv-" + strings.ReplaceAll(repo, "/", "-") + "-" + user {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// Match implements Rotator: a URI of the engine's schemes with a password
// on a declared database.
func (p *StaticRole) Match(_ context.Context, t Target) (bool, error) {
	_, ok := p.parse(t)
	return ok, nil
}

// Rotate implements Rotator: creates (or re-rotates) the static role and
// checks the password Vault set logs in.
func (p *StaticRole) Rotate(ctx context.Context, t Target) (Change, error) {
	pt, ok := p.parse(t)
	if !ok {
		return Change{}, errors.New("the finding is not a connection URI on a declared database")
	}
	rolePath := pt.db.Mount + "/static-roles/" + pt.role
	existing, err := p.c.Logical().ReadWithContext(ctx, rolePath)
	if err != nil {
		return Change{}, fmt.Errorf("vault read %s: %w", rolePath, err)
	}
	if existing == nil {
		// Creating the role makes Vault set a new password at once.
		if _, err := p.c.Logical().WriteWithContext(ctx, rolePath, map[string]any{
			"db_name": pt.db.Connection, "username": pt.user, "rotation_period": pt.db.RotationPeriod,
		}); err != nil {
			return Change{}, fmt.Errorf("vault write %s (db %s, user %s): %w", rolePath, pt.db.Connection, pt.user, err)
		}
	} else if _, err := p.c.Logical().WriteWithContext(ctx, pt.db.Mount+"/rotate-role/"+pt.role, nil); err != nil {
		return Change{}, fmt.Errorf("vault write %s/rotate-role/%s: %w", pt.db.Mount, pt.role, err)
	}
	credsPath := pt.db.Mount + "/static-creds/" + pt.role
	creds, err := p.c.Logical().ReadWithContext(ctx, credsPath)
	if err != nil {
		return Change{}, fmt.Errorf("vault read %s: %w", credsPath, err)
	}
	if creds == nil {
		return Change{}, fmt.Errorf("vault read %s: no credentials", credsPath)
	}
	newPass, _ := creds.Data["password"].(string)
	exposed, _ := pt.uri.User.Password()
	if newPass == "" || newPass == exposed {
		return Change{}, fmt.Errorf("vault %s holds no new password", credsPath)
	}
	if err := p.e.login(ctx, pt.uri, newPass); err != nil {
		return Change{}, fmt.Errorf("the password Vault set does not log in as %s: %w", pt.user, err)
	}
	return Change{
		Data: Data{"engine": "database", "static_creds": credsPath, "username": pt.user,
			"note": "the password now lives in " + credsPath + " and Vault rotates it every " + pt.db.RotationPeriod},
		Refs: map[string]Ref{"password": {Path: credsPath, Key: "password"}, "username": {Path: credsPath, Key: "username"}},
		Detail: map[string]string{"static_role": pt.db.Mount + "/static-roles/" + pt.role, "db_connection": pt.db.Connection,
			"db_user": pt.user, "new_password_login": "ok"},
	}, nil
}

// CheckDead implements Rotator: the exposed password must be refused.
func (p *StaticRole) CheckDead(ctx context.Context, t Target) error {
	pt, ok := p.parse(t)
	if !ok {
		return errors.New("the finding is not a connection URI on a declared database")
	}
	exposed, _ := pt.uri.User.Password()
	err := p.e.login(ctx, pt.uri, exposed)
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s at %s accepted the exposed password for %s", ErrStillWorks, p.e.name, net.JoinHostPort(pt.host, pt.port), pt.user)
	case p.e.refused(err):
		return nil
	}
	return fmt.Errorf("asking %s at %s: %w", p.e.name, net.JoinHostPort(pt.host, pt.port), err)
}
