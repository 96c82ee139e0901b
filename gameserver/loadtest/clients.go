package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// The clients of a measurement run in a process of their own (`skirmish
// loadtest -role clients`), so that the server's CPU and memory are
// measured alone. The measuring process writes one Job as JSON on the
// clients' stdin; they connect, print "ready", wait for "go" on stdin,
// play or read for Job.Duration, and print one ClientResult as JSON.

// Job tells a client process what to do.
type Job struct {
	// Mode is "bare" (n readers that count messages), "bots" (one bot per
	// token, sending one input per tick that carries the ack) or "idle"
	// (join with each token, then send nothing).
	Mode     string        `json:"mode"`
	URL      string        `json:"url"`
	N        int           `json:"n"` // bare: connections
	Tokens   []string      `json:"tokens"`
	Duration time.Duration `json:"duration"`
	// Full: bots never acknowledge, so every snapshot is full.
	Full bool `json:"full"`
	// InputsPerMessage: bots send their inputs this many to a message.
	InputsPerMessage int `json:"inputs_per_message"`
	// Echo: bare readers also send one 30-byte message per tick each.
	Echo bool `json:"echo"`
	// WebTransportURL, when set, makes the clients connect over
	// WebTransport there instead of over WebSocket at URL; CertHash is the
	// SHA-256 of the server's self-signed certificate.
	WebTransportURL string `json:"webtransport_url"`
	CertHash        []byte `json:"cert_hash"`
	// Nice is the client process's scheduling priority (0 to 19).
	Nice int `json:"nice"`
	// Procs, above 0, is the client process's GOMAXPROCS. With one P the
	// goroutines hand off on one thread, without waking idle threads: on 2
	// cores that makes BenchmarkPlayerTick (clients/go/skirmish) a fifth
	// to a quarter cheaper per player-tick; the clients then run Go code
	// on at most one core. 0 leaves the default.
	Procs int `json:"procs"`
}

// ClientResult is what a client process measured.
type ClientResult struct {
	Messages  int64         `json:"messages"` // bare: messages; bots: snapshots
	Bytes     int64         `json:"bytes"`
	LatP50    time.Duration `json:"lat_p50"`
	LatP99    time.Duration `json:"lat_p99"`
	Errors    int           `json:"errors"`
	Elapsed   time.Duration `json:"elapsed"`
	Connected int           `json:"connected"`
	CPU       float64       `json:"cpu"` // cores the client process used
}

// RunClients is the client process: it reads a Job from in and writes
// "ready" and then its ClientResult to out.
func RunClients(ctx context.Context, in io.Reader, out io.Writer) error {
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read job: %w", err)
	}
	var job Job
	if err := json.Unmarshal(line, &job); err != nil {
		return fmt.Errorf("decode job: %w", err)
	}
	if job.Procs < 0 {
		return fmt.Errorf("procs %d: want 0 (the default) or more", job.Procs)
	}
	if job.Procs > 0 {
		runtime.GOMAXPROCS(job.Procs)
	}
	if job.Nice != 0 {
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, job.Nice); err != nil {
			return fmt.Errorf("nice %d: %w", job.Nice, err)
		}
	}
	start := func() error {
		fmt.Fprintln(out, "ready")
		if _, err := r.ReadString('\n'); err != nil {
			return fmt.Errorf("wait for go: %w", err)
		}
		return nil
	}
	// The client process is a load generator: it trades memory for less
	// garbage collection, so that more of the machine is left to the
	// server it measures.
	debug.SetGCPercent(400)
	// report writes the result, then holds the connections until the
	// measuring process has read its figures and closes stdin: the
	// server's handling of a thousand disconnections is not part of the
	// step it measured (it made rooms skip ticks at the step's end).
	report := func(res ClientResult) error {
		if err := json.NewEncoder(out).Encode(res); err != nil {
			return err
		}
		_, err := io.Copy(io.Discard, r)
		return err
	}
	switch job.Mode {
	case "bare":
		if job.WebTransportURL != "" {
			return bareDatagramClients(ctx, job, start, report)
		}
		return bareClients(ctx, job, start, report)
	case "bots", "idle":
		return botClients(ctx, job, start, report)
	}
	return fmt.Errorf("unknown mode %q", job.Mode)
}

