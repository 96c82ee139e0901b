package stats

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type workerMetrics struct {
	applied, duplicates         prometheus.Counter
	failed                      *prometheus.CounterVec
	receiveErrors, deleteErrors prometheus.Counter
	batch, lag                  prometheus.Histogram
	extensions                  prometheus.Counter
	visible, inFlight, dead     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*workerMetrics, error) {
	m := &workerMetrics{
		applied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_stats_outcomes_applied_total",
			Help: "Match outcomes applied to the store for the first time.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_stats_outcomes_duplicate_total",
			Help: "Redelivered match outcomes that were already applied.",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_stats_outcomes_failed_total",
			Help: "Match outcomes not applied, by reason: decode, invalid, store.",
		}, []string{"reason"}),
		receiveErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_stats_receive_errors_total",
			Help: "Failed receives from the match-outcome queue.",
		}),
		deleteErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_stats_delete_errors_total",
			Help: "Failed deletes of applied outcomes (they come back as duplicates).",
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skirmish_stats_batch_duration_seconds",
			Help:    "Time to apply one received batch (its delete follows apart).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skirmish_stats_lag_seconds",
			Help:    "From the queue accepting an outcome to its commit in the store.",
			Buckets: prometheus.ExponentialBuckets(0.005, 3, 10),
		}),
		extensions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_stats_visibility_extensions_total",
			Help: "Heartbeats that extended the visibility of a batch in hand.",
		}),
		visible: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skirmish_stats_queue_visible_messages",
			Help: "Messages waiting in the match-outcome queue (approximate on SQS).",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skirmish_stats_queue_in_flight_messages",
			Help: "Messages received and not yet deleted or visible again.",
		}),
		dead: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skirmish_stats_dead_letter_messages",
			Help: "Messages in the dead-letter queue; above 0 needs an operator (skirmish dlq list).",
		}),
	}
	for _, reason := range []string{"decode", "invalid", "store"} {
		m.failed.WithLabelValues(reason)
	}
	for _, c := range []prometheus.Collector{m.applied, m.duplicates, m.failed, m.receiveErrors, m.deleteErrors, m.batch,
		m.lag, m.extensions, m.visible, m.inFlight, m.dead} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("stats metrics: %w", err)
		}
	}
	return m, nil
}
