// Package gameserver hosts real-time matches. A Server serves, on its
// public port: players over WebSocket (/ws, package ws), the browser game
// (/, /config.json), /healthz and /readyz; on its internal listener: the
// RoomService that the matchmaker calls to allocate rooms (gRPC, with
// health and reflection), /metrics, /debug/pprof/, /healthz and /readyz;
// and it sends heartbeats to the matchmaker's registry. Rooms and their lifecycle live in package room.
// It imports no game: the modes it hosts come in Config.Modes (package
// gameserver/host builds a whole gameserver process around it).
package gameserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/gameserver/webtransport"
	"github.com/skirmishgg/skirmish/gameserver/ws"
	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/serve"
)

// OutcomeSink makes match outcomes durable; the outbox implements it.
type OutcomeSink = room.OutcomeSink

// Config configures a Server; zero fields take the defaults shown.
type Config struct {
	// ID names this gameserver to the matchmaker (default: the host name).
	ID string
	// Region is reported to the matchmaker and in outcomes ("local").
	Region string
	// WebSocketURL is where players connect, as the matchmaker hands it
	// out (default "ws://<listen address>/ws").
	WebSocketURL string
	// ControlAddress is the host:port of RoomService as the matchmaker
	// dials it (default: the internal listener's address).
	ControlAddress string
	// MatchmakerAddr is the matchmaker's gRPC host:port; empty means no
	// heartbeats.
	MatchmakerAddr string
	// HeartbeatInterval is the time between heartbeats (5 s); the
	// matchmaker's answer overrides it.
	HeartbeatInterval time.Duration
	// Capacity is the most seats this server hosts at once (1000).
	Capacity int
	// Modes are the modes offered, of every game hosted; at least one.
	Modes []game.Mode
	// Rooms tunes rooms: join deadline, reconnection grace, drain timeout,
	// slow clients, input rate. ServerID and Region are filled from above.
	Rooms room.Config
	// WebSocket tunes the /ws handler.
	WebSocket ws.Config
	// Web, when set, is served at / (the browser game).
	Web http.Handler
	// Pages are more browser clients, each served at its path prefix
	// (e.g. "/dice/" for Liar's Dice), beside Web and /config.json.
	Pages map[string]http.Handler
	// WebTransportAddr, when set, is the UDP host:port where players may
	// connect over WebTransport (WebTransport.Certificate is then required).
	WebTransportAddr string
	// WebTransportURL is where players connect over WebTransport, as the
	// matchmaker hands it out (default "https://<udp address>/wt").
	WebTransportURL string
	// WebTransportCertHashes are the SHA-256 hashes of a self-signed
	// certificate that browsers pin (serverCertificateHashes), sent in
	// heartbeats; empty for a certificate browsers trust.
	WebTransportCertHashes [][]byte
	// WebTransport tunes the WebTransport server.
	WebTransport webtransport.Config
	// Page, when Web is set, is what the page reads from /config.json.
	Page PageConfig
	// Edge bounds the connections of the public port (edge.go).
	Edge Edge
}

// PageConfig tells the browser game where the other services are; the
// gameserver adds its own URLs and certificate hashes.
type PageConfig struct {
	MatchmakerURL  string `json:"matchmaker_url"`  // Connect / gRPC-Web base URL
	LeaderboardURL string `json:"leaderboard_url"` // REST base URL
	// InterpDelayMS is how far behind the newest snapshot other entities
	// are drawn (0: the page's default, 100 ms).
	InterpDelayMS int `json:"interp_delay_ms,omitempty"`
}

// Server is one gameserver.
type Server struct {
	cfg    Config
	keys   *auth.Keys
	reg    *prometheus.Registry
	log    *slog.Logger
	rooms  *room.Manager
	ws     *ws.Handler
	wt     *webtransport.Server
	grpc   *grpc.Server // internal: RoomService
	health *health.Server
	http   *metrics.HTTP
	report *reporter
	edge   *edgeMetrics
}

// KeyNeeds returns the tokens a gameserver verifies and signs: it only
// verifies join tokens and the matchmaker's control tokens (it can mint
// neither), and mints registry tokens for its calls to the matchmaker.
// New keeps only these of the keys it is given.
func KeyNeeds() auth.Needs {
	return auth.Needs{auth.KindJoin: auth.Verify, auth.KindControl: auth.Verify, auth.KindRegistry: auth.Sign}
}

