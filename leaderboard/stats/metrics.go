package stats

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type workerMetrics struct {
	applied, duplicates         prometheus.Counter
	failed                      *prometheus.CounterVec
	receiveErrors, deleteErrors prometheus.Counter
	batch                       prometheus.Histogram
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
			Help:    "Time to apply and delete one received batch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}),
	}
	for _, reason := range []string{"decode", "invalid", "store"} {
		m.failed.WithLabelValues(reason)
	}
	for _, c := range []prometheus.Collector{m.applied, m.duplicates, m.failed, m.receiveErrors, m.deleteErrors, m.batch} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("stats metrics: %w", err)
		}
	}
	return m, nil
}
