package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sethvargo/go-retry"

	"github.com/skirmishgg/skirmish/internal/queue"
)

// PublisherConfig configures a Publisher. The zero value of each field means
// its default.
type PublisherConfig struct {
	// BatchSize is how many outcomes one Send carries. Default and most
	// queue.MaxBatch (10).
	BatchSize int
	// MinBackoff is the first wait after a failed send; it doubles on each
	// failure in a row, with 20% jitter. Default 200ms.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between retries. Default 30s.
	MaxBackoff time.Duration
	// FlushTimeout bounds the last attempt to send what is left when Run's
	// context ends. Default 5s.
	FlushTimeout time.Duration
	// InFlight is how many batches are sent at once, each retried on its
	// own and deleted from the outbox as soon as the queue accepted it.
	// Default 4.
	InFlight int
}

// Publisher sends the outbox's outcomes to the queue.
type Publisher struct {
	cfg     PublisherConfig
	ob      *Outbox
	q       queue.Queue
	log     *slog.Logger
	sent    prometheus.Counter
	errs    prometheus.Counter
	metrics *depthCollector
}

// NewPublisher makes a Publisher that drains ob into q. It registers its
// metrics with reg when reg is not nil; log nil discards logs.
func NewPublisher(cfg PublisherConfig, ob *Outbox, q queue.Queue, reg prometheus.Registerer, log *slog.Logger) (*Publisher, error) {
	if cfg.BatchSize == 0 {
		cfg.BatchSize = queue.MaxBatch
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.FlushTimeout == 0 {
		cfg.FlushTimeout = 5 * time.Second
	}
	if cfg.InFlight == 0 {
		cfg.InFlight = 4
	}
	switch {
	case ob == nil || q == nil:
		return nil, errors.New("outbox: publisher needs an outbox and a queue")
	case cfg.BatchSize < 1 || cfg.BatchSize > queue.MaxBatch:
		return nil, fmt.Errorf("outbox: batch size %d: want 1 to %d", cfg.BatchSize, queue.MaxBatch)
	case cfg.MinBackoff < 0 || cfg.MaxBackoff < cfg.MinBackoff:
		return nil, fmt.Errorf("outbox: backoff %v to %v: want 0 <= min <= max", cfg.MinBackoff, cfg.MaxBackoff)
	case cfg.FlushTimeout < 0:
		return nil, fmt.Errorf("outbox: flush timeout %v: must not be negative", cfg.FlushTimeout)
	case cfg.InFlight < 1 || cfg.InFlight > 64:
		return nil, fmt.Errorf("outbox: in-flight batches %d: want 1 to 64", cfg.InFlight)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := &Publisher{
		cfg: cfg,
		ob:  ob,
		q:   q,
		log: log,
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_outbox_sent_outcomes_total",
			Help: "Match outcomes the queue accepted from the outbox.",
		}),
		errs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_outbox_send_errors_total",
			Help: "Sends from the outbox to the queue that failed and will be retried.",
		}),
		metrics: &depthCollector{ob: ob},
	}
	if reg != nil {
		iq, err := queue.Instrument(q, reg, "gameserver")
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		p.q = iq
		for _, c := range []prometheus.Collector{p.sent, p.errs, p.metrics} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("outbox: register metrics: %w", err)
			}
		}
	}
	return p, nil
}

