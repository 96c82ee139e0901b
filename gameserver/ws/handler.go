// Package ws serves players over WebSocket: GET /ws upgrades, the first
// frame must be Join{token} with a join token for a room hosted here, and
// then every binary frame carries one protobuf ClientMessage up and one
// ServerMessage down. Errors are sent as an Error message followed by a
// close frame (see CloseCode).
package ws

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/skirmishgg/skirmish/gameserver/wire"

	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/limits"
)

// Config tunes the handler; zero fields take the defaults shown.
type Config struct {
	// JoinTimeout is how long a new connection has to send Join (10 s).
	JoinTimeout time.Duration
	// IdleTimeout closes a joined connection that sends nothing (30 s).
	IdleTimeout time.Duration
	// WriteTimeout bounds one frame write (10 s).
	WriteTimeout time.Duration
	// CloseTimeout is how long the player has to answer a close frame (2 s).
	CloseTimeout time.Duration
	// PingInterval is the time between WebSocket pings, whose pongs
	// measure the round trip (skirmish_gameserver_client_rtt_seconds) (5 s).
	PingInterval time.Duration
	// CheckOrigin decides which browser origins may connect; nil allows
	// all, since players carry a signed token rather than cookies.
	CheckOrigin func(r *http.Request) bool
	// MessageRate and MessageBurst bound the frames one connection may
	// send a second, of every kind: protobuf messages, pings, pongs and
	// close frames (wire.DefaultMessageRate and DefaultMessageBurst). A
	// connection over them gets ERROR_CODE_RATE_LIMITED and is closed; a
	// ping flood ends it at once. Negative rate: no bound.
	MessageRate  float64
	MessageBurst int
	// ConnsPerPeer is the most connections one client (limits.Key of its
	// address, or of the address a trusted proxy forwarded) holds open at
	// once (256: many players share an address behind a NAT); more are refused with 429 before the upgrade. Negative:
	// no bound.
	ConnsPerPeer int
	// Proxies are the reverse proxies whose X-Forwarded-For is believed.
	Proxies limits.Proxies
}

func (c *Config) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.JoinTimeout, 10*time.Second)
	def(&c.IdleTimeout, 30*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.CloseTimeout, 2*time.Second)
	def(&c.PingInterval, 5*time.Second)
	if c.ConnsPerPeer == 0 {
		c.ConnsPerPeer = 256
	}
	if c.CheckOrigin == nil {
		c.CheckOrigin = func(*http.Request) bool { return true }
	}
}

// hardReadLimit: a frame declaring more ends the connection with close
// 1009 at once; a frame between wire.MaxFrame and this is skipped as it
// arrives (never held in memory) and gets a TOO_LARGE error message first.
const hardReadLimit = 64 << 10

// Handler serves /ws.
type Handler struct {
	cfg      Config
	keys     *auth.Keys
	rooms    *room.Manager
	log      *slog.Logger
	upgrader websocket.Upgrader
	joins    *prometheus.CounterVec
	metrics  room.TransportMetrics
	peers    *limits.PeerConns
	// frames are the buffers frames are written from (write.go).
	frames sync.Pool

	conns room.Conns[*conn]
}

// New returns a handler admitting players to rooms.
func New(cfg Config, keys *auth.Keys, rooms *room.Manager, reg prometheus.Registerer, log *slog.Logger) (*Handler, error) {
	if keys == nil || rooms == nil {
		return nil, errors.New("websocket handler: keys and rooms are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.fill()
	h := &Handler{
		cfg: cfg, keys: keys, rooms: rooms, log: log,
		// Small buffers, and a write buffer (used only for the handshake
		// and gorilla's own protocol errors; write.go writes the frames)
		// held only during a write: an idle connection costs little (see
		// BenchmarkIdleConnections).
		upgrader: websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 1024,
			WriteBufferPool: &sync.Pool{}, CheckOrigin: cfg.CheckOrigin},
		metrics: rooms.TransportMetrics("websocket"),
		peers:   limits.NewPeerConns(cfg.ConnsPerPeer),
		frames:  sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }},
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_ws_joins_total",
			Help: "WebSocket connections by join result (ok or the error code).",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(h.joins)
	}
	return h, nil
}

// Close refuses new connections and closes those that have not joined at
// once; joined ones get WriteTimeout plus CloseTimeout to finish writing
// what their room queued and close cleanly, then are cut. It returns when
// every connection handler has returned. Call it after the rooms have
// drained, so that players get their MatchEnd first.
func (h *Handler) Close() {
	h.conns.Close(h.cfg.WriteTimeout+h.cfg.CloseTimeout, func(c *conn) {
		c.w.writeControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
			time.Now().Add(100*time.Millisecond))
		c.ws.Close()
	})
}

