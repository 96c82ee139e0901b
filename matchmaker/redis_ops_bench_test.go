package matchmaker

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/metadata"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// BenchmarkRedisOps counts the Redis commands the Redis store sends, with
// MONITOR on the test Redis, keeping only the commands that name the
// store's key prefix (so other users of a shared Redis do not count; the
// change feed's PINGs and SCRIPT LOADs, which name no key, are left out:
// one PING a second per replica). Two replicas and one gameserver as in
// BenchmarkRedisCreateToMatched. Reported:
//
//   - idle-redis-cpu-ms/s and pair-redis-cpu-µs: the Redis server's CPU
//     time (INFO cpu), idle and per duel pair net of idle, measured
//     before MONITOR starts; meaningful only on a Redis of the
//     benchmark's own (SKIRMISH_TEST_REDIS_ADDR), as it counts every
//     client's work;
//   - idle-cmds/s: commands a second with nothing to match (formation
//     passes every 100 ms on each replica, the lease, the gameserver's
//     heartbeats, the lapse and expiry sweeps), measured over 3 s;
//   - pair-cmds and pair-lua-cmds: per duel pair (two tickets, each created
//     on one replica and watched on the other, and their match), arriving
//     at 100 pairs a second, net of the idle rate: commands sent by the
//     replicas (round trips, or pipelined) and commands run inside the
//     store's scripts;
//   - ticket-cmds and ticket-lua-cmds: per ticket created, read once
//     (GetTicket) and cancelled, never matched: the cost of a ticket alone.
//
// -v logs the commands by name.
//
//	go test ./matchmaker -run '^$' -bench RedisOps -benchtime 2000x -v
func BenchmarkRedisOps(b *testing.B) {
	p := startDuelPairs(b)
	noop := func(time.Duration, time.Duration, bool) {}
	p.run(b, 20, 100, noop) // scripts loaded, connections open
	const idleFor = 3 * time.Second

	// Redis CPU first, without MONITOR (which costs Redis a write per
	// command): idle, then b.N pairs.
	rc := redis.NewClient(&redis.Options{Addr: p.addr})
	defer rc.Close()
	cpu0 := redisCPU(b, rc)
	time.Sleep(idleFor) // measuring a rate over a period: nothing to wait for
	idleCPU := redisCPU(b, rc) - cpu0
	start := time.Now()
	b.ResetTimer()
	p.run(b, b.N, 100, noop)
	b.StopTimer()
	pairCPU := redisCPU(b, rc) - cpu0 - idleCPU
	pairCPU -= time.Duration(float64(idleCPU) * time.Since(start).Seconds() / idleFor.Seconds())

	mon := startMonitor(b, p.addr, p.prefix)
	mon.take()
	time.Sleep(idleFor)
	idle := mon.take()
	idleSecs := (idleFor + monitorTrail).Seconds()
	// idleRate is the idle commands of a period of d (and the trail).
	idleRate := func(c counts, d time.Duration) (client, lua float64) {
		d += monitorTrail
		return float64(c.client) / idleSecs * d.Seconds(), float64(c.lua) / idleSecs * d.Seconds()
	}
	start = time.Now()
	p.run(b, b.N, 100, noop)
	took := time.Since(start)
	pairs := mon.take()
	ic, il := idleRate(idle, took)

	// Tickets alone: created on a, read on b, cancelled on a.
	n := max(b.N/2, 1)
	start = time.Now()
	for i := range n {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+p.ra.token(b, fmt.Sprintf("solo%d", i)))
		resp, err := p.ra.mm.CreateTicket(ctx, &skirmishv1.CreateTicketRequest{Mode: "team4"})
		if err != nil {
			b.Fatalf("CreateTicket: %v", err)
		}
		id := resp.GetTicket().GetId()
		if _, err := p.rb.mm.GetTicket(ctx, &skirmishv1.GetTicketRequest{TicketId: id}); err != nil {
			b.Fatalf("GetTicket: %v", err)
		}
		if _, err := p.ra.mm.CancelTicket(ctx, &skirmishv1.CancelTicketRequest{TicketId: id}); err != nil {
			b.Fatalf("CancelTicket: %v", err)
		}
	}
	solo := mon.take()
	sc, sl := idleRate(idle, time.Since(start))

	b.ReportMetric(float64(idleCPU.Microseconds())/idleFor.Seconds()/1000, "idle-redis-cpu-ms/s")
	b.ReportMetric(float64(pairCPU.Microseconds())/float64(b.N), "pair-redis-cpu-µs")
	b.ReportMetric(float64(idle.client)/idleSecs, "idle-cmds/s")
	b.ReportMetric(float64(idle.lua)/idleSecs, "idle-lua-cmds/s")
	b.ReportMetric((float64(pairs.client)-ic)/float64(b.N), "pair-cmds")
	b.ReportMetric((float64(pairs.lua)-il)/float64(b.N), "pair-lua-cmds")
	b.ReportMetric((float64(solo.client)-sc)/float64(n), "ticket-cmds")
	b.ReportMetric((float64(solo.lua)-sl)/float64(n), "ticket-lua-cmds")
	b.ReportMetric(0, "ns/op")
	b.Logf("idle, %s: %s", idleFor, idle)
	b.Logf("%d duel pairs in %s: %s", b.N, took.Round(time.Millisecond), pairs)
	b.Logf("%d tickets created, read and cancelled: %s", n, solo)
}

