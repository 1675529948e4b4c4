package rotate

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/vault/api"
)

var mysqlEngine = engine{name: "MySQL", schemes: []string{"mysql", "mariadb"}, defaultPort: "3306", login: mysqlLogin,
	refused: func(err error) bool {
		var me *mysql.MySQLError
		return errors.As(err, &me) && me.Number == 1045 // ER_ACCESS_DENIED_ERROR
	}}

// NewMySQL returns the rotator for MySQL and MariaDB URIs (mysql://,
// mariadb://, jdbc:mysql://) on the declared databases; the mapped Vault
// connection uses mysql-database-plugin, whose default rotation statement
// changes the password of 'user'@'%'.
func NewMySQL(c *api.Client, dbs []Database) *StaticRole {
	return &StaticRole{c: c, dbs: dbs, e: mysqlEngine}
}

// mysqlLogin logs in to the URI's server as its user with password and
// runs a query.
func mysqlLogin(ctx context.Context, u *url.URL, password string) error {
	cfg := mysql.NewConfig()
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = u.User.Username(), password, "tcp", net.JoinHostPort(u.Hostname(), port)
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return errors.New("invalid connection settings")
	}
	defer db.Close()
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
