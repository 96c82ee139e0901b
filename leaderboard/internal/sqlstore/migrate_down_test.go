package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/skirmishgg/skirmish/internal/testenv"
)

// TestMigrationDown: migration 00080 undone puts the players' Arena
// figures, the most played pool's rating and the boards' metric and
// operator back.
func TestMigrationDown(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "lb.db")+"?_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testDown(t, db, SQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := sql.Open("pgx", testenv.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testDown(t, db, Postgres)
	})
}

func testDown(t *testing.T, db *sql.DB, d Dialect) {
	ctx := context.Background()
	if err := Migrate(ctx, db, d); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO players (id, name, created_at, matches, wins) VALUES ('ada', 'ada', 1, 3, 2)`,
		`INSERT INTO player_ratings (pool, player_id, rating, sigma, matches, updated_at) VALUES
			('duel', 'ada', 1600, 400, 1, 10), ('ffa', 'ada', 1550, 420, 2, 20)`,
		`INSERT INTO player_stats (player_id, stat, value) VALUES ('ada', 'eliminations', 12), ('ada', 'laps', 3)`,
		`INSERT INTO matches (id, room_id, mode, region, gameserver_id, started_at, ended_at, end_reason, rating_pool, recorded_at)
			VALUES ('m1', 'r', 'ffa', 'eu', 'gs', 1, 20, 'score_limit', 'ffa', 21)`,
		`INSERT INTO match_players (match_id, player_id, name, team, placement, stats, left_early, standing, rating_before, rating_after, ended_at)
			VALUES ('m1', 'ada', 'ada', 1, 1, '{"eliminations":7}', false, 'won', 1500, 1550, 20)`,
		`INSERT INTO boards (id, title, sort_order, stat, aggregate, modes, pool, reset_schedule, season, season_started)
			VALUES ('fast', 'Fast', 'asc', 'matches', 'min', '', '', '', 1, 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.Dialect(d), db, fsys, goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 70); err != nil {
		t.Fatalf("down to 00070: %v", err)
	}
	var rating, sigma float64
	var elims, matchElims int64
	if err := db.QueryRowContext(ctx, `SELECT rating, rating_sigma, eliminations FROM players WHERE id = 'ada'`).Scan(&rating, &sigma, &elims); err != nil {
		t.Fatal(err)
	}
	if rating != 1550 || sigma != 420 || elims != 12 {
		t.Errorf("players row = rating %v, sigma %v, eliminations %d; want the ffa pool's 1550, 420 and 12", rating, sigma, elims)
	}
	// The per-match figures are not restored (the migration says why).
	if err := db.QueryRowContext(ctx, `SELECT eliminations FROM match_players WHERE match_id = 'm1'`).Scan(&matchElims); err != nil {
		t.Errorf("match_players after down: %v", err)
	}
	var metric, operator string
	if err := db.QueryRowContext(ctx, `SELECT metric, operator FROM boards WHERE id = 'fast'`).Scan(&metric, &operator); err != nil ||
		metric != "matches" || operator != "best" {
		t.Errorf("boards row = %q %q, %v; want matches, best", metric, operator, err)
	}
	// And up again.
	if err := Migrate(ctx, db, d); err != nil {
		t.Fatalf("up again: %v", err)
	}
}
