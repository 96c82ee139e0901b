// Package webtransport serves players over WebTransport (HTTP/3 over
// QUIC, UDP). A player opens a session at Config.Path, then one
// bidirectional stream, the control stream, whose first message must be
// Join{token}. Messages on the control stream are length-prefixed
// protobuf (a varint length, then one ClientMessage up or ServerMessage
// down). Snapshots come down as datagrams, one ServerMessage each, unless
// one is larger than MaxDatagram, which then goes on the stream; players
// may send Inputs, SnapshotAck and Ping either on the stream or as
// datagrams. Since every snapshot is a delta against one the player
// acknowledged, a lost or reordered datagram costs nothing but its tick.
// Errors are sent as an Error message on the stream, then the stream ends
// and the session is closed with the ErrorCode number as its code.
package webtransport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"
	"github.com/skirmishgg/skirmish/gameserver/wire"

	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/limits"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Config tunes the server; zero fields take the defaults shown.
type Config struct {
	// Certificate is served to players. Required: use DevCertificate in
	// development, a configured certificate in production.
	Certificate tls.Certificate
	// Path is where sessions are opened ("/wt").
	Path string
	// MaxDatagram is the largest snapshot sent as a datagram (1100 bytes:
	// what fits in a QUIC datagram frame on a 1280-byte path with room to
	// spare); larger ones go on the control stream.
	MaxDatagram int
	// JoinTimeout is how long a new session has to send Join, and how long
	// a QUIC connection may hold no session before it is closed (10 s).
	JoinTimeout time.Duration
	// IdleTimeout closes a joined session that sends nothing (30 s).
	IdleTimeout time.Duration
	// WriteTimeout bounds one write on the control stream (10 s).
	WriteTimeout time.Duration
	// CloseTimeout is how long the player has to close the session after
	// the server ended the control stream (2 s).
	CloseTimeout time.Duration
	// CheckOrigin decides which browser origins may connect; nil allows
	// all, since players carry a signed token rather than cookies (the
	// page is served from another port, which the library's default
	// same-origin check would refuse).
	CheckOrigin func(r *http.Request) bool
	// MessageRate and MessageBurst bound the messages one session may
	// send a second, on the control stream and as datagrams together
	// (wire.DefaultMessageRate and DefaultMessageBurst); a session over
	// them gets ERROR_CODE_RATE_LIMITED and is closed. Negative rate: no
	// bound.
	MessageRate  float64
	MessageBurst int
	// SessionsPerPeer is the most sessions one address (an IPv4 address
	// or an IPv6 /64) holds at once (256: many players share an address
	// behind a NAT); more are refused with 429.
	// Negative: no bound.
	SessionsPerPeer int
	// ConnsPerPeer is the most QUIC connections one peer (limits.Key of
	// its address) holds at once, and MaxConns the most in all. A
	// connection counts from its first packet, before the handshake, until
	// it closes, with or without a session; one over a bound is refused
	// with CONNECTION_REFUSED. Once a peer, or all peers, hold half their
	// bound, new connections first prove their address with a Retry. The
	// gameserver sets these from its Edge, the bounds of its TCP port.
	// Zero: 256 per peer, and 2,256 in all (what a gameserver of 1,000
	// seats allows). Negative: no bound.
	ConnsPerPeer, MaxConns int
	// Proxies are exempt from ConnsPerPeer.
	Proxies limits.Proxies
	// Refused, when set, is called for each connection refused over
	// ConnsPerPeer or MaxConns.
	Refused func()
}

// Bounds on one QUIC connection: streams a player may open at once (the
// control stream, and HTTP/3's own) and how long the handshake may take.
const (
	maxIncomingStreams    = 4
	maxIncomingUniStreams = 4
	handshakeTimeout      = 5 * time.Second
)

