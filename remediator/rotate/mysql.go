package rotate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"net"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/vault/api"
)

var mysqlEngine = engine{name: "MySQL", schemes: []string{"mysql", "mariadb"}, defaultPort: "3306",
	plugin: "mysql", server: mysqlServer,
	refused: func(err error) bool {
		// 1045 is the password check failing. 1130 (host not allowed) and
		// 1044 (no access to the database, after a good password) are not.
		var me *mysql.MySQLError
		return errors.As(err, &me) && me.Number == 1045 // ER_ACCESS_DENIED_ERROR
	}}

// NewMySQL returns the rotator for MySQL and MariaDB URIs (mysql://,
// mariadb://, jdbc:mysql://) on the declared databases; the mapped Vault
// connection uses mysql-database-plugin (or its aurora, rds and legacy
// variants), whose default rotation statement changes the password of
// 'user'@'%'.
func NewMySQL(c *api.Client, dbs []Database) *StaticRole {
	return &StaticRole{c: c, dbs: dbs, e: mysqlEngine, timeout: DefaultDatabaseTimeout}
}

// mysqlServer reads a mysql-database-plugin connection: the address,
// database and TLS parameters of its connection_url
// ({{username}}:{{password}}@tcp(host:port)/db?tls=...) and its tls_ca and
// tls_certificate_key, which Vault uses for TLS as well. TLS never falls
// back to plaintext (tls=preferred requires it).
func mysqlServer(details map[string]any, timeout time.Duration) (dbServer, error) {
	raw, _ := details["connection_url"].(string)
	// ParseDSN's errors are not passed on: they may quote the DSN.
	cfg, err := mysql.ParseDSN(raw)
	if err != nil || (cfg.Net != "tcp" && cfg.Net != "tcp4" && cfg.Net != "tcp6") {
		return dbServer{}, errors.New("connection_url is not a user:password@tcp(host:port)/database DSN, which pushvault needs to know where to log in")
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return dbServer{}, errors.New("connection_url names no host:port")
	}
	if cfg.TLS, err = mysqlTLS(details, host, cfg.TLS); err != nil {
		return dbServer{}, err
	}
	cfg.AllowFallbackToPlaintext = false
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = timeout, timeout, timeout
	login := func(ctx context.Context, user, password, database string) error {
		c := cfg.Clone()
		c.User, c.Passwd = user, password
		if database != "" {
			c.DBName = database
		}
		conn, err := mysql.NewConnector(c)
		if err != nil {
			return errors.New("invalid connection settings")
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		var one int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	return dbServer{host: host, port: port, login: login}, nil
}

// mysqlTLS returns the TLS configuration for a connection with a tls_ca
// (the server is verified against it) or a tls_certificate_key (the
// client certificate and key, PEM), as Vault's plugin builds it; else
// the DSN's own (nil: no TLS).
func mysqlTLS(details map[string]any, host string, dsn *tls.Config) (*tls.Config, error) {
	ca, _ := details["tls_ca"].(string)
	certKey, _ := details["tls_certificate_key"].(string)
	if ca == "" && certKey == "" {
		return dsn, nil
	}
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if ca != "" {
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM([]byte(ca)) {
			return nil, errors.New("tls_ca holds no PEM certificate")
		}
	}
	if certKey != "" {
		cert, err := tls.X509KeyPair([]byte(certKey), []byte(certKey))
		if err != nil {
			return nil, errors.New("tls_certificate_key is not a PEM certificate and key")
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