func bareClients(ctx context.Context, job Job, start func() error, report func(ClientResult) error) error {
	var received atomic.Int64
	var readers sync.WaitGroup
	d := &websocket.Dialer{ReadBufferSize: 512, WriteBufferSize: 256}
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
	}()
	for range job.N {
		c, _, err := d.DialContext(ctx, job.URL, nil)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		readers.Go(func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
				received.Add(1)
			}
		})
	}
	if err := start(); err != nil {
		return err
	}
	r0, t0, cpu0 := received.Load(), time.Now(), cpuTime()
	pctx, cancel := context.WithTimeout(ctx, job.Duration)
	defer cancel()
	var senders sync.WaitGroup
	if job.Echo {
		// Like the bots: 32 phase clocks, one message per connection per
		// tick, about the size of an input carrying its ack.
		msg := make([]byte, 30)
		groups := make([][]*websocket.Conn, phases)
		for _, c := range conns {
			k := rand.IntN(phases)
			groups[k] = append(groups[k], c)
		}
		for k := range phases {
			senders.Go(func() {
				onPhase(pctx, k, func() {
					for _, c := range groups[k] {
						c.WriteMessage(websocket.BinaryMessage, msg)
					}
				})
			})
		}
	}
	<-pctx.Done()
	senders.Wait()
	return report(ClientResult{Messages: received.Load() - r0, Elapsed: time.Since(t0), Connected: len(conns),
		CPU: float64(cpuTime()-cpu0) / float64(time.Since(t0))})
}

func botClients(ctx context.Context, job Job, start func() error, report func(ClientResult) error) error {
	var snapshots, bytes atomic.Int64
	var mu sync.Mutex
	latency := hdrhistogram.New(1, 10_000_000, 3)
	dialer := &websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 512}
	// Bots join 16 at a time: far past capacity the rooms already playing
	// slow every join down, and rooms give up seats not taken within the
	// join timeout.
	joined := make([]*skirmish.Game, len(job.Tokens))
	var joinErrs atomic.Int64
	var joining sync.WaitGroup
	slots := make(chan struct{}, 16)
	for i, tok := range job.Tokens {
		slots <- struct{}{}
		joining.Go(func() {
			defer func() { <-slots }()
			opts := skirmish.JoinOptions{
				Dialer:           dialer,
				NoAcks:           job.Full,
				InputsPerMessage: job.InputsPerMessage,
				OnSnapshot: func(_ *skirmish.World, size int) {
					snapshots.Add(1)
					bytes.Add(int64(size))
				},
				OnInputApplied: func(_ uint32, d time.Duration) {
					mu.Lock()
					_ = latency.RecordValue(max(d.Microseconds(), 1))
					mu.Unlock()
				},
			}
			if job.WebTransportURL != "" {
				opts.Transport = skirmish.TransportWebTransport
				opts.WebTransport = skirmish.WebTransportOptions{URL: job.WebTransportURL, CertHashes: [][]byte{job.CertHash}}
			}
			g, err := skirmish.Join(ctx, &skirmishv1.Assignment{WebsocketUrl: job.URL, JoinToken: tok}, opts)
			if err != nil {
				// The step reports failed joins as errors and their seats
				// as undelivered rather than ending.
				if joinErrs.Add(1) == 1 {
					fmt.Fprintf(os.Stderr, "loadtest clients: join %d: %v (further join errors are only counted)\n", i, err)
				}
				return
			}
			joined[i] = g
		})
	}
	joining.Wait()
	var games []*skirmish.Game
	for _, g := range joined {
		if g != nil {
			games = append(games, g)
		}
	}
	defer func() {
		for _, g := range games {
			g.Close()
		}
	}()
	if len(games) == 0 && len(job.Tokens) > 0 {
		return fmt.Errorf("no bot could join (%d tried)", len(job.Tokens))
	}
	if err := start(); err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, job.Duration)
	defer cancel()
	var bots sync.WaitGroup
	var errs atomic.Int64
	s0, b0, t0, cpu0 := snapshots.Load(), bytes.Load(), time.Now(), cpuTime()
	if job.Mode == "bots" {
		// Bots are spread over phases of the tick period, one goroutine
		// and one ticker per phase rather than per bot: players' clocks
		// are not aligned with the server's, and the load generator
		// should spend its CPU on the bots' messages, not on timers.
		groups := make([][]*bot.Brain, phases)
		members := make([][]*skirmish.Game, phases)
		for i, g := range games {
			k := rand.IntN(phases)
			groups[k] = append(groups[k], bot.NewBrain(g.Welcome().GetEntityId(), int64(i)))
			members[k] = append(members[k], g)
		}
		for k := range phases {
			bots.Go(func() { play(pctx, k, members[k], groups[k], &errs) })
		}
	}
	<-pctx.Done()
	bots.Wait()
	mu.Lock()
	res := ClientResult{
		Messages: snapshots.Load() - s0, Bytes: bytes.Load() - b0, Elapsed: time.Since(t0),
		CPU:       float64(cpuTime()-cpu0) / float64(time.Since(t0)),
		LatP50:    time.Duration(latency.ValueAtQuantile(50)) * time.Microsecond,
		LatP99:    time.Duration(latency.ValueAtQuantile(99)) * time.Microsecond,
		Errors:    int(joinErrs.Load() + errs.Load()),
		Connected: len(games),
	}
	mu.Unlock()
	return report(res)
}