func (c *Config) fill() error {
	if len(c.Certificate.Certificate) == 0 {
		return errors.New("webtransport: a certificate is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.JoinTimeout, 10*time.Second)
	def(&c.IdleTimeout, 30*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.CloseTimeout, 2*time.Second)
	if c.Path == "" {
		c.Path = "/wt"
	}
	if c.MaxDatagram <= 0 {
		c.MaxDatagram = 1100
	}
	if c.CheckOrigin == nil {
		c.CheckOrigin = func(*http.Request) bool { return true }
	}
	if c.SessionsPerPeer == 0 {
		c.SessionsPerPeer = 256
	}
	if c.ConnsPerPeer == 0 {
		c.ConnsPerPeer = 256
	}
	if c.MaxConns == 0 {
		c.MaxConns = 2*1000 + 256
	}
	return nil
}

// Server admits players to rooms over WebTransport.
type Server struct {
	cfg   Config
	keys  *auth.Keys
	rooms *room.Manager
	log   *slog.Logger

	joins    *prometheus.CounterVec
	snapshot *prometheus.CounterVec
	metrics  room.TransportMetrics

	sessions room.Conns[*wt.Session]
	peers    *limits.PeerConns
	conns    *limits.Conns // QUIC connections (quic.go)
	open     atomic.Int64  // QUIC connections holding a slot
}

// New returns a server admitting players to rooms; Run serves it.
func New(cfg Config, keys *auth.Keys, rooms *room.Manager, reg prometheus.Registerer, log *slog.Logger) (*Server, error) {
	if keys == nil || rooms == nil {
		return nil, errors.New("webtransport: keys and rooms are required")
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: cfg, keys: keys, rooms: rooms, log: log,
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_webtransport_joins_total",
			Help: "WebTransport sessions by join result (ok or the error code).",
		}, []string{"result"}),
		snapshot: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_webtransport_snapshots_total",
			Help: "Snapshots sent over WebTransport, by how: datagram, or stream when too large for one.",
		}, []string{"via"}),
		metrics: rooms.TransportMetrics("webtransport"),
		peers:   limits.NewPeerConns(cfg.SessionsPerPeer),
		conns:   limits.NewConns(cfg.ConnsPerPeer, cfg.MaxConns, cfg.Proxies),
	}
	if reg != nil {
		open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skirmish_gameserver_webtransport_connections",
			Help: "QUIC connections open, from their first packet to their close, with a session or not.",
		}, func() float64 { return float64(s.open.Load()) })
		reg.MustRegister(s.joins, s.snapshot, open)
	}
	return s, nil
}

// Path is where sessions are opened, e.g. "/wt".
func (s *Server) Path() string { return s.cfg.Path }

