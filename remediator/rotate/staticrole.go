package rotate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

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
// The leaked URI is the pusher's: it only names the credential. Every
// login goes to the server Vault's connection configuration names, with
// the TLS settings configured there, and only when the URI names that same
// server. Before a takeover the leaked password must log in there (a
// made-up one proves nothing and ends in rotation_manual); after it the
// exposed password must be refused and the password Vault holds must log
// in.
type StaticRole struct {
	c   *api.Client
	dbs []Database
	e   engine
	// timeout bounds each login (rotation.database_timeout).
	timeout time.Duration
}

// WithTimeout sets how long each login to the database may take,
// connecting included (rotation.database_timeout), and returns p.
func (p *StaticRole) WithTimeout(d time.Duration) *StaticRole {
	p.timeout = d
	return p
}

// engine is what differs between databases.
type engine struct {
	name        string
	schemes     []string
	defaultPort string
	// plugin prefixes the names of the Vault plugins that drive this engine.
	plugin string
	// server reads where and how a Vault connection logs in from its
	// connection_details; timeout bounds connecting and each read and
	// write on the connection.
	server func(details map[string]any, timeout time.Duration) (dbServer, error)
	// refused: the error is the server refusing the password, and nothing
	// else (an unreachable server, a TLS mismatch or a host the server does
	// not let in are failures to retry, not verdicts on the password).
	refused func(error) bool
}

// dbServer is a database server as a Vault connection reaches it.
type dbServer struct {
	host, port string
	// login logs in as user with password to database (the connection's
	// own when "") and runs a query; the caller bounds it with a deadline.
	login func(ctx context.Context, user, password, database string) error
}

// doesNotLogIn is the reason a rotation ends in rotation_manual when the
// leaked password is refused: the check run quotes it.
const doesNotLogIn = "the leaked credential does not log in"

var _ Rotator = (*StaticRole)(nil)

// dbTarget is what the rotator reads from a finding.
type dbTarget struct {
	user     string
	password string
	host     string
	port     string
	database string
	db       Database
}

// addr is host:port as the leaked URI names it.
func (pt dbTarget) addr() string { return net.JoinHostPort(pt.host, pt.port) }

