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
	ticks         prometheus.Counter
	tickSeconds   prometheus.Histogram
	snapshotBytes *prometheus.CounterVec
	// deltaBytes and fullBytes are snapshotBytes' two series, looked up
	// once rather than on every snapshot.
	deltaBytes, fullBytes prometheus.Counter
	snapshots             prometheus.Counter
	superseded            prometheus.Counter
	sharedSnapshots       prometheus.Counter
	messagesIn            prometheus.Counter
	messagesOut           prometheus.Counter
	disconnects           *prometheus.CounterVec
	outcomes              *prometheus.CounterVec
	ticksSkipped          prometheus.Counter
	tickOverruns          prometheus.Counter
	reports               *prometheus.CounterVec
	connections           *prometheus.GaugeVec
	rtt                   *prometheus.HistogramVec
	panics                *prometheus.CounterVec
	inputsRefused         *prometheus.CounterVec
	events                prometheus.Counter
	eventBytes            prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_room_panics_total",
			Help: "Panics in game code, by mode and phase (new, start, event, tick, outcome); each ends its room with END_REASON_ERROR.",
		}, []string{"mode", "phase"}),
		rooms: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skirmish_gameserver_rooms",
			Help: "Rooms by lifecycle state and mode.",
		}, []string{"state", "mode"}),
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
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_snapshots_total",
			Help: "Snapshots queued for players, one per player per tick.",
		}),
		superseded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_snapshots_superseded_total",
			Help: "Snapshots replaced by the next tick's before they were written: the player's connection, or the server's writers, fell a tick behind.",
		}),
		sharedSnapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_snapshots_shared_total",
			Help: "Snapshots whose encoding was shared with another player's of the same tick (same world, same acknowledged base): encoded once, sent to each with its own last input.",
		}),
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
		ticksSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_ticks_skipped_total",
			Help: "Ticks a room missed because it was late (the tick timer fired while the previous tick still ran or the room was not scheduled).",
		}),
		tickOverruns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_gameserver_tick_overruns_total",
			Help: "Ticks that took longer than the tick period.",
		}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_gameserver_room_reports_total",
			Help: "Room events reported to the matchmaker, by event.",
		}, []string{"event"}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skirmish_gameserver_players_connected",
			Help: "Players with a live, joined connection to a room, by transport (websocket, webtransport).",
		}, []string{"transport"}),
		rtt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "skirmish_gameserver_client_rtt_seconds",
			Help:    "Round-trip time to players, measured by the transport's ping and pong, by transport.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"transport"}),
	}
	m.inputsRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skirmish_gameserver_inputs_refused_total",
		Help: "Inputs refused with an Error the player sees, by reason (too_large, queue_full, rate_limited).",
	}, []string{"reason"})
	m.events = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "skirmish_gameserver_game_events_total",
		Help: "Game-defined events queued for players, one per recipient.",
	})
	m.eventBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "skirmish_gameserver_game_event_bytes_total",
		Help: "Bytes of encoded game events queued for players.",
	})
	if reg != nil {
		reg.MustRegister(m.inputsRefused, m.events, m.eventBytes)
		reg.MustRegister(m.panics, m.rooms, m.ticks, m.tickSeconds, m.snapshotBytes, m.snapshots, m.superseded, m.sharedSnapshots,
			m.messagesIn, m.messagesOut, m.disconnects, m.outcomes,
			m.ticksSkipped, m.tickOverruns, m.reports, m.connections, m.rtt)
	}
	m.deltaBytes, m.fullBytes = m.snapshotBytes.WithLabelValues("delta"), m.snapshotBytes.WithLabelValues("full")
	return m
}

// TransportMetrics are the per-transport metrics a transport updates:
// its joined connections and the round-trip times it measures.
type TransportMetrics struct {
	Connections prometheus.Gauge
	RTT         prometheus.Observer
}

// TransportMetrics returns the metrics of one transport ("websocket",
// "webtransport"); transports share the manager's registered families.
func (m *Manager) TransportMetrics(transport string) TransportMetrics {
	return TransportMetrics{
		Connections: m.metrics.connections.WithLabelValues(transport),
		RTT:         m.metrics.rtt.WithLabelValues(transport),
	}
}

// tally counts what a room's ticks did, on the room's goroutine, and adds
// it to the metrics once a tick (flush) rather than once per player: the
// rooms' goroutines adding to the same counters for every snapshot and
// input kept those counters' cache lines moving between cores.
type tally struct {
	snapshots, superseded, shared int
	deltaBytes, fullBytes         int
	messagesIn, messagesOut       int // polled by the room, written by it at once
}

// sent is one snapshot queued for a player, as the tally counts it.
type sent struct {
	bytes      int
	delta      bool // against an acknowledged baseline, not full
	shared     bool // encoded for another viewer this tick, and reused
	superseded bool // the player's queue dropped an older one for it
	direct     bool // written to the socket at once, not queued
}

// snapshot counts one snapshot queued for a player.
func (t *tally) snapshot(s sent) {
	t.snapshots++
	if s.delta {
		t.deltaBytes += s.bytes
	} else {
		t.fullBytes += s.bytes
	}
	if s.shared {
		t.shared++
	}
	if s.superseded {
		t.superseded++
	}
	if s.direct {
		t.messagesOut++
	}
}

// flush adds the tally to m and empties it.
func (t *tally) flush(m *metrics) {
	add(m.snapshots, t.snapshots)
	add(m.superseded, t.superseded)
	add(m.sharedSnapshots, t.shared)
	add(m.deltaBytes, t.deltaBytes)
	add(m.fullBytes, t.fullBytes)
	add(m.messagesIn, t.messagesIn)
	add(m.messagesOut, t.messagesOut)
	*t = tally{}
}

func add(c prometheus.Counter, n int) {
	if n > 0 {
		c.Add(float64(n))
	}
}