// Run serves on pc until ctx ends, then closes the sessions that have not
// joined; joined ones get WriteTimeout plus CloseTimeout to finish, then
// are cut. It returns once every session handler has returned. Cancel ctx
// after the rooms have drained, so that players get their MatchEnd first.
// Run does not close pc.
func (s *Server) Run(ctx context.Context, pc net.PacketConn) error {
	mux := http.NewServeMux()
	h3 := &http3.Server{
		TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{s.cfg.Certificate}}),
		QUICConfig: &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true, KeepAlivePeriod: 10 * time.Second,
			MaxIncomingStreams: maxIncomingStreams, MaxIncomingUniStreams: maxIncomingUniStreams,
			HandshakeIdleTimeout: handshakeTimeout, MaxIdleTimeout: s.cfg.IdleTimeout},
		Handler: mux,
	}
	srv := &wt.Server{H3: h3, CheckOrigin: s.cfg.CheckOrigin}
	wt.ConfigureHTTP3Server(h3)
	mux.HandleFunc(s.cfg.Path, func(w http.ResponseWriter, r *http.Request) {
		defer holdSession(r)()
		peer := limits.Key(limits.AddrOf(r.RemoteAddr))
		if !s.peers.Acquire(peer) {
			s.joins.WithLabelValues("too_many_sessions").Inc()
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		defer s.peers.Release(peer)
		sess, err := srv.Upgrade(w, r)
		if err != nil {
			s.log.Debug("webtransport upgrade", "err", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.handle(r.Context(), sess)
	})
	tr := &quic.Transport{Conn: pc, ConnContext: s.connContext, VerifySourceAddress: s.verifySource}
	ln, err := tr.ListenEarly(h3.TLSConfig, h3.QUICConfig)
	if err != nil {
		tr.Close()
		return fmt.Errorf("webtransport: listen: %w", err)
	}
	var conns sync.WaitGroup
	served := make(chan error, 1)
	go func() { served <- s.accept(ln, srv, &conns) }()
	stop := func() error {
		s.shutdown()
		err := srv.Close() // cuts every connection being served
		ln.Close()
		conns.Wait()
		tr.Close() // and the ones still in their handshake
		return err
	}
	select {
	case err := <-served:
		stop()
		return fmt.Errorf("webtransport: %w", err)
	case <-ctx.Done():
	}
	err = stop()
	<-served
	if err != nil {
		return fmt.Errorf("webtransport: close: %w", err)
	}
	return nil
}

// shutdown refuses new sessions, cuts those not joined, waits for the
// others up to WriteTimeout+CloseTimeout, then cuts them too.
func (s *Server) shutdown() {
	s.sessions.Close(s.cfg.WriteTimeout+s.cfg.CloseTimeout, func(sess *wt.Session) {
		sess.CloseWithError(wt.SessionErrorCode(skirmishv1.ErrorCode_ERROR_CODE_SHUTTING_DOWN), "server shutting down")
	})
}

func (s *Server) handle(ctx context.Context, sess *wt.Session) {
	if !s.sessions.Track(sess) {
		sess.CloseWithError(wt.SessionErrorCode(skirmishv1.ErrorCode_ERROR_CODE_SHUTTING_DOWN), "server shutting down")
		return
	}
	defer s.sessions.Untrack(sess)
	actx, cancel := context.WithTimeout(ctx, s.cfg.JoinTimeout)
	stream, err := sess.AcceptStream(actx)
	cancel()
	if err != nil {
		s.joins.WithLabelValues("no_stream").Inc()
		sess.CloseWithError(wt.SessionErrorCode(skirmishv1.ErrorCode_ERROR_CODE_BAD_MESSAGE), "no control stream")
		return
	}
	c := &conn{
		sess: sess, stream: stream, cfg: &s.cfg, r: bufio.NewReaderSize(stream, streamReadBuffer),
		limit:     wire.NewMessageLimiter(s.cfg.MessageRate, s.cfg.MessageBurst),
		datagrams: s.snapshot.WithLabelValues("datagram").Inc,
		streamed:  s.snapshot.WithLabelValues("stream").Inc,
		tooLarge:  func() {},
	}
	defer sess.CloseWithError(0, "")

	rs, perr := s.join(ctx, c)
	if perr != nil {
		s.joins.WithLabelValues(perr.Code.String()).Inc()
		s.reject(c, perr)
		return
	}
	s.joins.WithLabelValues("ok").Inc()
	s.sessions.Joined(sess)
	s.metrics.Connections.Inc()
	defer s.metrics.Connections.Dec()
	s.serve(ctx, c, rs)
}

// join reads the Join message and attaches the player to the room.
func (s *Server) join(ctx context.Context, c *conn) (*room.Session, *wire.Reject) {
	c.stream.SetReadDeadline(time.Now().Add(s.cfg.JoinTimeout))
	m, err := c.readStream()
	rs, rej := s.rooms.Admit(ctx, s.keys, m, err)
	if rej != nil {
		return nil, rej
	}
	c.stream.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
	return rs, nil
}

// reject tells a player why the session ends, before it joined.
func (s *Server) reject(c *conn, e *wire.Reject) {
	b := e.Frame()
	if c.writeStream(b) == nil && c.Close(e.Code, e.Text) == nil {
		c.drain()
	}
	c.closeSession(e.Code, e.Text)
}

// drain reads and discards until the player closes or CloseTimeout passes.
func (c *conn) drain() {
	for {
		if _, err := c.readStream(); err != nil {
			var perr *wire.Reject
			if !errors.As(err, &perr) {
				return
			}
		}
	}
}

// serve runs a joined session: this goroutine reads the control stream,
// one reads datagrams, one writes.
func (s *Server) serve(ctx context.Context, c *conn, rs *room.Session) {
	ctx, cancel := context.WithCancel(ctx)
	var failOnce sync.Once
	failed := make(chan struct{})
	fail := func(e *wire.Reject) {
		failOnce.Do(func() { close(failed); rs.Fail(e.Code, e.Text) })
	}
	handle := func(m *skirmishv1.ClientMessage) {
		select {
		case <-failed:
			return
		default:
		}
		if rs.Handle(m) != nil {
			failOnce.Do(func() { close(failed) })
		}
	}
	var wg sync.WaitGroup
	wrote := make(chan error, 1)
	var code skirmishv1.ErrorCode
	wg.Add(2)
	go func() {
		defer wg.Done()
		err := rs.WriteLoop(ctx, c)
		if err != nil && ctx.Err() == nil {
			c.sess.CloseWithError(0, "") // a write failed: end the reading side too
		}
		wrote <- err
	}()
	go func() {
		defer wg.Done()
		for {
			b, err := c.sess.ReceiveDatagram(ctx)
			if err != nil {
				return
			}
			if !c.allow() {
				fail(wire.TooFast())
				continue
			}
			m, err := wire.Decode(b)
			var perr *wire.Reject
			if errors.As(err, &perr) {
				fail(perr)
				continue
			}
			c.stream.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
			handle(m)
		}
	}()
	defer func() {
		rs.Detach()
		cancel()
		if err := <-wrote; err != nil && !errors.Is(err, context.Canceled) {
			s.log.Debug("webtransport write", "err", err)
		}
		c.closeSession(code, "")
		wg.Wait()
	}()
	for {
		m, err := c.readStream()
		var perr *wire.Reject
		switch {
		case errors.As(err, &perr):
			fail(perr)
			continue
		case err != nil:
			return
		}
		handle(m)
	}
}
