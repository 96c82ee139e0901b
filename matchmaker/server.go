// Package matchmaker takes tickets from players over gRPC, forms fair
// matches, and allocates each match a room on a gameserver that heartbeats
// to it.
//
// Where things happen: config.go (modes and settings), service.go
// (MatchmakerService), pool.go (ticket states and queues), formation.go
// (match formation and team balance; radix.go, its sorts), registry.go
// and registry_service.go (gameservers), allocate.go (CreateRoom and join
// tokens), interceptors.go (auth, logging, metrics, recovery), server.go
// (New, Run).
package matchmaker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/skirmishgg/skirmish/internal/auth"
	sharedmetrics "github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/serve"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Matchmaker is the matchmaking service. On its public port:
// MatchmakerService over gRPC (also as Connect and gRPC-Web for browsers),
// gRPC health and reflection of those, HTTP /healthz and /readyz. On its
// internal listener: GameserverRegistryService, health and reflection,
// /metrics, /debug/pprof/, /healthz and /readyz. And the formation loop.
type Matchmaker struct {
	cfg      Config
	keys     *auth.Keys
	ratings  RatingSource
	log      *slog.Logger
	met      *metrics
	pool     *pool
	registry *registry
	limiter  *playerLimiter
	alloc    *allocator
	grpc     *grpc.Server // public: MatchmakerService
	internal *grpc.Server // internal: GameserverRegistryService
	health   *health.Server
	http     http.Handler // public
	ops      http.Handler // internal

	refusedConns prometheus.Counter

	ran      atomic.Bool
	ready    atomic.Bool
	stopping chan struct{} // closed when Run's context ends
}

// New builds a matchmaker from cfg (unset fields get their defaults), the
// keys that verify session and service tokens and sign join tokens, an
// optional source of ratings (nil: everyone has DefaultRating), the
// registry its metrics go to and are served from (nil: a new one), and a
// logger (nil: discard). It starts nothing.
func New(cfg Config, keys *auth.Keys, ratings RatingSource, reg *prometheus.Registry, log *slog.Logger) (*Matchmaker, error) {
	if keys == nil {
		return nil, errors.New("matchmaker: keys are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("matchmaker config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	met, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("matchmaker metrics: %w", err)
	}
	srvMetrics := grpcprom.NewServerMetrics(
		grpcprom.WithServerCounterOptions(grpcprom.WithNamespace("skirmish"), grpcprom.WithSubsystem("matchmaker")),
		grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramNamespace("skirmish"), grpcprom.WithHistogramSubsystem("matchmaker"),
			grpcprom.WithHistogramBuckets([]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}),
		),
	)
	if err := reg.Register(srvMetrics); err != nil {
		return nil, fmt.Errorf("matchmaker metrics: %w", err)
	}
	reg2 := newRegistry(cfg.GameserverTTL, cfg.Allocation == AllocateFillFirst)
	m := &Matchmaker{
		cfg:      cfg,
		keys:     keys,
		ratings:  ratings,
		log:      log,
		met:      met,
		pool:     newPool(cfg, met),
		registry: reg2,
		limiter:  newPlayerLimiter(cfg.PlayerRequestRate, cfg.PlayerRequestBurst),
		alloc:    newAllocator(cfg, keys, reg2),
		health:   health.NewServer(),
		stopping: make(chan struct{}),
	}
	m.cfg.Edge.fill()
	m.refusedConns = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "skirmish_matchmaker_refused_connections_total",
		Help: "Connections to the public port closed at once: their peer, or all peers together, held the most allowed.",
	})
	if err := reg.Register(m.refusedConns); err != nil {
		return nil, fmt.Errorf("matchmaker metrics: %w", err)
	}
	m.grpc, m.internal = grpcServers(m.cfg.Edge.GRPC,
		interceptors(keys, newSessionCache(keys, sessionCacheSize), m.limiter, srvMetrics, log))
	skirmishv1.RegisterMatchmakerServiceServer(m.grpc, &ticketService{m: m})
	skirmishv1.RegisterGameserverRegistryServiceServer(m.internal, &registryService{m: m})
	for _, g := range []*grpc.Server{m.grpc, m.internal} {
		healthgrpc.RegisterHealthServer(g, m.health)
		reflection.Register(g)
		srvMetrics.InitializeMetrics(g)
		for name := range g.GetServiceInfo() {
			m.health.SetServingStatus(name, healthgrpc.HealthCheckResponse_NOT_SERVING)
		}
	}
	m.health.SetServingStatus("", healthgrpc.HealthCheckResponse_NOT_SERVING)

	httpm := sharedmetrics.NewHTTP(reg, "matchmaker")
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", httpm.Wrap("/healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})))
	mux.Handle("GET /readyz", httpm.Wrap("/readyz", http.HandlerFunc(m.serveReady)))
	if m.http, err = m.handler(mux); err != nil {
		return nil, err
	}
	m.ops = m.internalHandler(httpm.Wrap("/metrics", sharedmetrics.Handler(reg)))
	return m, nil
}

