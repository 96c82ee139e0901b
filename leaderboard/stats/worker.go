// Package stats is the stats worker: it consumes match outcomes from the
// queue and applies each to the leaderboard store exactly once in effect.
//
// Each poller long-polls for up to ten messages, applies every outcome in
// its own store transaction (idempotent by match id, so a redelivery
// changes nothing), then deletes in one batch the messages whose outcome is
// committed: pollers hand the receipt handles of committed outcomes to
// deleters, which delete up to ten at a time, merging what several batches
// committed, while the poller goes back to receiving. The outcomes of a batch are applied one at a time by default
// (SQLite has one writer) or several at once (Config.Appliers) on a store
// that takes concurrent writers, such as PostgreSQL. A message that does not decode, or that the store rejects as
// invalid, is left alone: the queue redelivers it until its receive count
// moves it to the dead-letter queue.
package stats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// Config configures the worker.
type Config struct {
	// Pollers is how many batches are in hand at once. Default 4, so that
	// receiving, applying and deleting of different batches overlap.
	Pollers int
	// Appliers is how many outcomes of one batch are applied at once, each
	// in its own transaction. Default 1, right for SQLite, which has one
	// writer; on PostgreSQL 4 or more keeps the database busy (the pool
	// must have as many connections: pollers × appliers at most).
	Appliers int
	// Wait is how long a receive waits for the first message (long
	// polling). Default 10s; at most 20s, the SQS limit.
	Wait time.Duration
	// ApplyTimeout bounds the store work of one outcome. Default
	// DefaultApplyTimeout. The leaderboards' change poll must look back
	// further than this (rankindex.Config.Overlap).
	ApplyTimeout time.Duration
	// RetryDelay is the pause after a failed receive. Default 1s.
	RetryDelay time.Duration
	// VisibilityTimeout is the queue's: while a batch is in hand a
	// heartbeat extends the batch's visibility by this much every third of
	// it, so a slow batch is not delivered twice. Default 30s.
	VisibilityTimeout time.Duration
	// DepthInterval is how often the worker reads the queue's depth and
	// dead-letter depth for its metrics, when the queue implements
	// queue.Admin. Default 15s.
	DepthInterval time.Duration
}

func (c *Config) fill() error {
	if c.Pollers == 0 {
		c.Pollers = 4
	}
	if c.Appliers == 0 {
		c.Appliers = 1
	}
	if c.Wait == 0 {
		c.Wait = 10 * time.Second
	}
	if c.ApplyTimeout == 0 {
		c.ApplyTimeout = DefaultApplyTimeout
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = time.Second
	}
	if c.VisibilityTimeout == 0 {
		c.VisibilityTimeout = 30 * time.Second
	}
	if c.DepthInterval == 0 {
		c.DepthInterval = 15 * time.Second
	}
	switch {
	case c.Pollers < 1 || c.Pollers > 64:
		return fmt.Errorf("stats pollers %d: want 1 to 64", c.Pollers)
	case c.Appliers < 1 || c.Appliers > queue.MaxBatch:
		return fmt.Errorf("stats appliers %d: want 1 to %d", c.Appliers, queue.MaxBatch)
	case c.Wait < 0 || c.Wait > 20*time.Second:
		return fmt.Errorf("stats receive wait %v: want 0 to 20s", c.Wait)
	case c.ApplyTimeout < 0 || c.RetryDelay < 0 || c.DepthInterval < 0:
		return errors.New("stats timeouts must not be negative")
	case c.VisibilityTimeout < 300*time.Millisecond || c.VisibilityTimeout > 12*time.Hour:
		return fmt.Errorf("stats visibility timeout %v: want 300ms to 12h", c.VisibilityTimeout)
	}
	return nil
}

// DefaultApplyTimeout is the default Config.ApplyTimeout: the longest an
// outcome's transaction may take, so the longest after the database
// stamped a match that it can commit.
const DefaultApplyTimeout = 30 * time.Second

// Worker consumes match outcomes.
type Worker struct {
	cfg     Config
	q       queue.Queue
	admin   queue.Admin // nil when the queue has none
	store   leaderboard.Store
	log     *slog.Logger
	metrics *workerMetrics

	// state is where Run is (Ready): stateNew, statePolling, stateStopping.
	state atomic.Int32
	// receiveFailed is set by a failed receive and cleared by one that
	// succeeds.
	receiveFailed atomic.Bool
}

