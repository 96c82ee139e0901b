// Package leaderboardcmd is the leaderboard command behind `skirmish
// leaderboard`, `skirmish dev` and `skirmish-bench lbbench`: its settings
// as flags (and SKIRMISH_* environment variables), the leaderboard
// database they name (StoreFlags, OpenStore), and the part they assemble:
// the REST API over a rank-indexed store, with the season scheduler.
//
// The stats worker and the matchmaker open the same database with
// StoreFlags and OpenStore.
package leaderboardcmd

import (
	"flag"
	"strings"

	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
)

// Flags are the settings of the leaderboard REST API.
type Flags struct {
	AdminKey string
	// RateLimit is in requests per second per client IP; negative: no
	// limit.
	RateLimit   float64
	RateBurst   int
	RankIndex   string // memory or redis
	RedisAddr   string
	RedisPrefix string
	BoardsFile  string
	CORSOrigin  string
}

// Register registers the leaderboard's settings on fs.
func (l *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&l.AdminKey, "admin-key", "", "bearer key for the leaderboard admin API (/v1/admin/...); empty: only admin service tokens")
	fs.Float64Var(&l.RateLimit, "rate-limit", httpapi.DefaultRatePerSecond, "requests per second each client (IP) may make to the leaderboard, sized for many players behind one address (a LAN party, a school, carrier NAT); past it clients get 429 with Retry-After; negative: no limit")
	fs.IntVar(&l.RateBurst, "rate-burst", httpapi.DefaultRateBurst, "burst of requests each client (IP) may make above --rate-limit: players behind one address who can sign in at once")
	fs.StringVar(&l.RankIndex, "rank-index", "memory", "rank index: memory (one process) or redis (sorted sets shared by several leaderboard replicas)")
	fs.StringVar(&l.RedisAddr, "redis-addr", "127.0.0.1:6379", "Redis address for --rank-index redis")
	fs.StringVar(&l.RedisPrefix, "redis-prefix", "skirmish:lb:", "prefix of the rank index keys in Redis; one per deployment")
	fs.StringVar(&l.CORSOrigin, "cors-origin", "*", "Access-Control-Allow-Origin of the leaderboard API: * or the browser game's origin")
	fs.StringVar(&l.BoardsFile, "boards-file", "", "YAML file of boards to create or update, and modes to map to rating pools, at start (see leaderboard/boardfile)")
}

// StoreFlags choose the leaderboard's database.
type StoreFlags struct {
	// Database is a postgres:// (or postgresql://) URL, or an SQLite
	// file; empty: <data-dir>/leaderboard.db.
	Database string
}

// Register registers --database on fs.
func (s *StoreFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&s.Database, "database", "", "leaderboard database: a postgres:// URL, or an SQLite file (default <data-dir>/leaderboard.db)")
}

// IsPostgres reports whether Database names a PostgreSQL database.
func (s *StoreFlags) IsPostgres() bool {
	return strings.HasPrefix(s.Database, "postgres://") || strings.HasPrefix(s.Database, "postgresql://")
}

// Name is the kind of database, for people: PostgreSQL or SQLite.
func (s *StoreFlags) Name() string {
	if s.IsPostgres() {
		return "PostgreSQL"
	}
	return "SQLite"
}
