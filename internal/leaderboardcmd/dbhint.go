package leaderboardcmd

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// missingDatabaseHint says how to create the database a postgres:// URL
// names when the server answered that it does not exist (SQLSTATE 3D000),
// and is empty otherwise.
func missingDatabaseHint(dsn string, err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		return ""
	}
	u, perr := url.Parse(dsn)
	if perr != nil {
		return ""
	}
	name := strings.TrimPrefix(u.Path, "/")
	args := []string{}
	if h := u.Hostname(); h != "" {
		args = append(args, "-h", h)
	}
	if p := u.Port(); p != "" && p != "5432" {
		args = append(args, "-p", p)
	}
	if u.User != nil && u.User.Username() != "" {
		args = append(args, "-U", u.User.Username())
	}
	return fmt.Sprintf("; create it once with: createdb %s %s", strings.Join(args, " "), name)
}