func (p *StaticRole) parse(t Target) (dbTarget, bool) {
	raw := strings.TrimPrefix(t.Exposed.Reveal("value"), "jdbc:")
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(p.e.schemes, u.Scheme) || u.User == nil {
		return dbTarget{}, false
	}
	password, ok := u.User.Password()
	if !ok || u.User.Username() == "" {
		return dbTarget{}, false
	}
	pt := dbTarget{user: u.User.Username(), password: password, host: u.Hostname(), port: u.Port(), database: strings.TrimPrefix(u.Path, "/")}
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

// RoleName is the static role pushvault creates for the database account
// user on the Vault connection: pv-<connection>-<user> in characters Vault
// accepts, cut to 40, then 16 hex digits of SHA-256(connection NUL user).
// The hash makes names differ whenever the pairs differ (the readable part
// alone does not: "a-b"+"c" and "a"+"b-c"). One role per account, not per
// repository: two roles on one account would each reset the password the
// other hands out.
func RoleName(connection, user string) string {
	sum := sha256.Sum256([]byte(connection + "\x00" + user))
	readable := pathSafe(connection + "-" + user)
	if len(readable) > 40 {
		readable = readable[:40]
	}
	return "pv-" + readable + "-" + hex.EncodeToString(sum[:8])
}

// legacyRoleName is the name roles had before RoleName (pv-<owner>-<repo>-<user>,
// which two repositories could share); such a role is kept, not doubled.
func legacyRoleName(repo, user string) string {
	s := pathSafe("pv-" + strings.ReplaceAll(repo, "/", "-") + "-" + user)
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// pathSafe replaces every character Vault does not take in a role name by _.
func pathSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Match implements Rotator: a URI of the engine's schemes with a password
// on a declared database.
func (p *StaticRole) Match(_ context.Context, t Target) (bool, error) {
	_, ok := p.parse(t)
	return ok, nil
}

// errNotMapped: Rotate or CheckDead called for a target Match refuses.
var errNotMapped = errors.New("the finding is not a connection URI on a declared database")

// Rotate implements Rotator. On Vault's server for the mapped connection,
// the leaked password must log in; then the account becomes a static role
// (or its role rotates again) and the password Vault set must log in. It
// returns a *ManualError, having changed nothing, when the URI names
// another server or the leaked password is refused.
func (p *StaticRole) Rotate(ctx context.Context, t Target) (Change, error) {
	pt, ok := p.parse(t)
	if !ok {
		return Change{}, errNotMapped
	}
	srv, err := p.server(ctx, pt)
	if err != nil {
		return Change{}, err
	}
	role, err := p.findRole(ctx, t, pt)
	if err != nil {
		return Change{}, err
	}
	switch err := p.login(ctx, srv, pt, pt.password); {
	case err == nil:
		if err := p.takeOver(ctx, pt, role); err != nil {
			return Change{}, err
		}
	case !p.e.refused(err):
		return Change{}, fmt.Errorf("asking %s whether the leaked password logs in as %s: %w", p.where(srv, pt), pt.user, err)
	case role.exists && t.resumed:
		// This rotation's earlier attempt took the account over: the
		// password Vault set is the one to check.
	default:
		return Change{}, &ManualError{Reason: fmt.Sprintf("%s: %s refused the password for %s, so its leak proves nothing; pushvault changed nothing",
			doesNotLogIn, p.where(srv, pt), pt.user)}
	}
	return p.newCredentials(ctx, srv, pt, role.name)
}

// server reads the mapped connection's configuration from Vault and
// returns the server it names. A connection of another engine, or a URI
// naming another host or port than the connection's, is a *ManualError.
func (p *StaticRole) server(ctx context.Context, pt dbTarget) (dbServer, error) {
	path := pt.db.Mount + "/config/" + pt.db.Connection
	sec, err := p.c.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return dbServer{}, fmt.Errorf("vault read %s: %w", path, err)
	}
	if sec == nil {
		return dbServer{}, fmt.Errorf("vault read %s: no such connection", path)
	}
	if plugin, _ := sec.Data["plugin_name"].(string); !strings.HasPrefix(plugin, p.e.plugin) {
		return dbServer{}, &ManualError{Reason: fmt.Sprintf("Vault connection %s uses %q, not a %s plugin: pushvault changed nothing", pt.db.Connection, plugin, p.e.name)}
	}
	details, _ := sec.Data["connection_details"].(map[string]any)
	srv, err := p.e.server(details, p.timeout)
	if err != nil {
		return dbServer{}, fmt.Errorf("vault connection %s: %w", pt.db.Connection, err)
	}
	if !sameHost(pt.host, srv.host) || pt.port != srv.port {
		return dbServer{}, &ManualError{Reason: fmt.Sprintf("the leaked URI names %s, but Vault connection %s is at %s: pushvault logs in only where Vault's connection points, and changed nothing",
			pt.addr(), pt.db.Connection, net.JoinHostPort(srv.host, srv.port))}
	}
	return srv, nil
}

// sameHost compares host names case-insensitively (a trailing dot
// ignored) and IP addresses by value. Names are not resolved: the URI's
// host is the pusher's, and pushvault never looks it up or connects to it.
func sameHost(a, b string) bool {
	a, b = strings.TrimSuffix(strings.ToLower(a), "."), strings.TrimSuffix(strings.ToLower(b), ".")
	if ipa, ipb := net.ParseIP(a), net.ParseIP(b); ipa != nil && ipb != nil {
		return ipa.Equal(ipb)
	}
	return a == b
}

// where names the server and the connection for messages.
func (p *StaticRole) where(srv dbServer, pt dbTarget) string {
	return fmt.Sprintf("%s at %s (Vault connection %s)", p.e.name, net.JoinHostPort(srv.host, srv.port), pt.db.Connection)
}

// ErrDatabaseTimeout is a database server that did not answer a login
// within rotation.database_timeout: a failure to retry, not a verdict on
// the password.
var ErrDatabaseTimeout = errors.New("no answer within rotation.database_timeout")

// login logs in to srv as the target's user with password, within p's
// timeout. A server that does not answer in time is an error wrapping
// ErrDatabaseTimeout, unless ctx itself ended first (ctx's error then).
func (p *StaticRole) login(ctx context.Context, srv dbServer, pt dbTarget, password string) error {
	lctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	err := srv.login(lctx, pt.user, password, pt.database)
	var nerr net.Error
	if err != nil && ctx.Err() == nil && (lctx.Err() != nil || errors.As(err, &nerr) && nerr.Timeout()) {
		return fmt.Errorf("%w (%v)", ErrDatabaseTimeout, p.timeout)
	}
	return err
}

// staticRole is the role that manages (or will manage) the account.
type staticRole struct {
	name   string
	exists bool
}

// findRole returns the static role managing the target's account: the one
// RoleName names, else one made under the legacy name for this repository
// (kept so that the references already written stay valid), else
// RoleName's, to be created. A role of that name managing another account
// is an error: pushvault leaves it alone.
func (p *StaticRole) findRole(ctx context.Context, t Target, pt dbTarget) (staticRole, error) {
	name := RoleName(pt.db.Connection, pt.user)
	for _, n := range []string{name, legacyRoleName(t.Repository, pt.user)} {
		path := pt.db.Mount + "/static-roles/" + n
		sec, err := p.c.Logical().ReadWithContext(ctx, path)
		if err != nil {
			return staticRole{}, fmt.Errorf("vault read %s: %w", path, err)
		}
		if sec == nil {
			continue
		}
		user, _ := sec.Data["username"].(string)
		conn, _ := sec.Data["db_name"].(string)
		if user == pt.user && conn == pt.db.Connection {
			return staticRole{name: n, exists: true}, nil
		}
		if n == name {
			return staticRole{}, fmt.Errorf("vault static role %s manages %s on %s, not %s on %s: pushvault leaves it alone", path, user, conn, pt.user, pt.db.Connection)
		}
	}
	return staticRole{name: name}, nil
}

// takeOver creates the static role (Vault sets a new password at once) or
// has Vault rotate the existing one.
func (p *StaticRole) takeOver(ctx context.Context, pt dbTarget, role staticRole) error {
	if role.exists {
		if _, err := p.c.Logical().WriteWithContext(ctx, pt.db.Mount+"/rotate-role/"+role.name, nil); err != nil {
			return fmt.Errorf("vault write %s/rotate-role/%s: %w", pt.db.Mount, role.name, err)
		}
		return nil
	}
	rolePath := pt.db.Mount + "/static-roles/" + role.name
	if _, err := p.c.Logical().WriteWithContext(ctx, rolePath, map[string]any{
		"db_name": pt.db.Connection, "username": pt.user, "rotation_period": pt.db.RotationPeriod,
	}); err != nil {
		return fmt.Errorf("vault write %s (db %s, user %s): %w", rolePath, pt.db.Connection, pt.user, err)
	}
	return nil
}

// newCredentials checks the password Vault holds for role logs in to srv
// and returns the change pointing at it.
func (p *StaticRole) newCredentials(ctx context.Context, srv dbServer, pt dbTarget, role string) (Change, error) {
	credsPath := pt.db.Mount + "/static-creds/" + role
	creds, err := p.c.Logical().ReadWithContext(ctx, credsPath)
	if err != nil {
		return Change{}, fmt.Errorf("vault read %s: %w", credsPath, err)
	}
	if creds == nil {
		return Change{}, fmt.Errorf("vault read %s: no credentials", credsPath)
	}
	newPass, _ := creds.Data["password"].(string)
	if newPass == "" || newPass == pt.password {
		return Change{}, fmt.Errorf("vault %s holds no new password", credsPath)
	}
	if err := p.login(ctx, srv, pt, newPass); err != nil {
		return Change{}, fmt.Errorf("the password Vault set does not log in as %s to %s: %w", pt.user, p.where(srv, pt), err)
	}
	return Change{
		Data: Data{"engine": "database", "static_creds": credsPath, "username": pt.user,
			"note": "the password now lives in " + credsPath + " and Vault rotates it every " + pt.db.RotationPeriod},
		Refs: map[string]Ref{"password": {Path: credsPath, Key: "password"}, "username": {Path: credsPath, Key: "username"}},
		Detail: map[string]string{"static_role": pt.db.Mount + "/static-roles/" + role, "db_connection": pt.db.Connection,
			"db_user": pt.user, "db_server": net.JoinHostPort(srv.host, srv.port), "new_password_login": "ok"},
	}, nil
}

// CheckDead implements Rotator: the exposed password must be refused by
// the server Vault's connection names.
func (p *StaticRole) CheckDead(ctx context.Context, t Target) error {
	pt, ok := p.parse(t)
	if !ok {
		return errNotMapped
	}
	srv, err := p.server(ctx, pt)
	if err != nil {
		return err
	}
	err = p.login(ctx, srv, pt, pt.password)
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s accepted the exposed password for %s", ErrStillWorks, p.where(srv, pt), pt.user)
	case p.e.refused(err):
		return nil
	}
	return fmt.Errorf("asking %s: %w", p.where(srv, pt), err)
}
