package rankindex

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// Writer is a store that writes every outcome it applies through to a
// shared rank index (Redis) right after the commit, for a stats worker
// that runs apart from the leaderboard replicas: their ranks then show the
// match within milliseconds instead of at their next poll. Writer neither
// loads boards nor polls (the replicas' Store.Run does); an update of a
// board the index does not hold is skipped, and one that fails is left to
// the replicas' poll.
type Writer struct {
	Source
	idx    Index
	log    *slog.Logger
	failed prometheus.Counter
}

var _ leaderboard.Store = (*Writer)(nil)

// NewWriter wraps src so that ApplyOutcome writes through to idx.
func NewWriter(src Source, idx Index, reg prometheus.Registerer, log *slog.Logger) (*Writer, error) {
	if src == nil || idx == nil || reg == nil {
		return nil, errors.New("rank index writer: source, index and registerer are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{Source: src, idx: idx, log: log, failed: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "skirmish_stats_index_write_errors_total",
		Help: "Committed outcomes whose write-through to the shared rank index failed (the leaderboards' poll repairs them).",
	})}
	if err := reg.Register(w.failed); err != nil {
		return nil, err
	}
	return w, nil
}

// ApplyOutcome records the match, then sets its players' entries in the
// index. A duplicate (applied=false) is written through too: the process
// that committed it may have died before its own write-through.
func (w *Writer) ApplyOutcome(ctx context.Context, m leaderboard.Match) (bool, error) {
	applied, err := w.Source.ApplyOutcome(ctx, m)
	if err != nil {
		return applied, err
	}
	ids := make([]string, len(m.Players))
	for i, p := range m.Players {
		ids[i] = p.PlayerID
	}
	if err := setPlayers(ctx, w.Source, w.idx, ids); err != nil {
		w.failed.Inc()
		w.log.Warn("rank index write-through failed; the leaderboards' poll repairs it", "match", m.ID, "err", err)
	}
	return applied, nil
}
