// Package httpapi serves the leaderboard's public REST API: guest sign-in,
// boards and their entries, player profiles and match history, described by
// the OpenAPI document at /openapi.json.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/limits"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/serve"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// Config configures the API server.
type Config struct {
	// SessionTTL is how long a guest's session token is valid.
	// Default 24h.
	SessionTTL time.Duration
	// AllowOrigin is the Access-Control-Allow-Origin sent to browsers.
	// Default "*" (the API is public and read-only apart from sign-in).
	AllowOrigin string
	// DefaultLimit is the page size when a request names none. Default 10.
	DefaultLimit int
	// AdminKey, when set, is a bearer token that may call /v1/admin/...;
	// admin tokens (auth.Keys.IssueService with auth.KindAdmin) of the
	// service "admin" may
	// too. With neither, the admin API answers 401.
	AdminKey string
	// RatePerSecond and RateBurst bound each client's requests (by IP).
	// Default DefaultRatePerSecond (100/s) with bursts of DefaultRateBurst
	// (1,000), sized for many players behind one address (ratelimit.go); a
	// negative rate turns limiting off.
	RatePerSecond float64
	RateBurst     int
	// RequestTimeout bounds the time to read a request body and write
	// the answer. Default 10s.
	RequestTimeout time.Duration
	// Proxies are the reverse proxies whose X-Forwarded-For names the
	// client (for the rate limit). Default: none.
	Proxies limits.Proxies
	// ConnsPerPeer is the most TCP connections one client address holds
	// at once (256); trusted proxies are exempt. Negative: no limit.
	ConnsPerPeer int
	// Ready, when set, is checked by Ready after the store answers: what
	// else the leaderboard needs to answer queries (the Redis rank index).
	Ready serve.Check
}

func (c *Config) fill() error {
	if c.SessionTTL == 0 {
		c.SessionTTL = 24 * time.Hour
	}
	if c.SessionTTL < time.Minute {
		return fmt.Errorf("leaderboard session TTL %v: want at least 1m", c.SessionTTL)
	}
	if c.AllowOrigin == "" {
		c.AllowOrigin = "*"
	}
	if c.DefaultLimit == 0 {
		c.DefaultLimit = 10
	}
	if c.RatePerSecond == 0 {
		c.RatePerSecond = DefaultRatePerSecond
	}
	if c.RateBurst == 0 {
		c.RateBurst = DefaultRateBurst
	}
	if c.RateBurst < 0 {
		return fmt.Errorf("leaderboard rate burst %d: want at least 1", c.RateBurst)
	}
	if c.ConnsPerPeer == 0 {
		c.ConnsPerPeer = 256
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.RequestTimeout < 0 {
		return fmt.Errorf("leaderboard request timeout %v: want above 0", c.RequestTimeout)
	}
	if c.DefaultLimit < 1 || c.DefaultLimit > leaderboard.MaxPageSize {
		return fmt.Errorf("leaderboard default limit %d: want 1 to %d", c.DefaultLimit, leaderboard.MaxPageSize)
	}
	return nil
}

// Server is the leaderboard's HTTP server.
type Server struct {
	cfg     Config
	store   leaderboard.Store
	keys    *auth.Keys
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics.HTTP
	limiter *limiter // nil: no rate limiting
	limited prometheus.Counter
	now     func() time.Time

	metricsHandler http.Handler
}

// KeyNeeds returns the tokens the leaderboard signs and verifies: it
// mints session tokens (guest sign-in) and only verifies admin tokens,
// which an operator mints. New keeps only these of the keys it is given.
func KeyNeeds() auth.Needs {
	return auth.Needs{auth.KindSession: auth.Sign, auth.KindAdmin: auth.Verify}
}

// New builds the server; it registers its request metrics with reg.
func New(cfg Config, store leaderboard.Store, keys *auth.Keys, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if store == nil || keys == nil || reg == nil {
		return nil, errors.New("httpapi: store, keys and registry are required")
	}
	keys, err := keys.Only(KeyNeeds())
	if err != nil {
		return nil, fmt.Errorf("httpapi keys: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, store: store, keys: keys, log: log, mux: http.NewServeMux(),
		metrics: metrics.NewHTTP(reg, "leaderboard"), now: time.Now,
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_leaderboard_rate_limited_total",
			Help: "Requests answered 429 because their client exceeded its rate.",
		})}
	if cfg.RatePerSecond > 0 {
		s.limiter = newLimiter(cfg.RatePerSecond, cfg.RateBurst, cfg.Proxies)
	}
	if err := reg.Register(s.limited); err != nil {
		return nil, fmt.Errorf("leaderboard metrics: %w", err)
	}
	s.routes()
	s.metricsHandler = s.metrics.Wrap("GET /metrics", metrics.Handler(reg))
	return s, nil
}

