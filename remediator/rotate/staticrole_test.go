package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/pushvault/pushvault/internal/pgtest"
	"github.com/pushvault/pushvault/internal/secrettest"
	"github.com/pushvault/pushvault/remediator/rotate"
)

// staticRoles lists the database engine's static roles.
func staticRoles(t *testing.T, c *api.Client) []string {
	t.Helper()
	sec, err := c.Logical().List("database/static-roles")
	if err != nil {
		t.Fatal(err)
	}
	if sec == nil {
		return nil
	}
	var out []string
	for _, k := range sec.Data["keys"].([]any) {
		out = append(out, k.(string))
	}
	return out
}

// tcpWatch counts the connections made to an address.
type tcpWatch struct{ n atomic.Int32 }

// watchTCP listens on addr and counts every connection; with forward set
// it relays each to that address, else it closes them at once.
func watchTCP(t *testing.T, addr, forward string) *tcpWatch {
	t.Helper()
	w := &tcpWatch{}
	serveTCP(t, addr, func(conn net.Conn) {
		w.n.Add(1)
		if forward == "" {
			conn.Close()
			return
		}
		go relay(conn, forward)
	})
	return w
}

// serveTCP listens on addr until the test ends, handing each connection
// to handle.
func serveTCP(t *testing.T, addr string, handle func(net.Conn)) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			handle(conn)
		}
	}()
}

// relay copies between conn and a connection to addr until either ends.
func relay(conn net.Conn, addr string) {
	defer conn.Close()
	up, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, conn); done <- struct{}{} }()
	go func() { io.Copy(conn, up); done <- struct{}{} }()
	<-done
}

// freshPasswords returns n random passwords, different on every run.
func freshPasswords(n int) []string {
	g := secrettest.New(rand.Uint64())
	out := make([]string, n)
	for i := range out {
		out[i] = g.PostgresPassword()
	}
	return out
}

// wantNothingChanged: the run ended in rotation_manual saying why
// (reason), no static role exists, and the real password still logs in.
func wantNothingChanged(t *testing.T, pg *pgtest.Cluster, c *api.Client, res rotate.Result, err error, real, reason string) {
	t.Helper()
	if err != nil || res.State != rotate.StateManual || !strings.Contains(res.Reason, reason) {
		t.Errorf("want rotation_manual with %q, got %+v, %v", reason, res, err)
	}
	want(t, "static roles", []string(nil), staticRoles(t, c))
	if err := pg.Login(context.Background(), "app", real); err != nil {
		t.Errorf("the real password no longer logs in: %v", err)
	}
}

// TestRoleNameInjective: names whose readable parts coincide differ, and
// stay within a path segment Vault takes.
func TestRoleNameInjective(t *testing.T) {
	pairs := [][2]string{{"a-b", "c"}, {"a", "b-c"}, {"a_b", "c"}, {"a.b", "c"}, {strings.Repeat("x", 60), "u1"}, {strings.Repeat("x", 60), "u2"}}
	seen := map[string][2]string{}
	for _, p := range pairs {
		n := rotate.RoleName(p[0], p[1])
		if prev, ok := seen[n]; ok {
			t.Errorf("RoleName%q and RoleName%q are both %s", prev, p, n)
		}
		seen[n] = p
		if len(n) > 64 || !strings.HasPrefix(n, "pv-") || strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			t.Errorf("RoleName%q = %q: not a pv- name of at most 64 safe characters", p, n)
		}
	}
}

// TestPostgresMadeUpPassword: a URI on the mapped host whose password does
// not log in proves nothing: rotation_manual ("the leaked credential does
// not log in"), nothing under database/static-roles, the real password
// untouched.
func TestPostgresMadeUpPassword(t *testing.T) {
	pw := freshPasswords(2)
	real, madeUp := pw[0], pw[1]
	pg := pgStart(t, real)
	c := pgConnection(t, pg, fmt.Sprintf("postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", pg.Port))
	tg := pgTarget(t, c, fmt.Sprintf("postgres://app:%s@127.0.0.1:%d/shop", madeUp, pg.Port))
	rec := &recorder{}
	res, err := rotate.NewRunner(c, pgSettings("127.0.0.1"), rec).Run(context.Background(), tg)
	wantNothingChanged(t, pg, c, res, err, real, "the leaked credential does not log in")
	want(t, "events", []string{"rotation_started@1", "rotation_manual@1"}, rec.transitions())
	if _, _, md := versions(t, c, tg); md["state"] != "rotation_manual" {
		t.Errorf("metadata %v", md)
	}
	noLeak(t, []string{real, madeUp}, res, rec.events)
}

