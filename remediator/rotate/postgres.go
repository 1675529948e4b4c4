package rotate

import (
	"context"
	"database/sql"
	"errors"
	"net/url"

	"github.com/hashicorp/vault/api"
	"github.com/lib/pq"
)

var postgresEngine = engine{name: "PostgreSQL", schemes: []string{"postgres", "postgresql"}, defaultPort: "5432", login: pgLogin,
	refused: func(err error) bool {
		var pe *pq.Error
		return errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000")
	}}

// NewPostgres returns the rotator for PostgreSQL URIs on the declared
// databases.
func NewPostgres(c *api.Client, dbs []Database) *StaticRole {
	return &StaticRole{c: c, dbs: dbs, e: postgresEngine}
}

// pgLogin logs in to the URI's database with password and runs a query.
// A server without TLS is retried without it when the URI didn't ask for
// TLS explicitly.
func pgLogin(ctx context.Context, u *url.URL, password string) error {
	c := *u
	c.User = url.UserPassword(u.User.Username(), password)
	err := pgQuery(ctx, c.String())
	if errors.Is(err, pq.ErrSSLNotSupported) && c.Query().Get("sslmode") == "" {
		q := c.Query()
		q.Set("sslmode", "disable")
		c.RawQuery = q.Encode()
		err = pgQuery(ctx, c.String())
	}
	return err
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
