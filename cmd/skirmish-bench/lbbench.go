package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/skirmishgg/skirmish/internal/cli"
	"github.com/skirmishgg/skirmish/internal/leaderboardcmd"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// lbbenchFlags are the settings of lbbench's own measures.
type lbbenchFlags struct {
	entries     int
	load        bool
	board       string
	duration    time.Duration
	concurrency int
	updates     int
	cpuprofile  string
	memprofile  string
	mutexprof   string
}

// bulkLoader is a store that can fill a board fast (SQLite, PostgreSQL).
type bulkLoader interface {
	BulkLoad(ctx context.Context, boardID string, entries iter.Seq[leaderboard.Entry]) (int, error)
}

// runLBBench fills a leaderboard with many entries and measures the REST
// API over HTTP on 127.0.0.1: requests per second and latency
// percentiles of top-10, around-me and player rank, then score updates
// per second through the store and rank index. The server, built as
// `skirmish leaderboard` builds it (internal/leaderboardcmd, with the same
// flags and SKIRMISH_* environment variables), runs in this process,
// beside the load client.
func runLBBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c cli.Common
	var s leaderboardcmd.StoreFlags
	var lf leaderboardcmd.Flags
	var f lbbenchFlags
	fs := cli.NewFlagSet("skirmish-bench lbbench", stderr)
	c.Register(fs)
	s.Register(fs)
	lf.Register(fs)
	fs.IntVar(&f.entries, "entries", 1_000_000, "entries in the benchmark board")
	fs.BoolVar(&f.load, "load", false, "bulk-load --entries entries into the board first (the database must not hold them yet)")
	fs.StringVar(&f.board, "board", "bench", "board to create, fill and query")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long to load each endpoint")
	fs.IntVar(&f.concurrency, "concurrency", 16, "concurrent HTTP clients")
	fs.IntVar(&f.updates, "updates", 2000, "match outcomes to apply for the score update measure (0: skip)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the HTTP measures to this file")
	fs.StringVar(&f.memprofile, "memprofile", "", "write a heap profile, taken after the HTTP measures, to this file")
	fs.StringVar(&f.mutexprof, "mutexprofile", "", "write a mutex contention profile of the HTTP measures to this file")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if f.entries < 1 || f.concurrency < 1 || f.concurrency > 256 || f.duration <= 0 || f.duration > 5*time.Minute {
		return errors.New("lbbench: want --entries >= 1, --concurrency 1 to 256, --duration up to 5m")
	}
	if err := cli.Must(c.Validate, c.EnsureDataDir); err != nil {
		return err
	}
	lf.RateLimit = -1 // the client is one IP
	log := c.Logger(stderr)
	var cl cli.Closer
	defer cl.Close()
	store, err := leaderboardcmd.OpenStore(ctx, &c, &s, &cl)
	if err != nil {
		return err
	}
	board := leaderboard.Board{ID: f.board, Title: "Load test", Order: leaderboard.Descending, Stat: "eliminations", Aggregate: leaderboard.Sum}
	if _, err := store.PutBoard(ctx, board); err != nil {
		return err
	}
	if f.load {
		bl, ok := store.(bulkLoader)
		if !ok {
			return errors.New("lbbench: this store cannot bulk-load")
		}
		start := time.Now()
		n, err := bl.BulkLoad(ctx, f.board, benchEntries(f.entries))
		if err != nil {
			return err
		}
		took := time.Since(start)
		fmt.Fprintf(stdout, "loaded %d entries in %v (%.0f rows/s)\n", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	}

	part, err := leaderboardcmd.New(store, &lf, &c, metrics.NewRegistry(), log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- part.Run(ctx, ln, nil) }()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-part.Index.Ready():
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Fprintf(stdout, "rank index (%s) ready in %v\n", lf.RankIndex, time.Since(start).Round(time.Millisecond))

	base := "http://" + ln.Addr().String() + "/v1/leaderboards/" + f.board
	// Measure the steady state: collect the garbage of the index load,
	// then warm connections and caches for a second.
	runtime.GC()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	fmt.Fprintf(stdout, "live heap %d MB (%.0f bytes an entry), %d GC cycles so far\n",
		ms0.HeapAlloc>>20, float64(ms0.HeapAlloc)/float64(f.entries), ms0.NumGC)
	if _, err := hammer(ctx, f.concurrency, time.Second, func(*rand.Rand) string { return base + "/entries?limit=10" }); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if f.cpuprofile != "" {
		stop, err := startCPUProfile(f.cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if f.mutexprof != "" {
		runtime.SetMutexProfileFraction(5)
		defer runtime.SetMutexProfileFraction(0)
	}
	n := f.entries
	for _, ep := range []struct {
		name string
		path func(r *rand.Rand) string
	}{
		{"top-10", func(*rand.Rand) string { return base + "/entries?limit=10" }},
		{"around-me (5)", func(r *rand.Rand) string { return base + "/players/" + benchPlayer(r.IntN(n)) + "/around?n=5" }},
		{"player rank", func(r *rand.Rand) string { return base + "/players/" + benchPlayer(r.IntN(n)) }},
	} {
		res, err := hammer(ctx, f.concurrency, f.duration, ep.path)
		if err != nil {
			return fmt.Errorf("%s: %w", ep.name, err)
		}
		fmt.Fprintf(stdout, "%-14s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  (%d requests, %d errors)\n",
			ep.name, res.rate, ms(res.p50), ms(res.p99), res.count, res.errors)
	}
	if err := writeProfile("mutex", f.mutexprof); err != nil {
		return err
	}
	if err := writeProfile("heap", f.memprofile); err != nil {
		return err
	}
	if f.updates > 0 {
		r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		t0 := time.Now()
		for i := range f.updates {
			a, b := r.IntN(n), r.IntN(n)
			if a == b {
				b = (a + 1) % n
			}
			m := leaderboard.Match{ID: fmt.Sprintf("bench-%d-%d", t0.UnixNano(), i), Mode: "duel", StartedAt: time.Now().Add(-time.Minute), EndedAt: time.Now(),
				Players: []leaderboard.Result{
					{PlayerID: benchPlayer(a), Name: "bench", Team: 1, Placement: 1, Stats: map[string]float64{"eliminations": 3}},
					{PlayerID: benchPlayer(b), Name: "bench", Team: 2, Placement: 2, Stats: map[string]float64{"eliminations": 1}},
				}}
			if _, err := part.Index.ApplyOutcome(ctx, m); err != nil {
				return fmt.Errorf("apply outcome: %w", err)
			}
		}
		took := time.Since(t0)
		fmt.Fprintf(stdout, "score updates  %8.0f outcomes/s (%d duels, each moving 2 players on every board)\n",
			float64(f.updates)/took.Seconds(), f.updates)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func benchPlayer(i int) string { return fmt.Sprintf("bench-%08d", i) }

// benchEntries yields n entries with many tied scores.
func benchEntries(n int) iter.Seq[leaderboard.Entry] {
	return func(yield func(leaderboard.Entry) bool) {
		t0 := time.Unix(1_750_000_000, 0).UTC()
		for i := range n {
			e := leaderboard.Entry{PlayerID: benchPlayer(i), Name: fmt.Sprintf("player %d", i),
				Score: float64((i * 7919) % (n/3 + 1)), Updated: t0.Add(time.Duration(i%100_000) * time.Second)}
			if !yield(e) {
				return
			}
		}
	}
}

type hammerResult struct {
	count, errors int
	rate          float64
	p50, p99      time.Duration
}

// hammer sends GETs from `workers` goroutines for d and measures them.
func hammer(ctx context.Context, workers int, d time.Duration, path func(*rand.Rand) string) (hammerResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			lat := make([]time.Duration, 0, 1<<16)
			bad := 0
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", path(r), nil)
				t := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						bad++
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad++
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	took := time.Since(start)
	if len(all) == 0 {
		return hammerResult{}, fmt.Errorf("no successful requests (%d errors)", errs)
	}
	slices.Sort(all)
	return hammerResult{count: len(all), errors: errs, rate: float64(len(all)) / took.Seconds(),
		p50: all[len(all)/2], p99: all[len(all)*99/100]}, nil
}