// The states of a worker's Run.
const (
	stateNew int32 = iota
	statePolling
	stateStopping
)

// Why a worker is not ready (Ready).
var (
	errNotPolling = errors.New("not polling yet")
	errStopping   = errors.New("shutting down")
	errQueueDown  = errors.New("the queue does not answer")
	errStoreDown  = errors.New("the store does not answer")
)

// New builds a worker; it registers its metrics with reg.
func New(cfg Config, q queue.Queue, store leaderboard.Store, reg *prometheus.Registry, log *slog.Logger) (*Worker, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if q == nil || store == nil || reg == nil {
		return nil, errors.New("stats: queue, store and registry are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	admin, _ := q.(queue.Admin)
	iq, err := queue.Instrument(q, reg, "stats")
	if err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg, q: iq, admin: admin, store: store, log: log, metrics: m}, nil
}

// Run polls until ctx ends. Each poller finishes the batch in hand
// (applies and deletes it) before it stops; Run returns when all have.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("stats worker started", "pollers", w.cfg.Pollers, "appliers", w.cfg.Appliers)
	w.state.Store(statePolling)
	stop := context.AfterFunc(ctx, func() { w.state.Store(stateStopping) })
	defer stop()
	var wg, pollers, deleters sync.WaitGroup
	committed := make(chan []string, w.cfg.Pollers)
	for range w.cfg.Pollers {
		pollers.Go(func() { w.poll(ctx, committed) })
	}
	for range deleterCount {
		// Deletes finish after ctx ends: the outcomes are committed.
		deleters.Go(func() { w.deleteLoop(context.WithoutCancel(ctx), committed) })
	}
	if w.admin != nil && w.cfg.DepthInterval > 0 {
		wg.Go(func() { w.watchDepth(ctx) })
	}
	pollers.Wait()
	close(committed)
	deleters.Wait()
	wg.Wait()
	w.state.Store(stateStopping)
	w.log.Info("stats worker stopped")
	return nil
}

// Ready reports whether the worker takes outcomes now: Run is polling and
// has not begun to stop, the last receive from the queue succeeded, and
// the store answers a ping. The error's text is the short reason a
// /readyz answer gives; a store's cause is logged here.
func (w *Worker) Ready(ctx context.Context) error {
	switch w.state.Load() {
	case stateNew:
		return errNotPolling
	case stateStopping:
		return errStopping
	}
	if w.receiveFailed.Load() {
		return errQueueDown
	}
	if err := w.store.Ping(ctx); err != nil {
		w.log.Warn("stats worker store not ready", "err", err)
		return errStoreDown
	}
	return nil
}

// deleterCount is how many deletes run at once.
const deleterCount = 2

func (w *Worker) poll(ctx context.Context, committed chan<- []string) {
	for ctx.Err() == nil {
		msgs, err := w.q.Receive(ctx, queue.MaxBatch, w.cfg.Wait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.receiveFailed.Store(true)
			w.metrics.receiveErrors.Inc()
			w.log.Warn("receive match outcomes", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(w.cfg.RetryDelay):
			}
			continue
		}
		w.receiveFailed.Store(false)
		if len(msgs) > 0 {
			// The batch is in hand: finish it even when ctx ends.
			w.handle(context.WithoutCancel(ctx), msgs, committed)
		}
	}
}

// handle applies a batch and hands what was committed to the deleters. A
// heartbeat keeps the batch hidden while it is in hand.
func (w *Worker) handle(ctx context.Context, msgs []queue.Message, committed chan<- []string) {
	start := time.Now()
	handles := make([]string, len(msgs))
	for i, m := range msgs {
		handles[i] = m.ReceiptHandle
	}
	hctx, stopHeartbeat := context.WithCancel(ctx)
	var hb sync.WaitGroup
	hb.Go(func() { w.heartbeat(hctx, handles) })
	ok := make([]bool, len(msgs))
	if w.cfg.Appliers == 1 {
		for i, msg := range msgs {
			ok[i] = w.apply(ctx, msg)
		}
	} else {
		var appliers sync.WaitGroup
		slots := make(chan struct{}, w.cfg.Appliers)
		for i, msg := range msgs {
			slots <- struct{}{}
			appliers.Go(func() {
				defer func() { <-slots }()
				ok[i] = w.apply(ctx, msg)
			})
		}
		appliers.Wait()
	}
	done := make([]string, 0, len(msgs))
	for i, msg := range msgs {
		if ok[i] {
			done = append(done, msg.ReceiptHandle)
		}
	}
	stopHeartbeat()
	hb.Wait()
	if len(done) > 0 {
		committed <- done
	}
	w.metrics.batch.Observe(time.Since(start).Seconds())
}