// New checks the configuration and builds the server; it starts nothing.
func New(cfg Config, keys *auth.Keys, sink OutcomeSink, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	if keys == nil {
		return nil, errors.New("gameserver: auth keys are required")
	}
	keys, err := keys.Only(KeyNeeds())
	if err != nil {
		return nil, fmt.Errorf("gameserver keys: %w", err)
	}
	if sink == nil {
		return nil, errors.New("gameserver: an outcome sink is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	if cfg.ID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "gameserver"
		}
		cfg.ID = host
	}
	if cfg.Region == "" {
		cfg.Region = "local"
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 5 * time.Second
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 1000
	}
	if len(cfg.Modes) == 0 {
		return nil, errors.New("gameserver: no modes to host")
	}
	registry, err := game.NewRegistry(cfg.Modes...)
	if err != nil {
		return nil, fmt.Errorf("gameserver: %w", err)
	}
	cfg.Rooms.ServerID, cfg.Rooms.Region = cfg.ID, cfg.Region
	report := newReporter(nil)
	if cfg.Rooms.Reporter == nil {
		cfg.Rooms.Reporter = report
	}
	rooms, err := room.NewManager(cfg.Rooms, registry, sink, reg, log.With("component", "rooms"))
	if err != nil {
		return nil, fmt.Errorf("gameserver: %w", err)
	}
	cfg.Edge.fill()
	if cfg.WebSocket.Proxies.IsZero() {
		cfg.WebSocket.Proxies = cfg.Edge.Proxies
	}
	wsh, err := ws.New(cfg.WebSocket, keys, rooms, reg, log.With("component", "ws"))
	if err != nil {
		return nil, fmt.Errorf("gameserver: %w", err)
	}
	edge := newEdgeMetrics(reg)
	cfg.Edge.bound(&cfg.WebTransport, cfg.Capacity, edge.refused.WithLabelValues("quic").Inc)
	s := &Server{cfg: cfg, keys: keys, reg: reg, log: log, rooms: rooms, ws: wsh,
		health: health.NewServer(), http: metrics.NewHTTP(reg, "gameserver"), report: report, edge: edge}
	report.s = s
	if cfg.WebTransportAddr != "" {
		s.wt, err = webtransport.New(cfg.WebTransport, keys, rooms, reg, log.With("component", "webtransport"))
		if err != nil {
			return nil, fmt.Errorf("gameserver: %w", err)
		}
	}
	s.grpc = newGRPC(s, reg)
	return s, nil
}

// Rooms returns the room manager, e.g. for `skirmish dev` to create rooms
// in process.
func (s *Server) Rooms() *room.Manager { return s.rooms }

// handler serves the public port: what players and browsers reach.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	// /ws is counted by skirmish_gameserver_ws_joins_total: the request
	// counter's response wrapper cannot hijack the connection.
	mux.Handle("GET /ws", s.ws)
	mux.Handle("GET /healthz", s.http.Wrap("/healthz", http.HandlerFunc(serve.Healthz)))
	mux.Handle("GET /readyz", s.http.Wrap("/readyz", serve.Readyz(s.ready)))
	// The pages take GET (and HEAD) only, like every route here, so that
	// another method is answered 405 on every path, /readyz included,
	// rather than handed to the pages.
	if s.cfg.Web != nil {
		mux.Handle("GET /", s.http.Wrap("/", serve.SecurityHeaders(s.cfg.Web)))
	}
	for prefix, h := range s.cfg.Pages {
		mux.Handle("GET "+prefix, s.http.Wrap(prefix, serve.SecurityHeaders(http.StripPrefix(strings.TrimSuffix(prefix, "/"), h))))
	}
	if s.cfg.Web != nil || len(s.cfg.Pages) > 0 {
		mux.Handle("GET /config.json", s.http.Wrap("/config.json", serve.SecurityHeaders(http.HandlerFunc(s.pageConfig))))
	}
	return serve.MaxBody(mux, maxPublicBody)
}

// maxPublicBody bounds request bodies on the public port: no route there
// takes one.
const maxPublicBody = 4 << 10

// internalHandler serves the internal listener: RoomService, gRPC health
// and reflection for HTTP/2 gRPC requests; /metrics, /debug/pprof/,
// /healthz and /readyz.
func (s *Server) internalHandler() http.Handler {
	mux := serve.Internal(s.http.Wrap("/metrics", metrics.Handler(s.reg)), s.ready)
	return serve.WithGRPC(s.grpc, mux)
}

