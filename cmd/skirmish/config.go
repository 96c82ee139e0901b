package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/limits"
)

// parseFlags fills fs from args and from SKIRMISH_* environment variables.
func parseFlags(fs *flag.FlagSet, args []string) error {
	return ff.Parse(fs, args, ff.WithEnvVarPrefix("SKIRMISH"))
}

// settingError names the setting (flag and environment variable) that has
// a bad value.
func settingError(flagName, format string, a ...any) error {
	return fmt.Errorf("--%s (%s): %s", flagName, envName(flagName), fmt.Sprintf(format, a...))
}

func oneOf(flagName, value string, accepted ...string) error {
	if slices.Contains(accepted, value) {
		return nil
	}
	return settingError(flagName, "%q is not one of %s", value, strings.Join(accepted, ", "))
}

// common are the settings every long-running command takes.
type common struct {
	dataDir string
	authKey string
	// kindKeys are the per-kind keys (--session-key, --join-public-key,
	// ...): see keys.
	kindKeys  map[auth.Kind]*kindKey
	logLevel  string
	logFormat string
	pprofAddr string
	// trustedProxies lists the reverse proxies whose X-Forwarded-For
	// names the client, for per-client limits (internal.go).
	trustedProxies string
}

func (c *common) register(fs *flag.FlagSet) {
	c.registerDataDir(fs)
	fs.StringVar(&c.authKey, "auth-key", "", "master key (base64, 32 bytes) from which each kind of token's key is derived; a part holding it could mint any token, so in production give each part only its --<kind>-key / --<kind>-public-key instead (skirmish keys); empty, and no per-kind key set: read or create <data-dir>/auth.key")
	c.registerKindKeys(fs)
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "", "extra admin listen address for net/http/pprof only (/debug/pprof/, also on the internal listener); empty: off")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated addresses and CIDR prefixes of reverse proxies whose X-Forwarded-For names the client (for per-client limits); empty: none")
}

// registerDataDir registers only --data-dir, for the one-shot commands
// (queues, dlq) that need no key, logger or admin listener.
func (c *common) registerDataDir(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "data-dir", "skirmish-data", "directory for SQLite files, the outbox and the dev auth key")
}

func (c *common) validate() error {
	if err := oneOf("log-level", c.logLevel, "debug", "info", "warn", "error"); err != nil {
		return err
	}
	if _, err := c.proxies(); err != nil {
		return err
	}
	return oneOf("log-format", c.logFormat, "text", "json")
}

func (c *common) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.logLevel))
	opts := &slog.HandlerOptions{Level: level}
	// Every string value is clipped (limits.LogHandler): a client's value
	// that reaches a log line cannot make it large.
	if c.logFormat == "json" {
		return slog.New(limits.LogHandler(slog.NewJSONHandler(w, opts), 0))
	}
	return slog.New(limits.LogHandler(slog.NewTextHandler(w, opts), 0))
}

func (c *common) path(name string) string { return filepath.Join(c.dataDir, name) }

func (c *common) ensureDataDir() error {
	if err := os.MkdirAll(c.dataDir, 0o755); err != nil {
		return settingError("data-dir", "%v", err)
	}
	return nil
}

// queueFlags choose the queue that carries match outcomes.
type queueFlags struct {
	backend     string
	path        string
	sqsEndpoint string
	sqsQueue    string
	sqsRegion   string
	sqsCreate   bool
	visibility  time.Duration
	maxReceives int
}

func (q *queueFlags) register(fs *flag.FlagSet) {
	q.registerExisting(fs)
	fs.BoolVar(&q.sqsCreate, "sqs-create", true, "create the queue and its dead-letter queue when missing")
}

// registerExisting registers every queue setting but --sqs-create, for
// the commands that always create the queue (queues setup) or only read it.
func (q *queueFlags) registerExisting(fs *flag.FlagSet) {
	fs.StringVar(&q.backend, "queue", "sqlite", "queue backend for match outcomes: sqlite (embedded) or sqs")
	fs.StringVar(&q.path, "queue-path", "", "SQLite queue file (default <data-dir>/queue.db)")
	fs.StringVar(&q.sqsEndpoint, "sqs-endpoint", "", "SQS endpoint URL, e.g. http://localhost:4566 for LocalStack; empty uses AWS")
	fs.StringVar(&q.sqsQueue, "sqs-queue", "match-outcomes", "SQS queue name (a .fifo name makes a FIFO queue)")
	fs.StringVar(&q.sqsRegion, "sqs-region", "us-east-1", "AWS region of the SQS queue")
	fs.DurationVar(&q.visibility, "queue-visibility-timeout", 30*time.Second, "how long a received outcome stays hidden before it is delivered again")
	fs.IntVar(&q.maxReceives, "queue-max-receives", 5, "receives before an outcome moves to the dead-letter queue (redrive policy)")
}

func (q *queueFlags) validate() error {
	if q.visibility < time.Second || q.visibility > 12*time.Hour {
		return settingError("queue-visibility-timeout", "must be between 1s and 12h, got %s", q.visibility)
	}
	if q.maxReceives < 1 || q.maxReceives > 1000 {
		return settingError("queue-max-receives", "must be between 1 and 1000, got %d", q.maxReceives)
	}
	return oneOf("queue", q.backend, "sqlite", "sqs")
}

// storeFlags choose the leaderboard's database.
type storeFlags struct {
	database string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.database, "database", "", "leaderboard database: a postgres:// URL, or an SQLite file (default <data-dir>/leaderboard.db)")
}

func (s *storeFlags) isPostgres() bool {
	return strings.HasPrefix(s.database, "postgres://") || strings.HasPrefix(s.database, "postgresql://")
}

// must runs setup steps in order and returns the first error.
func must(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// start parses the flags of a long-running command and validates them (the
// common settings, then checks, then the data directory), then starts its
// logger and, when --pprof-addr is set, its admin listener, which cl closes.
func (c *common) start(ctx context.Context, fs *flag.FlagSet, args []string, stderr io.Writer, cl *closer, checks ...func() error) (*slog.Logger, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	steps := append(append([]func() error{c.validate}, checks...), c.ensureDataDir)
	if err := must(steps...); err != nil {
		return nil, err
	}
	log := c.logger(stderr)
	if err := c.startAdmin(ctx, fs, log, cl); err != nil {
		return nil, err
	}
	return log, nil
}