// TestPostgresOtherHost: the real leaked password in a URI naming another
// host than Vault's connection (which the mapping's host glob lets
// through): rotation_manual saying where Vault's connection is, nothing
// created, and no connection to the URI's host.
func TestPostgresOtherHost(t *testing.T) {
	for _, host := range []string{"127.0.0.2", "pg.example.test"} {
		t.Run(host, func(t *testing.T) {
			real := freshPasswords(1)[0]
			pg := pgStart(t, real)
			c := pgConnection(t, pg, fmt.Sprintf("postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", pg.Port))
			addr := net.JoinHostPort(host, strconv.Itoa(pg.Port))
			var watch *tcpWatch
			if net.ParseIP(host) != nil {
				watch = watchTCP(t, addr, "")
			}
			tg := pgTarget(t, c, "postgres://app:"+real+"@"+addr+"/shop")
			rec := &recorder{}
			res, err := rotate.NewRunner(c, pgSettings(""), rec).Run(context.Background(), tg)
			wantNothingChanged(t, pg, c, res, err, real,
				fmt.Sprintf("the leaked URI names %s, but Vault connection shop-db is at 127.0.0.1:%d", addr, pg.Port))
			if watch != nil && watch.n.Load() != 0 {
				t.Errorf("%d connections to the URI's host %s", watch.n.Load(), addr)
			}
			noLeak(t, []string{real}, res, rec.events)
		})
	}
}

// TestPostgresLogsInWhereVaultSays: the leaked URI names Vault's host in
// another case, or without a port, and asks for TLS the server does not
// offer; the proof, the new-password login and the dead check all go to
// Vault's host:port with Vault's TLS settings (sslmode=disable), and the
// rotation completes. The port-less case runs the server behind a relay on
// 127.0.0.3:5432 that counts the connections.
func TestPostgresLogsInWhereVaultSays(t *testing.T) {
	cases := []struct {
		name  string
		relay bool
		// vaultHost and uriHost are host[:port] with %d for the port.
		vaultHost, uriHost, server string
	}{
		{name: "host in another case", vaultHost: "localhost:%d", uriHost: "LOCALHOST:%d", server: "localhost:%d"},
		{name: "no port", relay: true, vaultHost: "127.0.0.3", uriHost: "127.0.0.3", server: "127.0.0.3:5432"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			real := freshPasswords(1)[0]
			pg := pgStart(t, real)
			var watch *tcpWatch
			if tc.relay {
				watch = watchTCP(t, "127.0.0.3:5432", net.JoinHostPort("127.0.0.1", strconv.Itoa(pg.Port)))
			}
			host := func(f string) string { return strings.ReplaceAll(f, "%d", strconv.Itoa(pg.Port)) }
			c := pgConnection(t, pg, "postgresql://{{username}}:{{password}}@"+host(tc.vaultHost)+"/postgres?sslmode=disable")
			tg := pgTarget(t, c, "postgres://app:"+real+"@"+host(tc.uriHost)+"/shop?sslmode=verify-full")
			rec := &recorder{}
			res, err := rotate.NewRunner(c, pgSettings(""), rec).Run(context.Background(), tg)
			if err != nil || res.State != rotate.StateRotated || !res.ExposedDead {
				t.Fatalf("want rotated and proven dead, got %+v, %v", res, err)
			}
			if err := pg.Login(context.Background(), "app", real); !errors.Is(err, pgtest.ErrAuth) {
				t.Errorf("the leaked password still logs in: %v", err)
			}
			if d := rec.events[1].Detail; d["db_server"] != host(tc.server) {
				t.Errorf("rotated detail %v: want db_server %s", d, host(tc.server))
			}
			// The proof, the new-password login and the dead check (Vault's
			// own connections come on top).
			if watch != nil && watch.n.Load() < 3 {
				t.Errorf("%d connections through %s, want at least 3", watch.n.Load(), tc.server)
			}
			noLeak(t, []string{real, staticPassword(t, c, appRole)}, res, rec.events)
		})
	}
}