// errDraining is why a draining gameserver is not ready: it takes no new
// rooms.
var errDraining = errors.New("draining")

// ready is the gameserver's readiness, the same on both ports: ready
// until it begins to drain.
func (s *Server) ready(context.Context) error {
	if s.rooms.Draining() {
		return errDraining
	}
	return nil
}

// pageConfig serves /config.json. Hashes are arrays of numbers, which the
// page hands to WebTransport's serverCertificateHashes as they are.
func (s *Server) pageConfig(w http.ResponseWriter, _ *http.Request) {
	hashes := make([][]int, 0, len(s.cfg.WebTransportCertHashes))
	for _, h := range s.cfg.WebTransportCertHashes {
		n := make([]int, len(h))
		for i, b := range h {
			n[i] = int(b)
		}
		hashes = append(hashes, n)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		PageConfig
		WebSocketURL    string  `json:"websocket_url"`
		WebTransportURL string  `json:"webtransport_url,omitempty"`
		CertHashes      [][]int `json:"webtransport_cert_hashes"`
	}{s.cfg.Page, s.cfg.WebSocketURL, s.cfg.WebTransportURL, hashes})
}

// Run serves the public port on ln and the internal listener on internal
// until ctx ends, then drains: it stops taking rooms and backfill, tells
// the matchmaker it drains (its heartbeats go on, marked draining, so its
// rooms stay known there and their reports count), lets running matches
// finish (up to Rooms.DrainTimeout, then ends them with
// END_REASON_SHUTDOWN), sends the rooms' last reports, deregisters from
// the matchmaker, closes the connections and returns once every goroutine
// it started is done. With a nil internal listener, RoomService and
// /metrics are not served at all.
func (s *Server) Run(ctx context.Context, ln, internal net.Listener) error {
	if s.cfg.ControlAddress == "" && internal != nil {
		s.cfg.ControlAddress = internal.Addr().String()
	}
	if s.cfg.WebSocketURL == "" {
		s.cfg.WebSocketURL = "ws://" + ln.Addr().String() + "/ws"
	}
	var udp net.PacketConn
	if s.wt != nil {
		var err error
		if udp, err = net.ListenPacket("udp", s.cfg.WebTransportAddr); err != nil {
			return fmt.Errorf("gameserver: webtransport listen: %w", err)
		}
		if s.cfg.WebTransportURL == "" {
			s.cfg.WebTransportURL = "https://" + udp.LocalAddr().String() + s.wt.Path()
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	wtDone := make(chan error, 1)
	if s.wt != nil {
		go func() {
			err := s.wt.Run(httpCtx, udp)
			if err != nil && httpCtx.Err() == nil {
				stop()
			}
			udp.Close()
			wtDone <- err
		}()
	} else {
		wtDone <- nil
	}

	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	served := make(chan error, 1)
	go func() {
		err := serve.HTTP(httpCtx, s.publicListener(ln), s.handler(), s.log)
		if err != nil {
			stop() // the listener failed: drain and return the error
		}
		served <- err
	}()
	internalServed := make(chan error, 1)
	if internal != nil {
		go func() {
			err := serve.HTTP(httpCtx, internal, s.internalHandler(), s.log)
			if err != nil {
				stop()
			}
			internalServed <- err
		}()
	} else {
		internalServed <- nil
	}
	// Heartbeats go on through the drain, until the rooms have ended and
	// their reports are sent; only then does the server deregister.
	beatCtx, stopBeats := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBeats()
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		s.heartbeats(beatCtx, runCtx.Done())
	}()
	s.log.Info("gameserver serving", "addr", ln.Addr().String(), "control", s.cfg.ControlAddress, "websocket", s.cfg.WebSocketURL, "webtransport", s.cfg.WebTransportURL, "id", s.cfg.ID)

	reportCtx, stopReports := context.WithCancel(context.WithoutCancel(ctx))
	reported := make(chan struct{})
	go func() { defer close(reported); s.report.run(reportCtx) }()

	err := s.rooms.Run(runCtx) // returns once every room has ended
	stopReports()
	<-reported
	stopBeats()
	<-beat
	s.ws.Close()
	stopHTTP()
	if serr := <-served; serr != nil && err == nil {
		err = serr
	}
	if serr := <-internalServed; serr != nil && err == nil {
		err = fmt.Errorf("internal listener: %w", serr)
	}
	if werr := <-wtDone; werr != nil && err == nil {
		err = werr
	}
	s.grpc.Stop()
	return err
}
