package agones

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes a Driver; zero fields take the defaults shown.
type Config struct {
	// HealthInterval is the time between health pings (2 s). Keep it well
	// under the Fleet's health.periodSeconds: the sidecar counts a failure
	// for every period without a ping.
	HealthInterval time.Duration
	// StallAfter is how long a running room may go without finishing a
	// tick before health pings stop (3 s): a stalled room loop makes Agones
	// mark the GameServer Unhealthy and replace the pod.
	StallAfter time.Duration
	// SyncInterval is how often room and player counts are read and the
	// Allocated/Ready state follows them (500 ms).
	SyncInterval time.Duration
	// MinBackoff and MaxBackoff bound the waits between retries of a
	// failed sidecar call (100 ms doubling to 5 s, with jitter).
	MinBackoff, MaxBackoff time.Duration
	// PublishTimeout bounds the wait, once every room has ended, for the
	// outbox to be empty before Shutdown is sent anyway (60 s; keep the
	// drain timeout plus this under terminationGracePeriodSeconds).
	PublishTimeout time.Duration
	// ShutdownTimeout bounds the retries of POST /shutdown (10 s).
	ShutdownTimeout time.Duration
	// RoomsCounter and PlayersCounter name the Counters that hold the
	// room and player counts ("rooms", "players"). A counter the
	// GameServer does not declare falls back to the label
	// agones.dev/sdk-<name>.
	RoomsCounter, PlayersCounter string
	// Capacity is the most players the gameserver hosts; it becomes both
	// counters' capacity (0: leave the Fleet's capacities).
	Capacity int
}

func (c *Config) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.HealthInterval, 2*time.Second)
	def(&c.StallAfter, 3*time.Second)
	def(&c.SyncInterval, 500*time.Millisecond)
	def(&c.MinBackoff, 100*time.Millisecond)
	def(&c.MaxBackoff, 5*time.Second)
	def(&c.PublishTimeout, 60*time.Second)
	def(&c.ShutdownTimeout, 10*time.Second)
	if c.RoomsCounter == "" {
		c.RoomsCounter = "rooms"
	}
	if c.PlayersCounter == "" {
		c.PlayersCounter = "players"
	}
}

// Rooms is what the Driver reads of the gameserver's rooms; the room
// manager (room.Manager) implements it.
type Rooms interface {
	// Load is the rooms hosted, the seats in them, and whether shutdown
	// has begun.
	Load() (rooms, seats int, draining bool)
	// Stalled counts the running rooms that have not finished a tick for
	// longer than after.
	Stalled(after time.Duration) int
}

// Outbox is what the Driver reads of the outcome outbox: how many
// outcomes wait to be published (outbox.Outbox implements it).
type Outbox interface {
	Pending(ctx context.Context) (int, error)
}

// Driver walks one GameServer through its Agones lifecycle. Make one with
// New, call Public for the address to advertise, then Run.
type Driver struct {
	cfg Config
	sdk *Client
	log *slog.Logger

	stalled prometheus.Gauge
	errs    *prometheus.CounterVec
}

// New checks the configuration; it starts nothing. log nil discards
// logs. Register adds its metrics to a registry.
func New(cfg Config, sdk *Client, log *slog.Logger) (*Driver, error) {
	if sdk == nil {
		return nil, errors.New("agones: a sidecar client is required")
	}
	if cfg.Capacity < 0 {
		return nil, fmt.Errorf("agones: capacity %d: must not be negative", cfg.Capacity)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.fill()
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("agones: backoff %v to %v: want min <= max", cfg.MinBackoff, cfg.MaxBackoff)
	}
	d := &Driver{cfg: cfg, sdk: sdk, log: log,
		stalled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skirmish_gameserver_agones_stalled_rooms",
			Help: "Running rooms that have not finished a tick for the stall allowance; Agones health pings stop while it is above 0.",
		}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_agones_sidecar_errors_total",
			Help: "Calls to the Agones SDK sidecar that failed (and are retried), by call.",
		}, []string{"call"}),
	}
	return d, nil
}

// Register registers the driver's metrics with reg (the gameserver's
// registry): skirmish_gameserver_agones_stalled_rooms and
// skirmish_gameserver_agones_sidecar_errors_total{call}.
func (d *Driver) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{d.stalled, d.errs} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("agones: register metrics: %w", err)
		}
	}
	return nil
}

