package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
)

// SuperUser is the cluster's superuser role.
const SuperUser = "postgres"

// Cluster is a running PostgreSQL cluster.
type Cluster struct {
	Host string // 127.0.0.1
	Port int
	// Password is SuperUser's password.
	Password string

	dir, data, log string
	bin            string
	runAs          string // system user running the cluster; "" for the current user
}

// Binaries returns the directory holding initdb and pg_ctl: pg_config
// --bindir when that has them, else the newest /usr/lib/postgresql/*/bin.
func Binaries() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl): run scripts/install-deps.sh as root, or apt-get install postgresql")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Option configures Start.
type Option func(*Cluster)

// ListenOn makes the cluster listen on ip as well as on 127.0.0.1 and
// accept password logins from it, and sets Host to ip: for tests whose
// connection URIs must not be loopback (secret detectors ignore those).
func ListenOn(ip string) Option { return func(c *Cluster) { c.Host = ip } }

// NonLoopbackIPv4 returns an IPv4 address of this machine that is not a
// loopback address, or an error saying there is none.
func NonLoopbackIPv4() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String(), nil
		}
	}
	return "", errors.New("this machine has no non-loopback IPv4 address")
}

// Start initialises and starts a cluster and registers its shutdown with
// t.Cleanup. Under -short it skips the test instead.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("pgtest: -short skips tests that run a real PostgreSQL server (make test runs them)")
	}
	c, err := start(opts...)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		c.Stop()
		os.RemoveAll(c.dir)
	})
	return c
}

func start(opts ...Option) (*Cluster, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Host: "127.0.0.1", Password: "pgtest-super-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		dir: dir, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "postgres.log"), bin: bin}
	for _, o := range opts {
		o(c)
	}
	if os.Geteuid() == 0 {
		c.runAs = "postgres"
		if _, err := user.Lookup(c.runAs); err != nil {
			return nil, fmt.Errorf("running as root needs the %s system user (installed with the postgresql package): %w", c.runAs, err)
		}
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.log, nil, 0o600); err != nil {
		return nil, err
	}
	if c.runAs != "" {
		// The cluster's user must reach its files; nothing else is in dir.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		if out, err := exec.Command("chown", "-R", c.runAs+":", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
	}
	if err := c.run("initdb", "-D", c.data, "-U", SuperUser, "--pwfile="+pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, err
	}
	os.Remove(pwfile)
	if c.Host != "127.0.0.1" {
		hba, err := os.OpenFile(filepath.Join(c.data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		_, err = fmt.Fprintf(hba, "host all all %s/32 scram-sha-256\n", c.Host)
		hba.Close()
		if err != nil {
			return nil, err
		}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if c.Port, lastErr = freePort(); lastErr != nil {
			continue
		}
		if lastErr = c.Restart(); lastErr == nil {
			return c, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// run runs one of the PostgreSQL programs as the cluster's user.
func (c *Cluster) run(prog string, args ...string) error {
	name, full := filepath.Join(c.bin, prog), args
	if c.runAs != "" {
		name, full = "runuser", append([]string{"-u", c.runAs, "--", filepath.Join(c.bin, prog)}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, full...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		logTail, _ := os.ReadFile(c.log)
		return fmt.Errorf("%s %s: %v\n%s\nserver log:\n%s", prog, strings.Join(args, " "), err, out.String(), logTail)
	}
	return nil
}

// Restart starts the cluster (again, after Stop) on the same port.
func (c *Cluster) Restart() error {
	listen := "127.0.0.1"
	if c.Host != "127.0.0.1" {
		listen += "," + c.Host
	}
	opts := fmt.Sprintf("-c listen_addresses=%s -p %d -k %s -c fsync=off", listen, c.Port, c.dir)
	return c.run("pg_ctl", "start", "-w", "-t", "60", "-D", c.data, "-l", c.log, "-o", opts)
}

// Stop stops the cluster at once (pg_ctl stop -m immediate). Safe to call
// when it is already stopped.
func (c *Cluster) Stop() {
	_ = c.run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", c.data)
}

// URL is a connection URI for user with password on database (sslmode off).
func (c *Cluster) URL(user, password, database string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Path: "/" + database, RawQuery: "sslmode=disable"}
	return u.String()
}

// Exec runs statements as the superuser.
func (c *Cluster) Exec(t testing.TB, stmt string) {
	t.Helper()
	db, err := sql.Open("postgres", c.URL(SuperUser, c.Password, "postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatalf("pgtest: %s: %v", stmt, err)
	}
}

// Login connects as user with password and runs a query. It returns nil
// when the login works, an error wrapping ErrAuth when the server refused
// the password, and another error when the server couldn't be asked.
func (c *Cluster) Login(ctx context.Context, user, password string) error {
	return Login(ctx, c.URL(user, password, "postgres"))
}

// ErrAuth is a refused login (SQLSTATE 28P01 or 28000).
var ErrAuth = errors.New("login refused")

// Login connects to a postgres:// URI and runs a query; see Cluster.Login.
func Login(ctx context.Context, uri string) error {
	db, err := sql.Open("postgres", uri)
	if err != nil {
		return err
	}
	defer db.Close()
	var one int
	err = db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	var pe *pq.Error
	if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000") {
		return fmt.Errorf("%w (%s)", ErrAuth, pe.Code)
	}
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
