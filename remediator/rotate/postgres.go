package rotate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/lib/pq"
)

// pgDefaultPort is where PostgreSQL listens when a URI names no port.
const pgDefaultPort = "5432"

var postgresEngine = engine{name: "PostgreSQL", schemes: []string{"postgres", "postgresql"}, defaultPort: pgDefaultPort,
	plugin: "postgresql", server: pgServer,
	refused: func(err error) bool {
		// 28P01 is a wrong password (or an unknown role: PostgreSQL does not
		// tell them apart). 28000 is not: it is also pg_hba refusing the
		// client before any password was checked.
		var pe *pq.Error
		return errors.As(err, &pe) && pe.Code == "28P01"
	}}

// NewPostgres returns the rotator for PostgreSQL URIs on the declared
// databases.
func NewPostgres(c *api.Client, dbs []Database) *StaticRole {
	return &StaticRole{c: c, dbs: dbs, e: postgresEngine, timeout: DefaultDatabaseTimeout}
}

// pgServer reads a postgresql-database-plugin connection: the host, port,
// database and TLS parameters of its connection_url
// (postgresql://{{username}}:{{password}}@host:port/db?sslmode=...) and its
// tls_ca. TLS is as strict as configured there and never falls back to
// plaintext: no sslmode means require (verify-full with a tls_ca), and
// prefer and allow, which would fall back, mean require too. Vault does not
// return the private key of a tls_certificate, so no client certificate is
// presented.
func pgServer(details map[string]any, timeout time.Duration) (dbServer, error) {
	raw, _ := details["connection_url"].(string)
	// Go's URL parser refuses braces in the user part; each login sets it.
	raw = strings.NewReplacer("{{username}}", "user", "{{password}}", "password").Replace(raw)
	// The URL's text is not quoted in errors: it may hold a password.
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Hostname() == "" {
		return dbServer{}, errors.New("connection_url is not a postgresql://host:port/database URL, which pushvault needs to know where to log in")
	}
	port := u.Port()
	if port == "" {
		port = pgDefaultPort
	}
	q := u.Query()
	ca, _ := details["tls_ca"].(string)
	switch q.Get("sslmode") {
	case "":
		q.Set("sslmode", "require")
		if ca != "" {
			q.Set("sslmode", "verify-full")
		}
	case "prefer", "allow":
		q.Set("sslmode", "require")
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", strconv.Itoa(int(max(timeout.Seconds(), 1))))
	}
	login := func(ctx context.Context, user, password, database string) error {
		c := *u
		c.User = url.UserPassword(user, password)
		if database != "" {
			c.Path = "/" + database
		}
		cq := maps.Clone(q)
		if ca != "" {
			file, err := caFile(ca)
			if err != nil {
				return err
			}
			defer os.Remove(file)
			cq.Set("sslrootcert", file)
		}
		c.RawQuery = cq.Encode()
		return pgQuery(ctx, c.String())
	}
	return dbServer{host: u.Hostname(), port: port, login: login}, nil
}

// caFile writes the connection's CA certificates to a temporary file for
// lib/pq, which reads sslrootcert from a file (its inline form also wants a
// client certificate). The caller removes it.
func caFile(pem string) (string, error) {
	f, err := os.CreateTemp("", "pushvault-db-ca-*.pem")
	if err != nil {
		return "", fmt.Errorf("writing the connection's tls_ca: %w", err)
	}
	_, err = f.WriteString(pem)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the connection's tls_ca: %w", err)
	}
	return f.Name(), nil
}

func pgQuery(ctx context.Context, dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return errors.New("invalid connection URI")
	}
	defer db.Close()
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