// Metrics serves the registry's metrics, for the internal listener: the
// public port does not serve /metrics.
func (s *Server) Metrics() http.Handler { return s.metricsHandler }

func (s *Server) routes() {
	s.handle("POST /v1/auth/guest", s.guest)
	s.handle("GET /v1/leaderboards", s.listBoards)
	s.handle("GET /v1/leaderboards/{id}/entries", s.entries)
	s.handle("GET /v1/leaderboards/{id}/players/{player}", s.playerEntry)
	s.handle("GET /v1/leaderboards/{id}/players/{player}/around", s.around)
	s.handle("GET /v1/leaderboards/{id}/seasons", s.seasons)
	s.handle("GET /v1/leaderboards/{id}/seasons/{season}/entries", s.seasonEntries)
	s.handle("PUT /v1/admin/leaderboards/{id}", s.admin(s.putBoard))
	s.handle("POST /v1/admin/leaderboards/{id}/seasons", s.admin(s.endSeason))
	s.handle("GET /v1/rating-pools", s.ratingPools)
	s.handle("PUT /v1/admin/rating-pools/{mode}", s.admin(s.putRatingPool))
	s.handle("GET /docs", s.docs)
	s.handle("GET /v1/players/{id}", s.player)
	s.handle("GET /v1/players/{id}/matches", s.playerMatches)
	s.handle("GET /v1/matches/{id}", s.match)
	s.handle("GET /openapi.json", s.openAPI)
	s.handle("GET /healthz", serve.Healthz)
	s.handle("GET /readyz", serve.Readyz(s.Ready))
}

func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.metrics.Wrap(pattern, checkPathIDs(pattern, h)))
}

// Run serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	s.log.Info("leaderboard listening", "addr", ln.Addr().String())
	return serve.HTTP(ctx, limits.Listener(ln, s.cfg.ConnsPerPeer, 0, s.cfg.Proxies, nil), s, s.log)
}

// ServeHTTP answers CORS preflights, then routes; requests no route takes
// get a problem+json 404 or 405.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every request gets a deadline to read its body and write its answer
	// (the server itself bounds only the headers and idle time).
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(s.cfg.RequestTimeout)
	rc.SetReadDeadline(deadline)
	rc.SetWriteDeadline(deadline)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	r = r.WithContext(ctx)

	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", s.cfg.AllowOrigin)
	if s.cfg.AllowOrigin != "*" {
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Access-Control-Expose-Headers", "ETag, Retry-After")
	if r.ContentLength > maxBody {
		// Refused unread; the connection closes after the answer.
		h.Set("Connection", "close")
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes is larger than %d bytes", r.ContentLength, maxBody))
		return
	}
	if s.limiter != nil && !operational(r.URL.Path) {
		if ok, wait := s.limiter.allow(r, s.now()); !ok {
			s.limited.Inc()
			writeTooMany(w, wait)
			return
		}
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// Let the mux decide between 404 and 405 (and set Allow), then
		// replace its plain-text body with a problem.
		cw := &codeWriter{header: h}
		s.mux.ServeHTTP(cw, r)
		if cw.code == http.StatusMethodNotAllowed {
			writeProblem(w, cw.code, fmt.Sprintf("%s is not allowed on %s; allowed: %s", limits.Clip(r.Method, 16), limits.Clip(r.URL.Path, 128), h.Get("Allow")))
			return
		}
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s", limits.Clip(r.URL.Path, 128)))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// operational endpoints are never rate limited: probes and scrapes must
// get through.
func operational(path string) bool {
	return path == "/healthz" || path == "/readyz"
}

// codeWriter records the status the mux picks and drops its body.
type codeWriter struct {
	header http.Header
	code   int
}

func (c *codeWriter) Header() http.Header         { return c.header }
func (c *codeWriter) Write(b []byte) (int, error) { return len(b), nil }
func (c *codeWriter) WriteHeader(code int)        { c.code = code }

// Ready is the leaderboard's readiness, which its /readyz answers and
// its internal listener's should too: the store answers a ping, and
// Config.Ready, if set, passes.
func (s *Server) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("leaderboard store not ready", "err", err)
		return errStoreDown
	}
	if s.cfg.Ready != nil {
		return s.cfg.Ready(ctx)
	}
	return nil
}

// errStoreDown is why the leaderboard is not ready when its store does
// not answer (the cause is logged, not shown).
var errStoreDown = errors.New("the store does not answer")