// Public reads GET /gameserver until the sidecar answers with the
// GameServer's public address, retrying with backoff while the sidecar is
// not up yet, fails or has no address yet (logged once). It returns an
// error only when ctx ends.
func (d *Driver) Public(ctx context.Context) (*GameServer, error) {
	var gs *GameServer
	err := d.retry(ctx, "gameserver", "read the GameServer from the Agones sidecar", func(ctx context.Context) error {
		g, err := d.sdk.GameServer(ctx)
		if err != nil {
			return err
		}
		if g.Status.Address == "" {
			return fmt.Errorf("GameServer %q (state %q) has no address yet", g.ObjectMeta.Name, g.Status.State)
		}
		gs = g
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.log.Info("agones: GameServer found", "name", gs.ObjectMeta.Name, "state", gs.Status.State, "address", gs.Status.Address)
	return gs, nil
}

// HostPort is address:port of the host port named name, as players reach
// it; an error when the GameServer has no such port.
func (gs *GameServer) HostPort(name string) (string, error) {
	p := gs.Port(name)
	if p == 0 {
		names := make([]string, 0, len(gs.Status.Ports))
		for _, p := range gs.Status.Ports {
			names = append(names, p.Name)
		}
		return "", fmt.Errorf("agones: GameServer %q has no port named %q (ports: %v)", gs.ObjectMeta.Name, name, names)
	}
	return net.JoinHostPort(gs.Status.Address, strconv.Itoa(int(p))), nil
}

// Run serves under Agones. It starts serve (the gameserver: it serves
// until its ctx ends, then drains its rooms and returns), pings health
// while no room is stalled, sends Ready, keeps Allocated while rooms are
// hosted and Ready when none are, and keeps the counts in Counters. When
// ctx ends (SIGTERM) or the watched GameServer turns Shutdown, it ends
// serve's context so no new rooms are taken and running matches finish up
// to their drain deadline; once serve has returned it waits until the
// outbox is empty (up to PublishTimeout), and only then sends Shutdown.
// It returns serve's error. Sidecar failures are retried and logged, never
// returned.
func (d *Driver) Run(ctx context.Context, rooms Rooms, ob Outbox, serve func(context.Context) error) error {
	if rooms == nil || serve == nil {
		return errors.New("agones: rooms and serve are required")
	}
	// The loops talk to the sidecar until Shutdown is sent, after ctx has
	// ended: they run on a context of their own.
	loops, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLoops()
	var wg sync.WaitGroup
	defer wg.Wait()

	serveCtx, drain := context.WithCancel(context.WithoutCancel(ctx))
	defer drain()
	served := make(chan error, 1)
	go func() { served <- serve(serveCtx) }()

	firstPing := make(chan struct{})
	wg.Go(func() { d.health(loops, rooms, sync.OnceFunc(func() { close(firstPing) })) })
	shutdownSeen := make(chan struct{})
	wg.Go(func() { d.watch(loops, shutdownSeen) })
	stateCtx, stopState := context.WithCancel(loops)
	defer stopState()
	var state sync.WaitGroup
	state.Go(func() {
		// Health pings come first, before Ready, as the sidecar expects.
		select {
		case <-firstPing:
		case <-stateCtx.Done():
			return
		}
		d.state(stateCtx, rooms)
	})

	var err error
	done := false
	select {
	case <-ctx.Done():
		d.log.Info("agones: stopping (signal): draining rooms")
	case <-shutdownSeen:
		d.log.Info("agones: GameServer is Shutdown: draining rooms")
	case err = <-served:
		done = true
		d.log.Error("agones: gameserver stopped on its own", "err", err)
	}
	drain()
	if !done {
		err = <-served
	}
	// Every room has ended and its outcome is in the outbox; the pod's
	// disk goes with it, so the outbox must be empty before Shutdown.
	d.awaitOutbox(loops, ob)
	stopState()
	state.Wait()
	d.shutdown(loops)
	stopLoops()
	return err
}

// health pings every HealthInterval, from the start (before Ready) until
// ctx ends, except while a room is stalled. It calls first after its
// first attempt.
func (d *Driver) health(ctx context.Context, rooms Rooms, first func()) {
	defer first()
	t := time.NewTicker(d.cfg.HealthInterval)
	defer t.Stop()
	trouble := d.trouble("health", "agones: health ping")
	stalled := false
	for {
		n := rooms.Stalled(d.cfg.StallAfter)
		d.stalled.Set(float64(n))
		switch {
		case n > 0:
			if !stalled {
				d.log.Error("agones: room loop stalled: health pings stop, so Agones marks this GameServer Unhealthy", "rooms", n, "after", d.cfg.StallAfter)
				stalled = true
			}
		default:
			if stalled {
				d.log.Warn("agones: no room is stalled any more: health pings resume")
				stalled = false
			}
			err := d.sdk.Health(ctx)
			if ctx.Err() != nil {
				return // stopped after Shutdown: not a failure
			}
			trouble.result(ctx, err)
		}
		first()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watch follows GET /watch/gameserver, reconnecting with backoff, and
// closes shutdown when the state turns Shutdown.
func (d *Driver) watch(ctx context.Context, shutdown chan<- struct{}) {
	var once sync.Once
	trouble := d.trouble("watch", "agones: watch GameServer")
	b := d.backoff()
	last := ""
	for ctx.Err() == nil {
		err := d.sdk.Watch(ctx, func(gs *GameServer) {
			trouble.result(ctx, nil)
			b = d.backoff()
			st := gs.Status.State
			if st != last {
				d.log.Debug("agones: GameServer state", "state", st)
				if st == StateUnhealthy {
					d.log.Error("agones: GameServer is Unhealthy; Agones will replace it")
				}
				last = st
			}
			if st == StateShutdown {
				once.Do(func() { close(shutdown) })
			}
		})
		if ctx.Err() != nil {
			return
		}
		trouble.result(ctx, err)
		if !sleep(ctx, b.next()) {
			return
		}
	}
}

// state sets the counters' capacity, sends Ready, then keeps Allocated or
// Ready and the counts in step with the rooms until ctx ends. Once the
// rooms drain it stops changing the state but still updates the counts.
func (d *Driver) state(ctx context.Context, rooms Rooms) {
	names := []string{d.cfg.RoomsCounter, d.cfg.PlayersCounter}
	useLabel := map[string]bool{}
	if d.cfg.Capacity > 0 {
		for _, name := range names {
			err := d.retry(ctx, "counter", "agones: set counter "+name+" capacity", func(ctx context.Context) error {
				_, err := d.sdk.SetCounterCapacity(ctx, name, int64(d.cfg.Capacity))
				if IsNotFound(err) {
					useLabel[name] = true
					return nil
				}
				return err
			})
			if err != nil {
				return
			}
			if useLabel[name] {
				d.log.Info("agones: the GameServer declares no counter; the count goes in a label instead", "counter", name, "label", "agones.dev/sdk-"+name)
			}
		}
	}
	sent := false
	err := d.retry(ctx, "ready", "agones: Ready", func(ctx context.Context) error {
		if _, _, draining := rooms.Load(); draining {
			return nil // stopping before Ready: never Ready
		}
		err := d.sdk.Ready(ctx)
		sent = err == nil
		return err
	})
	if err != nil {
		return
	}
	if sent {
		d.log.Info("agones: Ready sent")
	}

	t := time.NewTicker(d.cfg.SyncInterval)
	defer t.Stop()
	// told is the state the sidecar last confirmed: Ready or Allocated.
	// A state call that fails makes it unknown (""), as the sidecar may
	// have applied the call and only the answer been lost (a cut
	// connection, a crash right after): neither the old state nor the new
	// one may be assumed. The next tick sends the call the rooms want by
	// then, whichever it is.
	told := StateReady
	counts := map[string]int{d.cfg.RoomsCounter: -1, d.cfg.PlayersCounter: -1}
	trouble := d.trouble("state", "agones: update state and counts")
	for {
		n, seats, draining := rooms.Load()
		var err error
		for name, v := range map[string]int{d.cfg.RoomsCounter: n, d.cfg.PlayersCounter: seats} {
			if counts[name] == v {
				continue
			}
			var e error
			if useLabel[name] {
				e = d.sdk.SetLabel(ctx, name, strconv.Itoa(v))
			} else {
				_, e = d.sdk.SetCounter(ctx, name, int64(v))
			}
			if e == nil {
				counts[name] = v
			}
			err = errors.Join(err, e)
		}
		want, call, msg := StateReady, d.sdk.Ready, "agones: Ready: no rooms left"
		if n > 0 {
			want, call, msg = StateAllocated, d.sdk.Allocate, "agones: Allocated: hosting rooms"
		}
		if !draining && told != want {
			e := call(ctx)
			told = ""
			if e == nil {
				told = want
				d.log.Info(msg, "rooms", n)
			}
			err = errors.Join(err, e)
		}
		if ctx.Err() != nil {
			return
		}
		trouble.result(ctx, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// awaitOutbox waits until ob has nothing left to publish, or
// PublishTimeout.
func (d *Driver) awaitOutbox(ctx context.Context, ob Outbox) {
	if ob == nil {
		return
	}
	deadline := time.NewTimer(d.cfg.PublishTimeout)
	defer deadline.Stop()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	logged := false
	for {
		n, err := ob.Pending(ctx)
		if err == nil && n == 0 {
			d.log.Info("agones: outbox published")
			return
		}
		if !logged {
			d.log.Info("agones: waiting for the outbox to be published before Shutdown", "pending", n, "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			d.log.Error("agones: outbox not empty at Shutdown: these outcomes go with the pod", "pending", n, "err", err, "waited", d.cfg.PublishTimeout)
			return
		case <-t.C:
		}
	}
}

// shutdown sends POST /shutdown, retrying up to ShutdownTimeout.
func (d *Driver) shutdown(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, d.cfg.ShutdownTimeout)
	defer cancel()
	if err := d.retry(sctx, "shutdown", "agones: Shutdown", d.sdk.Shutdown); err != nil {
		d.log.Error("agones: Shutdown not sent; Agones replaces the pod when it exits", "err", err)
		return
	}
	d.log.Info("agones: Shutdown sent")
}

// retry calls fn until it succeeds or ctx ends, waiting with backoff; the
// first failure is logged at warning level, the rest at debug, recovery
// at info. It returns ctx's error when ctx ends first.
func (d *Driver) retry(ctx context.Context, call, what string, fn func(context.Context) error) error {
	trouble := d.trouble(call, what)
	b := d.backoff()
	for {
		cctx, cancel := context.WithTimeout(ctx, d.cfg.MaxBackoff+5*time.Second)
		err := fn(cctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		trouble.result(ctx, err)
		if err == nil {
			return nil
		}
		if !sleep(ctx, b.next()) {
			return ctx.Err()
		}
	}
}

// trouble logs a repeated operation's failures once: the first failure
// in a row at warning level, the next ones at debug level, and the
// recovery at info level.
type trouble struct {
	log     *slog.Logger
	what    string
	errs    prometheus.Counter
	failing bool
}

// trouble tracks the failures of one kind of call (the metric's call
// label) described as what in logs.
func (d *Driver) trouble(call, what string) *trouble {
	return &trouble{log: d.log, what: what, errs: d.errs.WithLabelValues(call)}
}

func (t *trouble) result(ctx context.Context, err error) {
	if err != nil {
		t.errs.Inc()
	}
	switch {
	case err != nil && !t.failing:
		t.failing = true
		t.log.Warn(t.what+" failed; retrying with backoff (logged once until it works)", "err", err)
	case err != nil:
		t.log.Log(ctx, slog.LevelDebug, t.what+" failed again", "err", err)
	case t.failing:
		t.failing = false
		t.log.Info(t.what + " works again")
	}
}

type backoff struct {
	cur, max time.Duration
}

func (d *Driver) backoff() *backoff {
	return &backoff{cur: d.cfg.MinBackoff, max: d.cfg.MaxBackoff}
}

// next is the wait before the next attempt: doubling, capped, with up to
// 20% jitter taken off.
func (b *backoff) next() time.Duration {
	w := b.cur
	b.cur = min(2*b.cur, b.max)
	return w - time.Duration(rand.Int64N(int64(w)/5+1))
}

// sleep waits for d or the end of ctx; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