// redisCPU is the CPU time (user and system) the Redis server has used:
// all of its clients', so it means something only on a Redis of the
// benchmark's own.
func redisCPU(b *testing.B, rc *redis.Client) time.Duration {
	b.Helper()
	info, err := rc.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("INFO cpu %s: %v", line, err)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// counts are the commands MONITOR showed, by name, from clients and from
// inside scripts.
type counts struct {
	client, lua int
	byName      map[string]int // "EVALSHA", "lua HSET", ...
}

func (c counts) String() string {
	names := slices.SortedFunc(maps.Keys(c.byName), func(a, b string) int { return c.byName[b] - c.byName[a] })
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d commands from clients, %d inside scripts:", c.client, c.lua)
	for _, n := range names {
		fmt.Fprintf(&sb, " %s %d,", n, c.byName[n])
	}
	return strings.TrimSuffix(sb.String(), ",")
}

// monitor counts the commands naming a key prefix, as MONITOR shows them.
type monitor struct {
	mu  sync.Mutex
	cur counts
}

// startMonitor opens a MONITOR connection to addr; it is closed at the
// end of the benchmark.
func startMonitor(b *testing.B, addr, prefix string) *monitor {
	b.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReaderSize(conn, 1<<20)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		b.Fatalf("MONITOR: %q %v", line, err)
	}
	m := &monitor{cur: counts{byName: map[string]int{}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // closed at cleanup
			}
			if !strings.Contains(line, prefix) {
				continue
			}
			// +1700000000.123456 [0 127.0.0.1:5555] "EVALSHA" "..." ...
			_, rest, ok := strings.Cut(line, " [")
			if !ok {
				continue
			}
			src, cmd, ok := strings.Cut(rest, "] \"")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(cmd, "\"")
			name = strings.ToUpper(name)
			m.mu.Lock()
			if strings.HasSuffix(src, " lua") {
				m.cur.lua++
				m.cur.byName["lua "+name]++
			} else {
				m.cur.client++
				m.cur.byName[name]++
			}
			m.mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		conn.Close()
		<-done
	})
	return m
}

// monitorTrail is how long take waits for MONITOR lines of commands
// already sent.
const monitorTrail = 200 * time.Millisecond

// take returns the counts since the last take, after letting commands
// already sent reach the monitor.
func (m *monitor) take() counts {
	time.Sleep(monitorTrail)
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.cur
	m.cur = counts{byName: map[string]int{}}
	return c
}