// Run serves the public port on ln and the internal listener on internal
// (nil: the internal surfaces are not served at all), and runs the
// formation loop until ctx ends. Then it reports not serving, ends
// WatchTicket streams, lets calls in flight finish, stops the loop and
// allocations in flight (their tickets go back to the queue), stops the
// internal listener, closes its gameserver connections, and returns once
// every goroutine it started has stopped. Run may be called once.
func (m *Matchmaker) Run(ctx context.Context, ln, internal net.Listener) error {
	if !m.ran.CompareAndSwap(false, true) {
		return errors.New("matchmaker: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	for _, g := range []*grpc.Server{m.grpc, m.internal} {
		for name := range g.GetServiceInfo() {
			m.health.SetServingStatus(name, healthgrpc.HealthCheckResponse_SERVING)
		}
	}
	m.health.SetServingStatus("", healthgrpc.HealthCheckResponse_SERVING)
	ln = m.publicListener(ln)
	internalDone := make(chan error, 1)
	internalCtx, stopInternal := context.WithCancel(context.WithoutCancel(ctx))
	defer stopInternal()
	if internal != nil {
		go func() {
			ierr := serve.HTTP(internalCtx, internal, m.ops, m.log)
			if ierr != nil {
				cancel() // the internal listener failed: stop, and return its error
			}
			internalDone <- ierr
		}()
		m.log.Info("matchmaker internal listener", "addr", internal.Addr().String())
	} else {
		internalDone <- nil
	}
	m.ready.Store(true)
	var wg sync.WaitGroup
	wg.Go(func() { m.formationLoop(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		m.ready.Store(false)
		m.health.Shutdown()
		close(m.stopping)
	})
	m.log.Info("matchmaker serving", "addr", ln.Addr().String(), "modes", m.cfg.modeNames())

	var err error
	if m.cfg.SharedHTTP2 {
		err = serve.HTTP(ctx, ln, m.http, m.log)
		cancel()
		wg.Wait()
	} else {
		split := newSplitListener(ln)
		wg.Go(split.run)
		grpcDone := make(chan error, 1)
		go func() { grpcDone <- m.grpc.Serve(split.h2) }()
		err = serve.HTTP(ctx, split.h1, m.http, m.log)
		cancel()
		<-m.stopping // WatchTicket streams are ending
		m.stopGRPC()
		if gerr := <-grpcDone; gerr != nil && err == nil {
			err = fmt.Errorf("serve gRPC: %w", gerr)
		}
		split.h1.Close()
		split.close()
		wg.Wait()
	}
	m.grpc.Stop() // every call has ended; this frees the rest
	stopInternal()
	if ierr := <-internalDone; ierr != nil && err == nil {
		err = fmt.Errorf("internal listener: %w", ierr)
	}
	m.internal.Stop()
	if cerr := m.alloc.close(); cerr != nil {
		m.log.Warn("close gameserver connections", "err", cerr)
	}
	return err
}

// stopGRPC lets the calls in flight on native gRPC connections finish, for
// at most shutdownGrace, then closes them.
func (m *Matchmaker) stopGRPC() {
	done := make(chan struct{})
	go func() {
		m.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		m.grpc.Stop()
		<-done
	}
}

// sessionCacheSize bounds the verified session tokens remembered.
const sessionCacheSize = 100_000

// shutdownGrace bounds how long Run waits for calls in flight.
const shutdownGrace = 10 * time.Second

func (m *Matchmaker) serveReady(w http.ResponseWriter, r *http.Request) {
	if !m.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}

// formationLoop runs a formation pass every FormationInterval and hands
// each formed match to an allocation goroutine, at most
// MaxConcurrentAllocations at a time.
func (m *Matchmaker) formationLoop(ctx context.Context) {
	ticker := time.NewTicker(m.cfg.FormationInterval)
	defer ticker.Stop()
	var allocs sync.WaitGroup
	defer allocs.Wait()
	sem := make(chan struct{}, m.cfg.MaxConcurrentAllocations)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		now := time.Now()
		states, ids, addrs := m.registry.sweep(now)
		for _, st := range gameserverStates {
			m.met.gameservers.WithLabelValues(st).Set(float64(states[st]))
		}
		m.alloc.closeExcept(addrs)
		m.pool.forgetRooms(ids)
		m.limiter.prune(now)
		matches := m.pool.pass(now)
		m.met.passDuration.Observe(time.Since(now).Seconds())
		for _, mt := range matches {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				m.pool.requeue(mt, "matchmaker stopping")
				continue
			}
			allocs.Go(func() {
				defer func() { <-sem }()
				m.allocate(ctx, mt)
			})
		}
	}
}

