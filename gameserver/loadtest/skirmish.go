package loadtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/skirmishgg/skirmish/gameserver"
	"github.com/skirmishgg/skirmish/gameserver/arena"
	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/gameserver/room"
	"github.com/skirmishgg/skirmish/gameserver/webtransport"
	"github.com/skirmishgg/skirmish/gameserver/ws"
	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

type discardSink struct{}

func (discardSink) Add(context.Context, *skirmishv1.MatchOutcome) error { return nil }

// server is an in-process gameserver on 127.0.0.1 for a measurement.
type server struct {
	srv  *gameserver.Server
	reg  *prometheus.Registry
	keys *auth.Keys
	url  string
	// wtURL and certHash are where and how bots reach it over
	// WebTransport (empty unless started with it).
	wtURL    string
	certHash []byte
	stop     func()
}

func startServer(ctx context.Context, capacity int, joinTimeout time.Duration, transport string) (*server, error) {
	text, err := auth.GenerateKey()
	if err != nil {
		return nil, err
	}
	keys, err := auth.ParseKey(text)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	cfg := gameserver.Config{
		ID: "loadtest", Capacity: capacity,
		Modes: arena.Modes(arena.Config{MatchDuration: time.Hour, ScoreLimit: 1 << 30}),
		Rooms: room.Config{JoinTimeout: joinTimeout},
		// Every bot connects from 127.0.0.1: no per-peer bounds.
		Edge:      gameserver.Edge{ConnsPerPeer: -1, MaxConns: -1},
		WebSocket: ws.Config{ConnsPerPeer: -1},
	}
	var wtURL string
	var hash []byte
	if transport == TransportWebTransport {
		cert, h, err := webtransport.DevCertificate("127.0.0.1")
		if err != nil {
			return nil, err
		}
		addr, err := freeUDPAddr()
		if err != nil {
			return nil, err
		}
		wtURL, hash = "https://"+addr+"/wt", h
		cfg.WebTransportAddr, cfg.WebTransportURL = addr, wtURL
		cfg.WebTransport = webtransport.Config{Certificate: cert, SessionsPerPeer: -1}
	}
	srv, err := gameserver.New(cfg, keys, discardSink{}, reg, nil)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Run(sctx, ln, nil) }()
	return &server{srv: srv, reg: reg, keys: keys, url: "ws://" + ln.Addr().String() + "/ws", wtURL: wtURL, certHash: hash,
		stop: func() { stop(); <-served }}, nil
}

// freeUDPAddr returns a 127.0.0.1 UDP address that was free a moment ago,
// for a server that opens its own socket.
func freeUDPAddr() (string, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free UDP port: %w", err)
	}
	defer pc.Close()
	return pc.LocalAddr().String(), nil
}

// rooms creates 8-seat ffa rooms for n players and returns one join token
// per seat; with joinEach < 8 only that many seats of each room get one.
func (s *server) rooms(n, joinEach int) ([]string, error) {
	var tokens []string
	for r := 0; r*8 < n; r++ {
		matchID := fmt.Sprintf("load-%d", r)
		seats := make([]game.Seat, min(8, n-r*8))
		if len(seats) < 2 {
			break
		}
		for i := range seats {
			seats[i] = game.Seat{PlayerID: fmt.Sprintf("%s-p%d", matchID, i)}
		}
		room, err := s.srv.Rooms().Create(matchID, arena.ModeFFA, seats)
		if err != nil {
			return nil, fmt.Errorf("create room: %w", err)
		}
		for _, st := range seats[:min(joinEach, len(seats))] {
			tok, err := s.keys.IssueJoin(auth.Join{PlayerID: st.PlayerID, MatchID: matchID, RoomID: room.ID()}, time.Hour)
			if err != nil {
				return nil, err
			}
			tokens = append(tokens, tok)
		}
	}
	return tokens, nil
}