// phases is how many evenly spaced phases of the tick period bots send
// their inputs at.
const phases = 32

// onPhase calls f once per tick at k/phases of the period until ctx ends.
func onPhase(ctx context.Context, k int, f func()) {
	period := time.Second / 30
	select {
	case <-ctx.Done():
		return
	case <-time.After(period * time.Duration(k) / phases):
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// play runs the bots of phase k: each sends one input per tick, at k/phases
// of the period. A bot whose connection ended counts one error and stops.
func play(ctx context.Context, k int, games []*skirmish.Game, brains []*bot.Brain, errs *atomic.Int64) {
	live := make([]bool, len(games))
	for i := range live {
		live[i] = true
	}
	onPhase(ctx, k, func() {
		for i, g := range games {
			if !live[i] {
				continue
			}
			mx, my, aim, fire := brains[i].Decide(g.World())
			if _, err := g.SendArena(mx, my, aim, fire); err != nil {
				live[i] = false
				errs.Add(1)
			}
		}
	})
}

// clientProc is a running client process.
type clientProc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	done chan error
	// killOnce: kill may be called more than once (deferred, and early).
	killOnce sync.Once
}

// startClients starts the client process (command and its arguments) and
// hands it job; it returns once the clients are connected.
func startClients(ctx context.Context, command []string, job Job) (*clientProc, error) {
	if len(command) == 0 {
		return nil, fmt.Errorf("no client command")
	}
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start clients: %w", err)
	}
	p := &clientProc{cmd: cmd, in: in, out: bufio.NewReader(outPipe), done: make(chan error, 1)}
	b, _ := json.Marshal(job)
	if _, err := in.Write(append(b, '\n')); err != nil {
		p.kill()
		return nil, fmt.Errorf("send job: %w", err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil || line != "ready\n" {
		p.kill()
		return nil, fmt.Errorf("clients did not get ready (%q): %v (client process: %v)", line, err, cmd.ProcessState)
	}
	return p, nil
}

// run says go and waits for the clients' result. The clients then hold
// their connections until kill, so that the caller reads the server's
// figures for the step before they disconnect.
func (p *clientProc) run() (ClientResult, error) {
	if _, err := io.WriteString(p.in, "go\n"); err != nil {
		return ClientResult{}, err
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return ClientResult{}, fmt.Errorf("read client result: %w", err)
	}
	var res ClientResult
	if err := json.Unmarshal(line, &res); err != nil {
		return ClientResult{}, fmt.Errorf("decode client result: %w", err)
	}
	return res, nil
}

// kill ends the client process: it gets clientExitGrace to exit by itself
// once its stdin closes (after its result, that is how it finishes, and
// writes its CPU profile), then it is killed.
func (p *clientProc) kill() { p.killOnce.Do(p.stop) }

func (p *clientProc) stop() {
	p.in.Close()
	exited := make(chan struct{})
	go func() {
		p.cmd.Wait()
		close(exited)
	}()
	select {
	case <-exited:
		return
	case <-time.After(clientExitGrace):
	}
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
	<-exited
}

// clientExitGrace is how long a client process has to exit after its
// result before it is killed.
const clientExitGrace = 5 * time.Second
