package ratelimit

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestBurstThenRate: a full bucket lets burst events through at once, the
// next one only an interval later.
func TestBurstThenRate(t *testing.T) {
	l := New(60, 30)
	t0 := l.origin
	for i := range 30 {
		if !l.Allow(t0) {
			t.Fatalf("event %d of the burst refused", i)
		}
	}
	if l.Allow(t0) {
		t.Fatal("event past the burst allowed")
	}
	if l.Allow(t0.Add(time.Duration(l.interval - 1))) {
		t.Fatal("event allowed before a token came back")
	}
	if !l.Allow(t0.Add(time.Duration(l.interval))) {
		t.Fatal("event refused once a token came back")
	}
	// An idle bucket refills to its burst, no further.
	later := t0.Add(time.Hour)
	for i := range 30 {
		if !l.Allow(later) {
			t.Fatalf("event %d of the refilled burst refused", i)
		}
	}
	if l.Allow(later) {
		t.Fatal("an idle bucket held more than its burst")
	}
}

// TestClockBeforeNew: a time read before the limiter was made counts as
// the moment it was made, so the bucket starts full either way.
func TestClockBeforeNew(t *testing.T) {
	before := time.Now().Add(-time.Second)
	l := New(1, 1)
	if !l.Allow(before) {
		t.Fatal("a full bucket refused an event dated before New")
	}
	if l.Allow(before) {
		t.Fatal("a second event allowed with burst 1")
	}
}

// TestAsTokenBucket: over random event times, Allow answers as
// golang.org/x/time/rate's token bucket of the same burst does, at the rate
// of a whole number of nanoseconds per event.
func TestAsTokenBucket(t *testing.T) {
	for _, c := range []struct {
		perSecond float64
		burst     int
	}{{60, 30}, {120, 240}, {30, 1}, {1, 5}, {1000, 10}, {7, 3}} {
		l := New(c.perSecond, c.burst)
		ref := rate.NewLimiter(rate.Limit(float64(time.Second)/float64(l.interval)), c.burst)
		rng := rand.New(rand.NewPCG(uint64(c.perSecond), uint64(c.burst)))
		now := l.origin
		ref.AllowN(now, 0) // the reference's clock starts with ours
		mean := float64(time.Second) / c.perSecond
		allowed := 0
		for i := range 20000 {
			// Bursts, then gaps: from 0 to 3 intervals, to the nanosecond.
			now = now.Add(time.Duration(rng.Float64() * rng.Float64() * 3 * mean))
			got, want := l.Allow(now), ref.AllowN(now, 1)
			if got != want {
				t.Fatalf("rate %v burst %d, event %d at %v: Allow %v, x/time/rate %v", c.perSecond, c.burst, i, now.Sub(l.origin), got, want)
			}
			if got {
				allowed++
			}
		}
		if allowed == 0 || allowed == 20000 {
			t.Fatalf("rate %v burst %d: %d of 20000 allowed; the test's times do not reach the limit", c.perSecond, c.burst, allowed)
		}
	}
}

// TestConcurrent: goroutines sharing one limiter at one instant get
// exactly the burst between them.
func TestConcurrent(t *testing.T) {
	l := New(10, 500)
	now := l.origin
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if l.Allow(now) {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 500 {
		t.Fatalf("%d allowed, want the burst, 500", n)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, c := range []struct {
		perSecond float64
		burst     int
	}{{0, 1}, {-1, 1}, {1, 0}, {math.NaN(), 1}, {math.Inf(1), 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%v, %d) did not panic", c.perSecond, c.burst)
				}
			}()
			New(c.perSecond, c.burst)
		}()
	}
}

// BenchmarkAllow compares one event against x/time/rate's AllowN, each
// given the caller's clock.
func BenchmarkAllow(b *testing.B) {
	now := time.Now()
	b.Run("gcra", func(b *testing.B) {
		l := New(1e9, 1)
		for i := 0; b.Loop(); i++ {
			l.Allow(now.Add(time.Duration(i)))
		}
	})
	b.Run("x-time-rate", func(b *testing.B) {
		l := rate.NewLimiter(1e9, 1)
		for i := 0; b.Loop(); i++ {
			l.AllowN(now.Add(time.Duration(i)), 1)
		}
	})
}

func TestZeroLimiterAllowsAll(t *testing.T) {
	var l Limiter
	now := time.Now()
	for i := range 1000 {
		if !l.Allow(now) {
			t.Fatalf("the zero Limiter refused event %d", i)
		}
	}
}

// TestExtremeSettings: a rate of one event in centuries, or a huge burst,
// still limits (the interval is cut rather than overflowing).
func TestExtremeSettings(t *testing.T) {
	for _, c := range []struct {
		perSecond float64
		burst     int
	}{{1e-12, 1}, {1.0 / 3600, 3_000_000}, {1e-300, 1 << 20}} {
		l := New(c.perSecond, c.burst)
		now := l.origin
		allowed := 0
		for range c.burst + 10 {
			if l.Allow(now) {
				allowed++
			}
			now = now.Add(time.Microsecond)
		}
		if allowed != c.burst {
			t.Errorf("New(%v, %d): %d allowed at once, want the burst", c.perSecond, c.burst, allowed)
		}
	}
}