// deleteLoop deletes the messages whose outcomes are committed, up to
// queue.MaxBatch in one call, taking along whatever else is already
// waiting, until committed is closed and empty.
func (w *Worker) deleteLoop(ctx context.Context, committed <-chan []string) {
	var pending []string
	for handles := range committed {
		pending = append(pending, handles...)
	more:
		for len(pending) < queue.MaxBatch {
			select {
			case h, ok := <-committed:
				if !ok {
					break more
				}
				pending = append(pending, h...)
			default:
				break more
			}
		}
		for len(pending) > 0 {
			n := min(len(pending), queue.MaxBatch)
			w.delete(ctx, pending[:n])
			pending = pending[n:]
		}
		pending = nil
	}
}

func (w *Worker) delete(ctx context.Context, handles []string) {
	dctx, cancel := context.WithTimeout(ctx, w.cfg.ApplyTimeout)
	err := w.q.Delete(dctx, handles)
	cancel()
	if err != nil {
		// The outcomes are committed; when the messages come back they
		// apply as duplicates.
		w.metrics.deleteErrors.Inc()
		w.log.Warn("delete applied outcomes", "count", len(handles), "err", err)
	}
}

// apply reports whether the message's outcome is committed, so the
// message may go.
func (w *Worker) apply(ctx context.Context, msg queue.Message) bool {
	m, err := Decode(msg.Body)
	if err != nil {
		w.metrics.failed.WithLabelValues("decode").Inc()
		w.log.Warn("undecodable match outcome left for dead-lettering",
			"message_id", msg.ID, "receive_count", msg.ReceiveCount, "err", err)
		return false
	}
	actx, cancel := context.WithTimeout(ctx, w.cfg.ApplyTimeout)
	applied, err := w.store.ApplyOutcome(actx, m)
	cancel()
	switch {
	case errors.Is(err, leaderboard.ErrInvalid):
		w.metrics.failed.WithLabelValues("invalid").Inc()
		w.log.Warn("invalid match outcome left for dead-lettering",
			"message_id", msg.ID, "match_id", m.ID, "receive_count", msg.ReceiveCount, "err", err)
		return false
	case err != nil:
		w.metrics.failed.WithLabelValues("store").Inc()
		w.log.Error("apply match outcome", "message_id", msg.ID, "match_id", m.ID, "err", err)
		return false
	case applied:
		w.metrics.applied.Inc()
		if !msg.SentAt.IsZero() {
			w.metrics.lag.Observe(max(0, time.Since(msg.SentAt).Seconds()))
		}
		w.log.Debug("match outcome applied", "match_id", m.ID, "players", len(m.Players))
	default:
		w.metrics.duplicates.Inc()
		w.log.Info("duplicate match outcome ignored", "match_id", m.ID, "receive_count", msg.ReceiveCount)
	}
	return true
}

// heartbeat extends the visibility of the batch in hand every third of the
// visibility timeout until ctx ends.
func (w *Worker) heartbeat(ctx context.Context, handles []string) {
	t := time.NewTicker(w.cfg.VisibilityTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ectx, cancel := context.WithTimeout(ctx, w.cfg.VisibilityTimeout/3)
		err := w.q.ExtendVisibility(ectx, handles, w.cfg.VisibilityTimeout)
		cancel()
		switch {
		case err == nil:
			w.metrics.extensions.Inc()
		case ctx.Err() == nil:
			w.log.Warn("extend visibility of the batch in hand", "count", len(handles), "err", err)
		}
	}
}

// watchDepth reads the queue's depth into the metrics until ctx ends.
func (w *Worker) watchDepth(ctx context.Context) {
	t := time.NewTicker(w.cfg.DepthInterval)
	defer t.Stop()
	for {
		dctx, cancel := context.WithTimeout(ctx, w.cfg.DepthInterval)
		d, err := w.admin.Depth(dctx)
		cancel()
		if err == nil {
			w.metrics.visible.Set(float64(d.Visible))
			w.metrics.inFlight.Set(float64(d.InFlight))
			w.metrics.dead.Set(float64(d.Dead))
		} else if ctx.Err() == nil {
			w.log.Warn("read queue depth", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
