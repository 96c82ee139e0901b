// Package stats is the stats worker: it consumes match outcomes from the
// queue and applies each to the leaderboard store exactly once in effect.
//
// Each poller long-polls for up to ten messages, applies every outcome in
// its own store transaction (idempotent by match id, so a redelivery
// changes nothing), then deletes in one batch the messages whose outcome is
// committed. A message that does not decode, or that the store rejects as
// invalid, is left alone: the queue redelivers it until its receive count
// moves it to the dead-letter queue.
package stats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// Config configures the worker.
type Config struct {
	// Pollers is how many batches are in hand at once. Default 2.
	Pollers int
	// Wait is how long a receive waits for the first message (long
	// polling). Default 10s; at most 20s, the SQS limit.
	Wait time.Duration
	// ApplyTimeout bounds the store work of one outcome. Default 30s.
	ApplyTimeout time.Duration
	// RetryDelay is the pause after a failed receive. Default 1s.
	RetryDelay time.Duration
}

func (c *Config) fill() error {
	if c.Pollers == 0 {
		c.Pollers = 2
	}
	if c.Wait == 0 {
		c.Wait = 10 * time.Second
	}
	if c.ApplyTimeout == 0 {
		c.ApplyTimeout = 30 * time.Second
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = time.Second
	}
	switch {
	case c.Pollers < 1 || c.Pollers > 64:
		return fmt.Errorf("stats pollers %d: want 1 to 64", c.Pollers)
	case c.Wait < 0 || c.Wait > 20*time.Second:
		return fmt.Errorf("stats receive wait %v: want 0 to 20s", c.Wait)
	case c.ApplyTimeout < 0 || c.RetryDelay < 0:
		return errors.New("stats timeouts must not be negative")
	}
	return nil
}

// Worker consumes match outcomes.
type Worker struct {
	cfg     Config
	q       queue.Queue
	store   leaderboard.Store
	log     *slog.Logger
	metrics *workerMetrics
}

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
	return &Worker{cfg: cfg, q: q, store: store, log: log, metrics: m}, nil
}

// Run polls until ctx ends. Each poller finishes the batch in hand
// (applies and deletes it) before it stops; Run returns when all have.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("stats worker started", "pollers", w.cfg.Pollers)
	var wg sync.WaitGroup
	for range w.cfg.Pollers {
		wg.Go(func() { w.poll(ctx) })
	}
	wg.Wait()
	w.log.Info("stats worker stopped")
	return nil
}

func (w *Worker) poll(ctx context.Context) {
	for ctx.Err() == nil {
		msgs, err := w.q.Receive(ctx, queue.MaxBatch, w.cfg.Wait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.metrics.receiveErrors.Inc()
			w.log.Warn("receive match outcomes", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(w.cfg.RetryDelay):
			}
			continue
		}
		if len(msgs) > 0 {
			// The batch is in hand: finish it even when ctx ends.
			w.handle(context.WithoutCancel(ctx), msgs)
		}
	}
}

// handle applies a batch and deletes what was committed.
func (w *Worker) handle(ctx context.Context, msgs []queue.Message) {
	start := time.Now()
	done := make([]string, 0, len(msgs))
	for _, msg := range msgs {
		if w.apply(ctx, msg) {
			done = append(done, msg.ReceiptHandle)
		}
	}
	if len(done) > 0 {
		dctx, cancel := context.WithTimeout(ctx, w.cfg.ApplyTimeout)
		err := w.q.Delete(dctx, done)
		cancel()
		if err != nil {
			// The outcomes are committed; when the messages come back
			// they apply as duplicates.
			w.metrics.deleteErrors.Inc()
			w.log.Warn("delete applied outcomes", "count", len(done), "err", err)
		}
	}
	w.metrics.batch.Observe(time.Since(start).Seconds())
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
		w.log.Debug("match outcome applied", "match_id", m.ID, "players", len(m.Players))
	default:
		w.metrics.duplicates.Inc()
		w.log.Info("duplicate match outcome ignored", "match_id", m.ID, "receive_count", msg.ReceiveCount)
	}
	return true
}