// Run sends outcomes as they are added, up to InFlight batches at once,
// each retried with backoff while the queue fails. When ctx ends it waits
// for the batches in flight, makes one last attempt, bounded by
// FlushTimeout, to send what is left, then returns nil; whatever is still
// unsent stays in the file for the next start.
func (p *Publisher) Run(ctx context.Context) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		inFlight = map[int64]bool{} // seqs of the batches being sent
		slots    = make(chan struct{}, p.cfg.InFlight)
		wake     = make(chan struct{}, 1) // a batch finished
		b        = p.backoff()            // for failures to read the file
	)
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			continue
		case slots <- struct{}{}:
		}
		mu.Lock()
		entries, err := p.ob.next(ctx, p.cfg.BatchSize, inFlight)
		if err == nil {
			for _, e := range entries {
				inFlight[e.seq] = true
			}
		}
		mu.Unlock()
		if err != nil || len(entries) == 0 {
			<-slots
			delay := time.Duration(0)
			if err != nil && ctx.Err() == nil {
				delay, _ = b.Next()
				p.log.Warn("outbox: read failed, will retry", "err", err, "retry_in", delay)
			} else {
				b = p.backoff()
			}
			p.idle(ctx, delay, wake)
			continue
		}
		b = p.backoff()
		wg.Go(func() {
			p.sendBatch(ctx, entries)
			mu.Lock()
			for _, e := range entries {
				delete(inFlight, e.seq)
			}
			mu.Unlock()
			<-slots
			select {
			case wake <- struct{}{}:
			default:
			}
		})
	}
	wg.Wait()
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.FlushTimeout)
	defer cancel()
	if err := p.drain(flushCtx); err != nil {
		left, _ := p.ob.Pending(context.WithoutCancel(ctx))
		p.log.Warn("outbox: stopping with outcomes unsent; they are sent on the next start", "pending", left, "err", err)
	}
	return nil
}

// idle waits for an Add, a batch to finish, the delay (when not zero) or
// the end of ctx.
func (p *Publisher) idle(ctx context.Context, delay time.Duration, wake <-chan struct{}) {
	var timer <-chan time.Time
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
	case <-p.ob.notify:
	case <-wake:
	case <-timer:
	}
}

// sendBatch sends one batch until the queue accepts it or ctx ends, then
// deletes it from the outbox. A batch left unsent stays in the file.
func (p *Publisher) sendBatch(ctx context.Context, entries []entry) {
	msgs := make([]queue.Outgoing, len(entries))
	for i, e := range entries {
		msgs[i] = queue.Outgoing{ID: queue.OutcomeID(e.matchID), Body: e.body}
	}
	b := p.backoff()
	for {
		err := p.q.Send(ctx, msgs)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		p.errs.Inc()
		delay, _ := b.Next()
		p.log.Warn("outbox: send failed, will retry", "err", err, "count", len(msgs), "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
	p.sent.Add(float64(len(msgs)))
	// Sent: a failure to remove them now only means they are sent again,
	// which consumers, idempotent by match id, tolerate. The removal is not
	// cut short by ctx ending, so a stop does not send them twice.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := p.ob.remove(rctx, entries); err != nil {
		p.log.Warn("outbox: remove sent outcomes; they will be sent again", "count", len(entries), "err", err)
	}
}

// drain sends batches until the outbox is empty or a step fails.
func (p *Publisher) drain(ctx context.Context) error {
	for ctx.Err() == nil {
		entries, err := p.ob.next(ctx, p.cfg.BatchSize, nil)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		msgs := make([]queue.Outgoing, len(entries))
		for i, e := range entries {
			msgs[i] = queue.Outgoing{ID: queue.OutcomeID(e.matchID), Body: e.body}
		}
		if err := p.q.Send(ctx, msgs); err != nil {
			p.errs.Inc()
			return err
		}
		p.sent.Add(float64(len(msgs)))
		// Sent: a failure to remove them now only means they are sent again,
		// which consumers, idempotent by match id, tolerate.
		if err := p.ob.remove(ctx, entries); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (p *Publisher) backoff() retry.Backoff {
	return retry.WithJitterPercent(20, retry.WithCappedDuration(p.cfg.MaxBackoff, retry.NewExponential(p.cfg.MinBackoff)))
}

// depthCollector reports the outbox's depth and oldest age, read from the
// file at scrape time.
type depthCollector struct {
	ob *Outbox
}

var (
	depthDesc = prometheus.NewDesc("skirmish_gameserver_outbox_pending_outcomes",
		"Match outcomes in the outbox waiting to be sent.", nil, nil)
	oldestDesc = prometheus.NewDesc("skirmish_gameserver_outbox_oldest_age_seconds",
		"Age of the oldest outcome waiting in the outbox; 0 when empty.", nil, nil)
)

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
}

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, oldest, err := c.ob.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(depthDesc, err)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(0, time.Since(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
}
