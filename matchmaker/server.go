// Package matchmaker takes tickets from players over gRPC, forms fair
// matches, and allocates each match a room on a gameserver that heartbeats
// to it.
//
// Where things happen: config.go (modes and settings), service.go
// (MatchmakerService), store.go (the seam between the service and its
// state), store_memory.go with pool.go and rooms.go (state in the process:
// ticket states and queues, rooms), redis_store.go, redis_scripts.go,
// redis_rooms.go and redis_feed.go (state in Redis, shared by replicas:
// fenced formation lease, compare-and-set commits, change feed),
// formation.go (match formation and team balance; radix.go, its sorts),
// registry.go and registry_service.go (gameservers), lost.go (records of
// matches lost with their gameserver), allocate.go (CreateRoom, join
// tokens, suspect gameservers), interceptors.go (auth, logging, metrics,
// recovery), server.go (New, Run, the formation loop).
//
// # Replicas
//
// With WithRedis any number of matchmaker processes serve one deployment:
// every call works on every replica, and the state outlives them all. One
// replica at a time holds the formation lease (Config.LeaseTTL) and forms
// matches, expires tickets and settles lost gameservers; each match it
// forms commits only if, atomically, the lease is still its own (same
// epoch) and every ticket is still searching at the version it read, so no
// ticket is ever in two matches, whatever the timing. WatchTicket learns of
// changes from a Redis pub/sub feed and re-reads on its own too.
//
// A gameserver that stops heartbeating is lost: its rooms that had not
// started put their tickets back in the queue, and its running matches are
// published to the outcome queue (WithOutcomeQueue) as MatchOutcomes with
// END_REASON_SERVER_LOST. A CreateRoom that fails makes its gameserver
// suspect until its next heartbeat, and a gameserver whose connection is
// not known to work gets one CreateRoom at a time, so a dead gameserver
// costs one failed allocation (plus any already in flight over a
// connection that still looked healthy when it died).
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

	"github.com/google/uuid"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/skirmishgg/skirmish/internal/auth"
	sharedmetrics "github.com/skirmishgg/skirmish/internal/metrics"
	outcomequeue "github.com/skirmishgg/skirmish/internal/queue"
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
	store    store
	outcomes outcomequeue.Queue // nil: server-lost outcomes wait in the store
	limiter  *playerLimiter
	alloc    *allocator
	grpc     *grpc.Server // public: MatchmakerService
	internal *grpc.Server // internal: GameserverRegistryService
	health   *health.Server
	http     http.Handler // public
	ops      http.Handler // internal

	refusedConns prometheus.Counter

	ran           atomic.Bool
	ready         atomic.Bool
	warnedNoQueue atomic.Bool
	stopping      chan struct{} // closed when Run's context ends
}

// Option sets up a part of the matchmaker that is not configuration:
// where its state lives and where it sends outcomes.
type Option func(*options)

type options struct {
	redis       redis.UniversalClient
	redisPrefix string
	replica     string
	outcomes    outcomequeue.Queue
	hooks       *storeHooks
}

// WithRedis keeps the matchmaker's state in Redis under the key prefix
// (one per deployment, e.g. "skirmish:mm:"), shared by every replica
// that uses the same client address and prefix, and kept across
// restarts. The caller closes the client after Run returns. Without it
// the state lives in the process (StoreMemory).
func WithRedis(c redis.UniversalClient, prefix string) Option {
	return func(o *options) { o.redis, o.redisPrefix = c, prefix }
}

// WithReplicaID names this replica in the formation lease (default: a
// random id). Two live replicas must not share one.
func WithReplicaID(id string) Option { return func(o *options) { o.replica = id } }

// WithOutcomeQueue is the "match-outcomes" queue the matchmaker publishes
// the records of matches lost with their gameserver to
// (END_REASON_SERVER_LOST). Without it they wait in the store and a
// warning is logged.
func WithOutcomeQueue(q outcomequeue.Queue) Option { return func(o *options) { o.outcomes = q } }