// TestPostgresNoPlaintextFallback: Vault's connection names no sslmode,
// or prefer (Vault itself settles for plaintext either way), and the server
// has no TLS: pushvault requires TLS and fails, to retry, before creating
// anything.
func TestPostgresNoPlaintextFallback(t *testing.T) {
	for _, query := range []string{"", "?sslmode=prefer"} {
		t.Run("connection_url"+query, func(t *testing.T) {
			real := freshPasswords(1)[0]
			pg := pgStart(t, real)
			c := pgConnection(t, pg, fmt.Sprintf("postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres%s", pg.Port, query))
			tg := pgTarget(t, c, fmt.Sprintf("postgres://app:%s@127.0.0.1:%d/shop?sslmode=disable", real, pg.Port))
			res, err := rotate.NewRunner(c, pgSettings("127.0.0.1"), &recorder{}).Run(context.Background(), tg)
			var rerr *rotate.RotationError
			if !errors.As(err, &rerr) || res.State != rotate.StateFailed || !strings.Contains(res.Reason, "SSL is not enabled on the server") {
				t.Fatalf("want a failure because the server offers no TLS, got %+v, %v", res, err)
			}
			want(t, "static roles", []string(nil), staticRoles(t, c))
			if err := pg.Login(context.Background(), "app", real); err != nil {
				t.Errorf("the real password no longer logs in: %v", err)
			}
		})
	}
}

