package gameserver

import (
	"context"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// lossyUDP forwards datagrams between one client and target, dropping
// each with probability loss in either direction: induced loss for QUIC
// on a machine where tc netem is not available.
func lossyUDP(b *testing.B, target string, loss float64) string {
	b.Helper()
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	up, err := net.Dial("udp", target)
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var client net.Addr
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := ln.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			client = from
			mu.Unlock()
			if rand.Float64() >= loss {
				up.Write(buf[:n])
			}
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			to := client
			mu.Unlock()
			if to != nil && rand.Float64() >= loss {
				ln.WriteTo(buf[:n], to)
			}
		}
	}()
	b.Cleanup(func() { ln.Close(); up.Close(); wg.Wait() })
	return ln.LocalAddr().String()
}

// BenchmarkTransports plays 3 s of a duel per run over each transport and
// reports ping round-trip time, snapshot inter-arrival jitter (standard
// deviation of the gaps) and bytes received per second per player. Run:
//
//	go test -run '^$' -bench Transports -benchtime 1x ./gameserver/
func BenchmarkTransports(b *testing.B) {
	for _, tc := range []struct {
		name      string
		transport skirmish.Transport
		loss      float64
	}{
		{"websocket", skirmish.TransportWebSocket, 0},
		{"webtransport", skirmish.TransportWebTransport, 0},
		{"webtransport-loss5", skirmish.TransportWebTransport, 0.05},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				measureTransport(b, tc.transport, tc.loss)
			}
		})
	}
}

func measureTransport(b *testing.B, transport skirmish.Transport, loss float64) {
	ts, pc, hash := startWebTransportServer(b, time.Minute)
	room := ts.createRoom(b, "m-bench", "duel", "p1", "p2")
	wtURL := pc.WebTransportURL
	if loss > 0 {
		u, _ := url.Parse(wtURL)
		u.Host = lossyUDP(b, u.Host, loss)
		wtURL = u.String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var mu sync.Mutex
	var rtts []float64
	var gaps []float64
	var last time.Time
	var games []*skirmish.Game
	for i, p := range []string{"p1", "p2"} {
		opts := skirmish.JoinOptions{Transport: transport, WebTransport: skirmish.WebTransportOptions{CertHashes: [][]byte{hash}}}
		if i == 0 {
			opts.OnPong = func(d time.Duration) { mu.Lock(); rtts = append(rtts, float64(d.Microseconds())/1000); mu.Unlock() }
			opts.OnSnapshot = func(*skirmish.World, int) {
				now := time.Now()
				mu.Lock()
				if !last.IsZero() {
					gaps = append(gaps, float64(now.Sub(last).Microseconds())/1000)
				}
				last = now
				mu.Unlock()
			}
		}
		a := &skirmishv1.Assignment{RoomId: room, MatchId: "m-bench", WebsocketUrl: pc.WebSocketURL, WebtransportUrl: wtURL, JoinToken: ts.joinToken(b, room, "m-bench", p)}
		g, err := skirmish.Join(ctx, a, opts)
		if err != nil {
			b.Fatalf("Join: %v", err)
		}
		defer g.Close()
		games = append(games, g)
	}
	start, bytes0 := time.Now(), games[0].BytesReceived()
	tick := time.NewTicker(33 * time.Millisecond)
	defer tick.Stop()
	for n := 0; time.Since(start) < 3*time.Second; n++ {
		<-tick.C
		for _, g := range games {
			g.SendArena(float32(math.Cos(float64(n)/20)), float32(math.Sin(float64(n)/20)), float32(n)/10, n%10 == 0)
		}
		if n%3 == 0 {
			games[0].Ping()
		}
	}
	elapsed := time.Since(start).Seconds()
	mu.Lock()
	defer mu.Unlock()
	sort.Float64s(rtts)
	pct := func(p float64) float64 {
		if len(rtts) == 0 {
			return 0
		}
		return rtts[int(p*float64(len(rtts)-1))]
	}
	var mean, sq float64
	for _, g := range gaps {
		mean += g
	}
	mean /= float64(max(len(gaps), 1))
	for _, g := range gaps {
		sq += (g - mean) * (g - mean)
	}
	b.ReportMetric(pct(0.5), "rtt-p50-ms")
	b.ReportMetric(pct(0.99), "rtt-p99-ms")
	b.ReportMetric(math.Sqrt(sq/float64(max(len(gaps), 1))), "jitter-ms")
	b.ReportMetric(float64(len(gaps)+1)/elapsed, "snapshots/s")
	b.ReportMetric(float64(games[0].BytesReceived()-bytes0)/elapsed, "B/s/player")
}