// New builds a matchmaker from cfg (unset fields get their defaults), the
// keys (see KeyNeeds), an
// optional source of ratings (nil: everyone has DefaultRating), the
// registry its metrics go to and are served from (nil: a new one), a
// logger (nil: discard) and options (WithRedis, WithOutcomeQueue). It
// starts nothing.
// KeyNeeds returns the tokens the matchmaker verifies and signs: it
// verifies players' sessions, mints join tokens and party invites, mints
// control tokens for its calls to gameservers and verifies the registry
// tokens of gameservers' calls. New keeps only these of the keys it is
// given.
func KeyNeeds() auth.Needs {
	return auth.Needs{auth.KindSession: auth.Verify, auth.KindJoin: auth.Sign, auth.KindInvite: auth.Sign, auth.KindControl: auth.Sign, auth.KindRegistry: auth.Verify}
}

func New(cfg Config, keys *auth.Keys, ratings RatingSource, reg *prometheus.Registry, log *slog.Logger, opts ...Option) (*Matchmaker, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if keys == nil {
		return nil, errors.New("matchmaker: keys are required")
	}
	keys, err := keys.Only(KeyNeeds())
	if err != nil {
		return nil, fmt.Errorf("matchmaker keys: %w", err)
	}
	cfg, err = cfg.withDefaults()
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
	var st store
	if o.redis != nil {
		if o.replica == "" {
			o.replica = uuid.NewString()
		}
		rs, err := newRedisStore(cfg, o.redis, o.redisPrefix, o.replica, met, log)
		if err != nil {
			return nil, err
		}
		if o.hooks != nil {
			rs.hooks = *o.hooks
		}
		st = rs
	} else {
		st = newMemoryStore(cfg, met)
	}
	m := &Matchmaker{
		cfg:      cfg,
		keys:     keys,
		ratings:  ratings,
		log:      log,
		met:      met,
		store:    st,
		outcomes: o.outcomes,
		limiter:  newPlayerLimiter(cfg.PlayerRequestRate, cfg.PlayerRequestBurst),
		alloc:    newAllocator(cfg, keys, st),
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
	mux.Handle("GET /healthz", httpm.Wrap("/healthz", http.HandlerFunc(serve.Healthz)))
	mux.Handle("GET /readyz", httpm.Wrap("/readyz", serve.Readyz(m.checkReady)))
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
	wg.Go(func() {
		if err := m.store.run(ctx); err != nil {
			m.log.Error("matchmaker store stopped", "err", err)
		}
	})
	wg.Go(func() { m.formationLoop(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		m.health.Shutdown()
		close(m.stopping) // from here /readyz says shutting down
		m.ready.Store(false)
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

// checkReady is the matchmaker's readiness, the same on both ports: it
// is ready while Run serves and, on the Redis store, while the change
// feed answers.
func (m *Matchmaker) checkReady(context.Context) error {
	select {
	case <-m.stopping:
		return errStopping
	default:
	}
	if !m.ready.Load() {
		return errStarting
	}
	if m.store.feedStalled(time.Now()) {
		return errFeedStalled
	}
	return nil
}

// Why the matchmaker is not ready (/readyz).
var (
	errStarting    = errors.New("starting")
	errStopping    = errors.New("shutting down")
	errFeedStalled = errors.New("the change feed is stalled")
)

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
		m.limiter.prune(now)
		if res, err := m.store.sweep(ctx, now); err != nil {
			if ctx.Err() == nil {
				m.log.Warn("gameserver sweep", "err", err)
			}
		} else {
			for _, st := range gameserverStates {
				m.met.gameservers.WithLabelValues(st).Set(float64(res.states[st]))
			}
			m.alloc.closeExcept(res.addrs)
			for _, id := range res.lost {
				m.log.Warn("gameserver lost: its registration expired", "gameserver", id)
			}
			if res.requeued > 0 || res.recorded > 0 {
				m.log.Warn("rooms of lost gameservers settled", "requeued_tickets", res.requeued, "server_lost_matches", res.recorded)
			}
		}
		m.publishLost(ctx)
		matches, err := m.store.pass(ctx, now)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("formation pass", "err", err)
		}
		m.met.passDuration.Observe(time.Since(now).Seconds())
		for _, mt := range matches {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				m.requeue(mt, "matchmaker stopping")
				continue
			}
			allocs.Go(func() {
				defer func() { <-sem }()
				m.allocate(ctx, mt)
			})
		}
	}
}

// publishLost sends the records of matches lost with their gameserver to
// the outcome queue and forgets those it accepted; the rest wait for the
// next tick.
func (m *Matchmaker) publishLost(ctx context.Context) {
	outcomes, err := m.store.pendingOutcomes(ctx, outcomequeue.MaxBatch)
	if err != nil || len(outcomes) == 0 {
		return
	}
	if m.outcomes == nil {
		if !m.warnedNoQueue.Swap(true) {
			m.log.Warn("matches lost with their gameserver are not recorded: no outcome queue", "waiting", len(outcomes))
		}
		return
	}
	msgs := make([]outcomequeue.Outgoing, len(outcomes))
	ids := make([]string, len(outcomes))
	for i, o := range outcomes {
		body, err := protojson.Marshal(o)
		if err != nil {
			m.log.Error("encode server-lost outcome", "match", o.GetMatchId(), "err", err)
			return
		}
		// Not the match id: that is the id of the gameserver's own
		// outcome, which must still arrive (on a FIFO queue, a second
		// message with an id seen in the last five minutes is dropped).
		msgs[i] = outcomequeue.Outgoing{ID: outcomequeue.ServerLostID(o.GetMatchId()), Body: body}
		ids[i] = o.GetMatchId()
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := m.outcomes.Send(sctx, msgs); err != nil {
		m.log.Warn("publish server-lost outcomes; retrying", "outcomes", len(msgs), "err", err)
		return
	}
	if err := m.store.outcomesSent(ctx, ids); err != nil {
		m.log.Warn("forget sent server-lost outcomes (they will be sent again)", "err", err)
	}
	for _, o := range outcomes {
		m.log.Info("server-lost match recorded", "match", o.GetMatchId(), "gameserver", o.GetGameserverId(), "players", len(o.GetPlayers()))
	}
}

// requeue puts a match's tickets back in the queue, logging a failure.
func (m *Matchmaker) requeue(mt *match, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.store.requeue(ctx, mt, reason); err != nil {
		m.log.Warn("requeue tickets (a lapsed claim requeues them later)", "mode", mt.mode, "err", err)
	}
}

// allocate gets a room (or, for a backfill, seats in a running room) for
// one match, or puts its tickets back in the queue. A gameserver whose
// CreateRoom failed is suspect: it gets no other room until it heartbeats
// again, so a dead one costs one failed allocation, not one per pass.
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
		case errors.Is(err, errNoGameserver), errors.Is(err, errGameserverGone), errors.Is(err, errGameserverDraining):
			reason = "no_gameserver"
		case mt.backfill:
			reason = "add_seats"
		}
		var re *roomError
		if errors.As(err, &re) && !mt.backfill && ctx.Err() == nil {
			if serr := m.store.suspect(context.WithoutCancel(ctx), re.gameserver); serr != nil {
				m.log.Warn("mark gameserver suspect", "gameserver", re.gameserver, "err", serr)
			}
		}
		m.met.allocationFailures.WithLabelValues(reason).Inc()
		m.log.Warn("allocation failed; tickets requeued", "kind", kind, "mode", mt.mode, "players", mt.players(), "err", err)
		m.requeue(mt, err.Error())
		return
	}
	m.met.allocationDuration.WithLabelValues(kind, "ok").Observe(time.Since(start).Seconds())
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := m.store.matched(mctx, mt, assignments, time.Now()); err != nil {
		m.log.Warn("commit match (its claim lapses and its tickets go back to the queue)", "match", mt.matchID, "err", err)
		return
	}
	m.log.Debug("match allocated", "kind", kind, "mode", mt.mode, "match", mt.matchID, "room", mt.roomID, "players", mt.players())
}

// storeError logs a failure of the state store and returns the status a
// caller sees: Unavailable, so that it retries.
func (m *Matchmaker) storeError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	m.log.WarnContext(ctx, "matchmaker state store", "op", what, "err", err)
	return status.Error(codes.Unavailable, "matchmaker state unavailable; retry")
}

// ratingsOf looks up the players' ratings in the rating pool of mode,
// falling back to DefaultRating when there is no source, a player is
// unknown in that pool, or the lookup fails.
func (m *Matchmaker) ratingsOf(ctx context.Context, mode string, playerIDs []string) []float64 {
	out := make([]float64, len(playerIDs))
	for i := range out {
		out[i] = DefaultRating
	}
	if m.ratings == nil {
		return out
	}
	r, err := m.ratings.Ratings(ctx, mode, playerIDs)
	if err != nil {
		m.log.WarnContext(ctx, "rating lookup failed; using the default", "mode", mode, "players", len(playerIDs), "err", err)
		return out
	}
	for i, id := range playerIDs {
		if v, ok := r[id]; ok {
			out[i] = v
		}
	}
	return out
}