// TestPostgresRoleNamesPerAccount: acme's old naming put repository a/b-c's
// user d and repository a/b's user c-d under one role pv-a-b-c-d; each
// account now gets its own role, serving its own credentials.
func TestPostgresRoleNamesPerAccount(t *testing.T) {
	pw := freshPasswords(3)
	pg := pgStart(t, pw[0])
	pg.Exec(t, `CREATE ROLE d LOGIN PASSWORD '`+pw[1]+`'`)
	pg.Exec(t, `CREATE ROLE "c-d" LOGIN PASSWORD '`+pw[2]+`'`)
	c := pgConnection(t, pg, fmt.Sprintf("postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", pg.Port))
	r := rotate.NewRunner(c, pgSettings("127.0.0.1"), &recorder{})
	for i, leak := range []struct{ repo, user, password string }{{"a/b-c", "d", pw[1]}, {"a/b", "c-d", pw[2]}} {
		tg := vaultSecret(t, c, fmt.Sprint("url", i), "Postgres", rotate.Data{"value": fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/shop", leak.user, leak.password, pg.Port)})
		tg.Repository = leak.repo
		res, err := r.Run(context.Background(), tg)
		if err != nil || res.State != rotate.StateRotated {
			t.Fatalf("%s %s: %+v, %v", leak.repo, leak.user, res, err)
		}
		creds, err := c.Logical().Read(res.Refs["username"].Path)
		if err != nil || creds == nil || creds.Data["username"] != leak.user {
			t.Errorf("%s %s: the references point at %s, serving %v (%v)", leak.repo, leak.user, res.Refs["username"].Path, creds, err)
		}
	}
	if roles := staticRoles(t, c); len(roles) != 2 {
		t.Errorf("static roles %v, want one per account", roles)
	}
}

// TestPostgresLegacyRole: the account is under a role made under the old
// name for this repository, and the password that role handed out leaked.
// That role rotates again and is kept (the references already written
// point at it), not doubled by a second role fighting it over the password.
func TestPostgresLegacyRole(t *testing.T) {
	pg := pgStart(t, freshPasswords(1)[0])
	c := pgConnection(t, pg, fmt.Sprintf("postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable", pg.Port))
	if _, err := c.Logical().Write("database/static-roles/pv-acme-shop-app", map[string]any{
		"db_name": "shop-db", "username": "app", "rotation_period": "24h",
	}); err != nil {
		t.Fatal(err)
	}
	leaked := staticPassword(t, c, "pv-acme-shop-app")
	tg := pgTarget(t, c, fmt.Sprintf("postgres://app:%s@127.0.0.1:%d/shop", leaked, pg.Port))
	res, err := rotate.NewRunner(c, pgSettings("127.0.0.1"), &recorder{}).Run(context.Background(), tg)
	if err != nil || res.State != rotate.StateRotated || res.Refs["password"].Path != "database/static-creds/pv-acme-shop-app" {
		t.Fatalf("want rotated under the legacy role, got %+v, %v", res, err)
	}
	want(t, "static roles", []string{"pv-acme-shop-app"}, staticRoles(t, c))
	if err := pg.Login(context.Background(), "app", leaked); !errors.Is(err, pgtest.ErrAuth) {
		t.Errorf("the leaked password still logs in: %v", err)
	}
}

// TestPostgresResumeAfterTakeover: the account is already under the
// static role, so the leaked password is refused. When this rotation's
// earlier attempt failed after the takeover, the retry checks the password
// Vault holds and completes without rotating again; when no attempt of
// this secret did it, the refused password proves nothing and the role is
// left alone.
func TestPostgresResumeAfterTakeover(t *testing.T) {
	for _, resumed := range []bool{true, false} {
		t.Run(fmt.Sprint("resumed=", resumed), func(t *testing.T) {
			pg, c, s, tg := pgSetup(t)
			ctx := context.Background()
			if _, err := c.Logical().Write("database/static-roles/"+appRole, map[string]any{
				"db_name": "shop-db", "username": "app", "rotation_period": "24h",
			}); err != nil {
				t.Fatal(err)
			}
			vaultPass := staticPassword(t, c, appRole)
			if resumed {
				if err := c.KVv2("secret").PatchMetadata(ctx, tg.Path, api.KVMetadataPatchInput{CustomMetadata: map[string]any{
					"state": "rotation_failed", "rotator": rotate.NamePostgres, "rotation_attempts": "1",
				}}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := rotate.NewRunner(c, s, &recorder{}).Run(ctx, tg)
			switch {
			case resumed && (err != nil || res.State != rotate.StateRotated || !res.ExposedDead || res.Attempt != 2):
				t.Errorf("the retry should complete: %+v, %v", res, err)
			case !resumed && (err != nil || res.State != rotate.StateManual || !strings.Contains(res.Reason, "the leaked credential does not log in")):
				t.Errorf("want rotation_manual, got %+v, %v", res, err)
			}
			if got := staticPassword(t, c, appRole); got != vaultPass {
				t.Error("the static role was rotated again")
			}
			if err := pg.Login(ctx, "app", vaultPass); err != nil {
				t.Errorf("the password Vault holds does not log in: %v", err)
			}
		})
	}
}

// tarpit relays connections on addr to forward until Stall; from then on it
// accepts each connection and never answers: a database host that hangs.
type tarpit struct{ stalled atomic.Bool }

func (tp *tarpit) Stall() { tp.stalled.Store(true) }

func startTarpit(t *testing.T, addr, forward string) *tarpit {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	tp := &tarpit{}
	serveTCP(t, addr, func(conn net.Conn) {
		if !tp.stalled.Load() {
			go relay(conn, forward)
			return
		}
		go func() { <-done; conn.Close() }()
	})
	return tp
}

// TestPostgresHostNeverAnswers: the server Vault's connection names
// accepts connections and never answers. The rotation fails within the
// database timeout (rotation.database_timeout) with an error that says so
// and holds no password, nothing is created, and a retry is left to the
// worker (rotation_failed).
func TestPostgresHostNeverAnswers(t *testing.T) {
	real := freshPasswords(1)[0]
	pg := pgStart(t, real)
	addr := "127.0.0.5:" + strconv.Itoa(pg.Port)
	tp := startTarpit(t, addr, net.JoinHostPort("127.0.0.1", strconv.Itoa(pg.Port)))
	c := pgConnection(t, pg, "postgresql://{{username}}:{{password}}@"+addr+"/postgres?sslmode=disable")
	tp.Stall()
	tg := pgTarget(t, c, "postgres://app:"+real+"@"+addr+"/shop")
	s := pgSettings("")
	s.DatabaseTimeout = 2 * time.Second
	rec := &recorder{}
	start := time.Now()
	res, err := rotate.NewRunner(c, s, rec).Run(context.Background(), tg)
	took := time.Since(start)
	var rerr *rotate.RotationError
	if !errors.As(err, &rerr) || res.State != rotate.StateFailed {
		t.Fatalf("want rotation_failed, got %+v, %v", res, err)
	}
	if took > 4*time.Second {
		t.Errorf("the rotation took %v, want about rotation.database_timeout (2s)", took)
	}
	if want := "asking PostgreSQL at " + addr + " (Vault connection shop-db) whether the leaked password logs in as app: no answer within rotation.database_timeout (2s)"; !strings.Contains(err.Error(), want) || !errors.Is(err, rotate.ErrDatabaseTimeout) {
		t.Errorf("error %q does not say %q", err, want)
	}
	want(t, "static roles", []string(nil), staticRoles(t, c))
	want(t, "events", []string{"rotation_started@1", "rotation_failed@1"}, rec.transitions())
	noLeak(t, []string{real}, res, rec.events, err)
}