// allocate gets a room (or, for a backfill, seats in a running room) for
// one match, or puts its tickets back in the queue.
func (m *Matchmaker) allocate(ctx context.Context, mt *match) {
	start := time.Now()
	kind := "room"
	if mt.backfill {
		kind = "backfill"
	}
	assignments, err := m.alloc.allocate(ctx, mt)
	if err != nil {
		m.met.allocationDuration.WithLabelValues(kind, "error").Observe(time.Since(start).Seconds())
		reason := "create_room"
		switch {
		case errors.Is(err, errNoGameserver), errors.Is(err, errGameserverGone):
			reason = "no_gameserver"
		case mt.backfill:
			reason = "add_seats"
		}
		m.met.allocationFailures.WithLabelValues(reason).Inc()
		m.log.Warn("allocation failed; tickets requeued", "kind", kind, "mode", mt.mode, "players", mt.players(), "err", err)
		m.pool.requeue(mt, err.Error())
		return
	}
	m.met.allocationDuration.WithLabelValues(kind, "ok").Observe(time.Since(start).Seconds())
	m.pool.matched(mt, assignments, time.Now())
	m.log.Debug("match allocated", "kind", kind, "mode", mt.mode, "match", mt.matchID, "room", mt.roomID, "players", mt.players())
}

// ratings looks up the players' ratings, falling back to DefaultRating
// when there is no source, a player is unknown, or the lookup fails.
func (m *Matchmaker) ratingsOf(ctx context.Context, playerIDs []string) []float64 {
	out := make([]float64, len(playerIDs))
	for i := range out {
		out[i] = DefaultRating
	}
	if m.ratings == nil {
		return out
	}
	r, err := m.ratings.Ratings(ctx, playerIDs)
	if err != nil {
		m.log.WarnContext(ctx, "rating lookup failed; using the default", "players", len(playerIDs), "err", err)
		return out
	}
	for i, id := range playerIDs {
		if v, ok := r[id]; ok {
			out[i] = v
		}
	}
	return out
}
