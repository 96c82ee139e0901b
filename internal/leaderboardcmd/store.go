package leaderboardcmd

import (
	"context"

	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
)

// OpenStore opens the leaderboard database s names (PostgreSQL, or an
// SQLite file, by default in c's data directory); cl closes it. An error
// names --database, and for a PostgreSQL database that does not exist
// says how to create it.
func OpenStore(ctx context.Context, c *cli.Common, s *StoreFlags, cl *cli.Closer) (leaderboard.Store, error) {
	if s.IsPostgres() {
		st, err := postgres.Open(ctx, s.Database)
		if err != nil {
			return nil, cli.SettingError("database", "%v%s", err, missingDatabaseHint(s.Database, err))
		}
		cl.Add(st.Close)
		return st, nil
	}
	path := s.Database
	if path == "" {
		path = c.Path("leaderboard.db")
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, cli.SettingError("database", "%v", err)
	}
	cl.Add(st.Close)
	return st, nil
}