// ServeHTTP upgrades the request and hands the connection to a goroutine
// of its own, then returns: net/http keeps the request, the response and
// their buffers (several KB) until the handler returns, which for a
// WebSocket would be the whole match. Close waits for that goroutine.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	peer := limits.Key(h.cfg.Proxies.FromRequest(r))
	if !h.peers.Acquire(peer) {
		h.joins.WithLabelValues("too_many_connections").Inc()
		http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.peers.Release(peer)
		return // the upgrader answered with an HTTP error
	}
	c := newConn(ws, &h.cfg, &h.frames)
	if !h.conns.Track(c) {
		h.peers.Release(peer)
		ws.Close()
		return
	}
	// The request's context ends when ServeHTTP returns; the connection
	// ends through Close instead.
	go func() {
		defer h.peers.Release(peer)
		h.run(context.WithoutCancel(r.Context()), c)
	}()
}

// run serves one upgraded connection until it ends.
func (h *Handler) run(ctx context.Context, c *conn) {
	defer h.conns.Untrack(c)
	defer c.ws.Close()

	sess, perr := h.join(ctx, c)
	if perr != nil {
		h.joins.WithLabelValues(perr.Code.String()).Inc()
		h.reject(c, perr)
		return
	}
	h.joins.WithLabelValues("ok").Inc()
	h.conns.Joined(c)
	h.metrics.Connections.Inc()
	defer h.metrics.Connections.Dec()
	stopPing := h.ping(c)
	defer stopPing()
	h.serve(ctx, c, sess)
}

// join reads the Join message and attaches the player to the room.
func (h *Handler) join(ctx context.Context, c *conn) (*room.Session, *wire.Reject) {
	c.ws.NetConn().SetReadDeadline(time.Now().Add(h.cfg.JoinTimeout))
	m, err := c.read()
	sess, rej := h.rooms.Admit(ctx, h.keys, m, err)
	if rej != nil {
		return nil, rej
	}
	c.ws.NetConn().SetReadDeadline(time.Now().Add(h.cfg.IdleTimeout))
	return sess, nil
}

// reject tells a player why the connection ends, before it joined.
func (h *Handler) reject(c *conn, e *wire.Reject) {
	b := e.Frame()
	if c.Write(context.Background(), b) == nil && c.Close(e.Code, e.Text) == nil {
		c.drain()
	}
}

// serve runs a joined connection: this goroutine reads, another writes.
func (h *Handler) serve(ctx context.Context, c *conn, sess *room.Session) {
	ctx, cancel := context.WithCancel(ctx)
	wrote := make(chan error, 1)
	go func() {
		err := sess.WriteLoop(ctx, c)
		if err != nil && ctx.Err() == nil {
			c.ws.Close() // a write failed: end the reading side too
		}
		wrote <- err
	}()
	defer func() {
		sess.Detach()
		cancel()
		if err := <-wrote; err != nil && !errors.Is(err, context.Canceled) {
			h.log.Debug("websocket write", "err", err)
		}
	}()
	failed := false
	for {
		if c.r.Polls() && !failed {
			// While the match runs, the room reads the player's inputs
			// at each tick (conn.Poll); this goroutine waits, and reads
			// only what the room leaves to it. Before and after the
			// match, done is closed at once and the socket is left as is.
			done := sess.Polled(c)
			select {
			case <-done:
			default:
				c.pauseReading()
				<-done
				c.resumeReading()
			}
		}
		m, err := c.read()
		var perr *wire.Reject
		switch {
		case errors.As(err, &perr):
			if !failed {
				failed = true
				sess.Fail(perr.Code, perr.Text)
			}
			continue
		case err != nil:
			return
		case failed:
			continue
		}
		if sess.Handle(m) != nil {
			failed = true
		}
	}
}

// ping sends a WebSocket ping every PingInterval carrying the send time;
// the pong's round trip is observed. It uses a timer rather than a
// goroutine per connection. The returned stop cancels it.
func (h *Handler) ping(c *conn) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	send := func() {
		b, _ := time.Now().MarshalBinary()
		c.w.writeControl(websocket.PingMessage, b, time.Now().Add(time.Second))
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			t.Reset(h.cfg.PingInterval)
		}
	}
	c.onPong = func(data []byte) {
		var sent time.Time
		if sent.UnmarshalBinary(data) == nil {
			if d := time.Since(sent); d >= 0 && d < time.Minute {
				h.metrics.RTT.Observe(d.Seconds())
			}
		}
	}
	mu.Lock()
	t = time.AfterFunc(h.cfg.PingInterval, send)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}
