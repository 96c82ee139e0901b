package cli

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/limits"
)

// Common are the settings every long-running command takes.
type Common struct {
	DataDir string
	AuthKey string
	// kindKeys are the per-kind keys (--session-key, --join-public-key,
	// ...): see Keys.
	kindKeys  map[auth.Kind]*kindKey
	LogLevel  string
	LogFormat string
	PprofAddr string
	// TrustedProxies lists the reverse proxies whose X-Forwarded-For
	// names the client, for per-client limits.
	TrustedProxies string
}

// Register registers the common settings on fs.
func (c *Common) Register(fs *flag.FlagSet) {
	c.RegisterDataDir(fs)
	fs.StringVar(&c.AuthKey, "auth-key", "", "master key (base64, 32 bytes) from which each kind of token's key is derived; a part holding it could mint any token, so in production give each part only its --<kind>-key / --<kind>-public-key instead (skirmish keys); empty, and no per-kind key set: read or create <data-dir>/auth.key")
	c.registerKindKeys(fs)
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "extra admin listen address for net/http/pprof only (/debug/pprof/, also on the internal listener); empty: off")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", "comma-separated addresses and CIDR prefixes of reverse proxies whose X-Forwarded-For names the client (for per-client limits); empty: none")
}

// RegisterDataDir registers only --data-dir, for the one-shot commands
// (queues, dlq) that need no key, logger or admin listener.
func (c *Common) RegisterDataDir(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "skirmish-data", "directory for SQLite files, the outbox and the dev auth key")
}

// Validate checks the log settings and --trusted-proxies.
func (c *Common) Validate() error {
	if err := OneOf("log-level", c.LogLevel, "debug", "info", "warn", "error"); err != nil {
		return err
	}
	if _, err := c.Proxies(); err != nil {
		return err
	}
	return OneOf("log-format", c.LogFormat, "text", "json")
}

// Logger returns the logger the settings describe, writing to w.
func (c *Common) Logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	// Every string value is clipped (limits.LogHandler): a client's value
	// that reaches a log line cannot make it large.
	if c.LogFormat == "json" {
		return slog.New(limits.LogHandler(slog.NewJSONHandler(w, opts), 0))
	}
	return slog.New(limits.LogHandler(slog.NewTextHandler(w, opts), 0))
}

// Path is the file name in the data directory.
func (c *Common) Path(name string) string { return filepath.Join(c.DataDir, name) }

// EnsureDataDir makes the data directory.
func (c *Common) EnsureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return SettingError("data-dir", "%v", err)
	}
	return nil
}

// Proxies parses --trusted-proxies.
func (c *Common) Proxies() (limits.Proxies, error) {
	p, err := limits.ParseProxies(c.TrustedProxies)
	if err != nil {
		return limits.Proxies{}, SettingError("trusted-proxies", "%v", err)
	}
	return p, nil
}

// Start parses the flags of a long-running command and validates them (the
// common settings, then checks, then the data directory), then starts its
// logger, logs the effective settings and, when --pprof-addr is set,
// starts its pprof listener, which cl closes.
func (c *Common) Start(ctx context.Context, fs *flag.FlagSet, args []string, stderr io.Writer, cl *Closer, checks ...func() error) (*slog.Logger, error) {
	if err := Parse(fs, args); err != nil {
		return nil, err
	}
	steps := append(append([]func() error{c.Validate}, checks...), c.EnsureDataDir)
	if err := Must(steps...); err != nil {
		return nil, err
	}
	log := c.Logger(stderr)
	if err := c.StartAdmin(ctx, fs, log, cl); err != nil {
		return nil, err
	}
	return log, nil
}

// Default internal listeners: where each part serves /metrics, pprof,
// and its internal gRPC services (the gameserver's RoomService, the
// matchmaker's GameserverRegistryService). Loopback, so that nothing
// operational is reachable from outside unless an operator says so.
const (
	GameserverInternalAddr  = "127.0.0.1:7802"
	MatchmakerInternalAddr  = "127.0.0.1:7812"
	LeaderboardInternalAddr = "127.0.0.1:7822"
)

// RegisterInternalAddr registers --<prefix>internal-addr; serves names
// what the listener serves besides the operational endpoints, ending in
// ", " (or is empty).
func RegisterInternalAddr(fs *flag.FlagSet, p *string, prefix, addr, serves string) {
	fs.StringVar(p, prefix+"internal-addr", addr, "internal listen address ("+serves+"/metrics, /debug/pprof/, /healthz, /readyz); keep it off the ports players reach")
}
