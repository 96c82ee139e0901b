package loadtest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// meter measures tick durations (HDR histogram), process CPU and RSS over
// one step.
type meter struct {
	ticks *hdrhistogram.Histogram
	cpu0  time.Duration
	t0    time.Time
}

func newMeter() *meter {
	return &meter{ticks: hdrhistogram.New(1, 10_000_000, 3), cpu0: cpuTime(), t0: time.Now()}
}

func (m *meter) tick(d time.Duration) { _ = m.ticks.RecordValue(max(d.Microseconds(), 1)) }

func (m *meter) result(n int, elapsed time.Duration) StepResult {
	return StepResult{
		Connections: n,
		TickP50:     time.Duration(m.ticks.ValueAtQuantile(50)) * time.Microsecond,
		TickP99:     time.Duration(m.ticks.ValueAtQuantile(99)) * time.Microsecond,
		CPU:         float64(cpuTime()-m.cpu0) / float64(time.Since(m.t0)),
		RSSMiB:      float64(rss()) / (1 << 20),
		Elapsed:     elapsed,
	}
}

// cpuTime is the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the 1-minute load average from /proc/loadavg (0
// elsewhere).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// rss is the resident set size from /proc/self/status (0 elsewhere).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
