package cli

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"

	"github.com/skirmishgg/skirmish/internal/serve"
)

// secretFlags are never logged: their value is replaced by "REDACTED".
var secretFlags = map[string]bool{"auth-key": true, "session-key": true, "join-key": true, "invite-key": true, "control-key": true, "registry-key": true, "admin-token-key": true}

// RedactSetting returns the value of a setting as it may appear in logs:
// secrets are replaced, and URLs lose their password (a PostgreSQL DSN in
// --database, say).
func RedactSetting(name, value string) string {
	if value == "" {
		return ""
	}
	if secretFlags[name] || strings.Contains(name, "password") || strings.Contains(name, "secret") {
		return "REDACTED"
	}
	if strings.Contains(value, "://") {
		if u, err := url.Parse(value); err == nil && u.User != nil {
			return u.Redacted()
		}
		if strings.Contains(value, "@") {
			// Not a URL Go can parse, but it may carry credentials.
			return "REDACTED"
		}
	}
	if strings.Contains(strings.ToLower(value), "password=") {
		// A key=value DSN: host=db user=x password=y.
		return "REDACTED"
	}
	return value
}

// LogConfig logs every setting of fs with its effective value (from a
// flag, the environment or the default), secrets redacted, in one record.
func LogConfig(log *slog.Logger, fs *flag.FlagSet) {
	var attrs []any
	fs.VisitAll(func(f *flag.Flag) {
		attrs = append(attrs, slog.String(f.Name, RedactSetting(f.Name, f.Value.String())))
	})
	log.Info("effective config", slog.Group("config", attrs...))
}

// StartAdmin logs the effective config of a long-running command and,
// when --pprof-addr is set, serves net/http/pprof there until ctx ends.
// The pprof server stops and is waited for when cl closes.
func (c *Common) StartAdmin(ctx context.Context, fs *flag.FlagSet, log *slog.Logger, cl *Closer) error {
	LogConfig(log, fs)
	if c.PprofAddr == "" {
		return nil
	}
	ln, err := serve.Listen("pprof-addr", c.PprofAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serve.HTTP(ctx, ln, mux, log) }()
	cl.Add(func() error {
		cancel()
		return <-done
	})
	log.Info("pprof listening", "addr", ln.Addr().String())
	return nil
}