// real runs an in-process gameserver with n/8 8-player ffa rooms, and n
// bot clients in a client process over WebSocket on 127.0.0.1 that play
// for dur. CPU and RSS are the server process's alone.
func real(ctx context.Context, cfg Config, n int) (StepResult, error) {
	// Joining thousands of bots on a busy machine takes a while: rooms
	// must not start (and give up seats) before everyone is in.
	s, err := startServer(ctx, n+8, 5*time.Minute, cfg.Transport)
	if err != nil {
		return StepResult{}, err
	}
	defer s.stop()
	tokens, err := s.rooms(n, 8)
	if err != nil {
		return StepResult{}, err
	}
	p, err := startClients(ctx, cfg.ClientCommand, Job{Mode: "bots", URL: s.url, WebTransportURL: s.wtURL, CertHash: s.certHash,
		Tokens: tokens, Duration: cfg.StepDuration, Full: cfg.Full,
		InputsPerMessage: cfg.InputsPerMessage, Nice: cfg.ClientNice, Procs: cfg.ClientProcs})
	if err != nil {
		return StepResult{}, err
	}
	defer p.kill()
	base := counters(s.reg)
	m := newMeter()
	cr, err := p.run()
	if err != nil {
		return StepResult{}, err
	}
	// Read before the clients disconnect (kill), which is not the step's.
	res := m.result(len(tokens), cr.Elapsed)
	end := counters(s.reg)
	res.TickP50, res.TickP99 = end.tickQuantile(base, 0.50), end.tickQuantile(base, 0.99)
	res.Overruns = int(end.overruns - base.overruns)
	res.Skipped = int(end.skipped - base.skipped)
	if n := end.snapshots - base.snapshots; n > 0 {
		res.SupersededRatio = (end.superseded - base.superseded) / n
		res.SharedRatio = (end.shared - base.shared) / n
	}
	secs := cr.Elapsed.Seconds()
	res.DeliveredRatio = float64(cr.Messages) / (float64(len(tokens)) * TickRate * secs)
	res.Delivered = cr.Messages
	res.BytesPerPlayerSecond = float64(cr.Bytes) / float64(len(tokens)) / secs
	res.Errors = cr.Errors
	res.ClientCPU = cr.CPU
	res.LatencyP50, res.LatencyP99 = cr.LatP50, cr.LatP99
	return res, nil
}

// IdleResult is the server's memory per idle joined connection.
type IdleResult struct {
	Connections             int
	HeapStackPerConn        float64 // bytes: Go heap in use plus stacks
	RSSPerConn              float64 // bytes
	HeapStackMiB, RSSMiBNow float64
}

// Idle joins n connections (7 of the 8 seats of each room, so rooms wait
// and send nothing) from a client process and measures how much the
// server process grew, per connection.
func Idle(ctx context.Context, cfg Config, n int) (IdleResult, error) {
	s, err := startServer(ctx, n+8, time.Hour, cfg.Transport)
	if err != nil {
		return IdleResult{}, err
	}
	defer s.stop()
	tokens, err := s.rooms(n*8/7+8, 7)
	if err != nil {
		return IdleResult{}, err
	}
	tokens = tokens[:n]
	heap0, rss0 := memInUse(), rss()
	p, err := startClients(ctx, cfg.ClientCommand, Job{Mode: "idle", URL: s.url, WebTransportURL: s.wtURL, CertHash: s.certHash,
		Tokens: tokens, Duration: time.Second})
	if err != nil {
		return IdleResult{}, err
	}
	defer p.kill()
	heap1, rss1 := memInUse(), rss()
	if cfg.IdleHeapProfile != "" {
		if err := writeHeapProfile(cfg.IdleHeapProfile); err != nil {
			p.kill()
			return IdleResult{}, err
		}
	}
	if _, err := p.run(); err != nil {
		return IdleResult{}, err
	}
	return IdleResult{Connections: n,
		HeapStackPerConn: float64(heap1-heap0) / float64(n), RSSPerConn: float64(rss1-rss0) / float64(n),
		HeapStackMiB: float64(heap1) / (1 << 20), RSSMiBNow: float64(rss1) / (1 << 20)}, nil
}

// writeHeapProfile writes the heap profile (after a GC) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}

func memInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// snapshot of the gameserver's tick metrics.
type tickCounters struct {
	overruns, skipped     float64
	snapshots, superseded float64
	shared                float64
	buckets               []*dto.Bucket
	count                 uint64
}

func counters(reg *prometheus.Registry) tickCounters {
	var c tickCounters
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "skirmish_gameserver_tick_overruns_total":
			c.overruns = mf.GetMetric()[0].GetCounter().GetValue()
		case "skirmish_gameserver_ticks_skipped_total":
			c.skipped = mf.GetMetric()[0].GetCounter().GetValue()
		case "skirmish_gameserver_snapshots_total":
			c.snapshots = mf.GetMetric()[0].GetCounter().GetValue()
		case "skirmish_gameserver_snapshots_superseded_total":
			c.superseded = mf.GetMetric()[0].GetCounter().GetValue()
		case "skirmish_gameserver_snapshots_shared_total":
			c.shared = mf.GetMetric()[0].GetCounter().GetValue()
		case "skirmish_gameserver_tick_duration_seconds":
			h := mf.GetMetric()[0].GetHistogram()
			c.buckets, c.count = h.GetBucket(), h.GetSampleCount()
		}
	}
	return c
}

// tickQuantile is the upper bound of the histogram bucket holding the
// quantile q of the ticks since base.
func (c tickCounters) tickQuantile(base tickCounters, q float64) time.Duration {
	total := c.count - base.count
	if total == 0 {
		return 0
	}
	for i, b := range c.buckets {
		n := b.GetCumulativeCount()
		if i < len(base.buckets) {
			n -= base.buckets[i].GetCumulativeCount()
		}
		if float64(n) >= q*float64(total) {
			return time.Duration(b.GetUpperBound() * float64(time.Second))
		}
	}
	return time.Duration(c.buckets[len(c.buckets)-1].GetUpperBound() * float64(time.Second))
}
