package room

import "github.com/prometheus/client_golang/prometheus"

// Room lifecycle states, also the values of the "state" metric label.
const (
	StateWaiting = "waiting"
	StateRunning = "running"
	StateEnded   = "ended"
)

type metrics struct {
	rooms         *prometheus.GaugeVec
	players       prometheus.Gauge
	ticks         prometheus.Counter
	tickSeconds   prometheus.Histogram
	snapshotBytes *prometheus.CounterVec
	messagesIn    prometheus.Counter
	messagesOut   prometheus.Counter
	disconnects   *prometheus.CounterVec
	outcomes      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rooms: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skirmish_gameserver_rooms",
			Help: "Rooms by lifecycle state.",
		}, []string{"state"}),
		players: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skirmish_gameserver_players_connected",
			Help: "Players with a live connection to a room.",
		}),
		ticks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_ticks_total",
			Help: "Room ticks simulated.",
		}),
		tickSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skirmish_gameserver_tick_duration_seconds",
			Help:    "Time to run one room tick: inputs, simulation and snapshot encoding.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05},
		}),
		snapshotBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_snapshot_bytes_total",
			Help: "Bytes of encoded snapshots queued for players, by type (full or delta).",
		}, []string{"type"}),
		messagesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_messages_received_total",
			Help: "Messages received from players after joining.",
		}),
		messagesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_messages_sent_total",
			Help: "Messages written to players after joining.",
		}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_forced_disconnects_total",
			Help: "Connections the server closed, by reason.",
		}, []string{"reason"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_outcomes_total",
			Help: "Match outcomes handed to the outbox, by end reason and result.",
		}, []string{"reason", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.rooms, m.players, m.ticks, m.tickSeconds, m.snapshotBytes,
			m.messagesIn, m.messagesOut, m.disconnects, m.outcomes)
	}
	return m
}
