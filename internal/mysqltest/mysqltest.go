package mysqltest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/pushvault/pushvault/internal/child"
)

// AdminUser is an account with every privilege, for Vault's connection.
const AdminUser = "pvadmin"

// Server is a running MariaDB server.
type Server struct {
	Host          string // 127.0.0.1
	Port          int
	AdminPassword string

	dir, data, sock, log string
	runAs                string
	mu                   sync.Mutex
	cmd                  *exec.Cmd
	done                 chan struct{}
}

// Start initialises and starts a server and registers its shutdown with
// t.Cleanup. Under -short it skips the test instead.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("mysqltest: -short skips tests that run a real MariaDB server (make test runs them)")
	}
	s, err := start()
	if err != nil {
		t.Fatalf("mysqltest: %v", err)
	}
	t.Cleanup(func() {
		s.Stop()
		os.RemoveAll(s.dir)
	})
	return s
}

func find(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, d := range []string{"/usr/sbin", "/usr/bin"} {
			if _, err := os.Stat(filepath.Join(d, n)); err == nil {
				return filepath.Join(d, n), nil
			}
		}
	}
	return "", fmt.Errorf("no %s: run scripts/install-deps.sh as root, or apt-get install mariadb-server", names[0])
}

func start() (*Server, error) {
	installDB, err := find("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return nil, err
	}
	if _, err := find("mariadbd", "mysqld"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mysqltest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", AdminPassword: "mysqltest-admin-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		dir: dir, data: filepath.Join(dir, "data"), sock: filepath.Join(dir, "mysqld.sock"), log: filepath.Join(dir, "mysqld.log")}
	if os.Geteuid() == 0 {
		s.runAs = "mysql"
		if _, err := user.Lookup(s.runAs); err != nil {
			return nil, fmt.Errorf("running as root needs the %s system user (installed with mariadb-server): %w", s.runAs, err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		if out, err := exec.Command("chown", "-R", s.runAs+":", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown %s: %v: %s", dir, err, out)
		}
	}
	args := []string{"--no-defaults", "--datadir=" + s.data, "--auth-root-authentication-method=socket", "--skip-test-db"}
	if s.runAs != "" {
		args = append(args, "--user="+s.runAs)
	}
	var out bytes.Buffer
	cmd := exec.Command(installDB, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadb-install-db: %v\n%s", err, out.String())
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if s.Port, lastErr = freePort(); lastErr != nil {
			continue
		}
		if lastErr = s.Restart(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		os.RemoveAll(dir)
		return nil, lastErr
	}
	// root logs in through the socket as the system user running us; as
	// root that is root@localhost.
	db, err := sql.Open("mysql", "root@unix("+s.sock+")/")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	for _, stmt := range []string{
		"CREATE USER '" + AdminUser + "'@'%' IDENTIFIED BY '" + s.AdminPassword + "'",
		"GRANT ALL PRIVILEGES ON *.* TO '" + AdminUser + "'@'%' WITH GRANT OPTION",
	} {
		if _, err := db.Exec(stmt); err != nil {
			s.Stop()
			return nil, fmt.Errorf("setting up %s: %w", AdminUser, err)
		}
	}
	return s, nil
}

// Restart starts the server (again, after Stop) on the same port.
func (s *Server) Restart() error {
	bin, err := find("mariadbd", "mysqld")
	if err != nil {
		return err
	}
	args := []string{"--no-defaults", "--datadir=" + s.data, "--socket=" + s.sock, "--port=" + strconv.Itoa(s.Port),
		"--bind-address=127.0.0.1", "--skip-name-resolve", "--log-error=" + s.log, "--pid-file=" + filepath.Join(s.dir, "mysqld.pid"),
		"--innodb-buffer-pool-size=16M", "--skip-log-bin"}
	if s.runAs != "" {
		args = append(args, "--user="+s.runAs)
	}
	cmd := exec.Command(bin, args...)
	waited, err := child.Start(cmd)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { <-waited; close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			logText, _ := os.ReadFile(s.log)
			return fmt.Errorf("mariadbd exited early:\n%s", logText)
		case <-time.After(100 * time.Millisecond):
		}
		// Ready when its own socket answers: a port answering may be
		// another process's that took the free port first (then this
		// mariadbd cannot bind it, exits, and Start tries another).
		if c, err := net.DialTimeout("unix", s.sock, time.Second); err == nil {
			c.Close()
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), time.Second); err == nil {
				c.Close()
				return nil
			}
		}
	}
	s.Stop()
	logText, _ := os.ReadFile(s.log)
	return fmt.Errorf("mariadbd not ready after 60s:\n%s", logText)
}

// Stop kills the server at once. Safe to call when it is stopped.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Exec runs a statement as the admin user.
func (s *Server) Exec(t testing.TB, stmt string) {
	t.Helper()
	db, err := sql.Open("mysql", s.DSN(AdminUser, s.AdminPassword, ""))
	if err != nil {
		t.Fatalf("mysqltest: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatalf("mysqltest: %s: %v", stmt, err)
	}
}

// DSN is a go-sql-driver DSN for user on database over TCP.
func (s *Server) DSN(user, password, database string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), database
	return cfg.FormatDSN()
}

// ErrAuth is a refused login (error 1045, access denied).
var ErrAuth = errors.New("login refused")

// Login connects as user with password and runs a query: nil when the
// login works, an error wrapping ErrAuth when it was refused.
func (s *Server) Login(ctx context.Context, user, password string) error {
	db, err := sql.Open("mysql", s.DSN(user, password, ""))
	if err != nil {
		return err
	}
	defer db.Close()
	var one int
	err = db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1045 {
		return fmt.Errorf("%w (%d)", ErrAuth, me.Number)
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
