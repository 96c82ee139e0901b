package matchmaker

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// metrics are the matchmaker's own Prometheus metrics; gRPC request counts
// and durations come from the interceptors.
type metrics struct {
	tickets            *prometheus.CounterVec
	searching          *prometheus.GaugeVec
	matches            *prometheus.CounterVec
	timeToMatch        *prometheus.HistogramVec
	allocationFailures *prometheus.CounterVec
	allocationDuration *prometheus.HistogramVec
	backfills          *prometheus.CounterVec
	gameservers        *prometheus.GaugeVec
	passDuration       prometheus.Histogram
	noShows            prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		tickets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_matchmaker_tickets_total",
			Help: "Tickets entering each state, by mode: searching counts created tickets.",
		}, []string{"mode", "state"}),
		searching: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skirmish_matchmaker_tickets_searching",
			Help: "Tickets waiting in the queue, by mode.",
		}, []string{"mode"}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_matchmaker_matches_total",
			Help: "Matches formed and allocated a room, by mode.",
		}, []string{"mode"}),
		timeToMatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "skirmish_matchmaker_time_to_match_seconds",
			Help:    "Time from ticket creation to assignment, by mode.",
			Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 20, 30, 60, 120},
		}, []string{"mode"}),
		allocationFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_matchmaker_allocation_failures_total",
			Help: "Formed matches that got no room, and backfills that got no seats, by reason (no_gameserver, create_room, add_seats).",
		}, []string{"reason"}),
		allocationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "skirmish_matchmaker_allocation_duration_seconds",
			Help:    "Time of one allocation: CreateRoom (kind room) or AddSeats (kind backfill), by result (ok, error).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"kind", "result"}),
		backfills: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skirmish_matchmaker_backfills_total",
			Help: "Backfills that seated searching tickets in a running room, by mode.",
		}, []string{"mode"}),
		gameservers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skirmish_matchmaker_gameservers",
			Help: "Heartbeating gameservers by state: available, full (no free seat), draining.",
		}, []string{"state"}),
		passDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skirmish_matchmaker_formation_pass_seconds",
			Help:    "Time of one formation pass over every queue.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8),
		}),
		noShows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skirmish_matchmaker_no_shows_total",
			Help: "Matched players who never joined their room (missing from a cancelled room): each gets a requeue cooldown.",
		}),
	}
	for _, c := range []prometheus.Collector{m.tickets, m.searching, m.matches, m.timeToMatch, m.allocationFailures, m.allocationDuration, m.backfills, m.gameservers, m.passDuration, m.noShows} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// modeMetrics are one mode's series, looked up once: a lookup by label
// values hashes them on every call, and the pool counts every ticket.
type modeMetrics struct {
	states      []prometheus.Counter // by TicketState
	searching   prometheus.Gauge
	timeToMatch prometheus.Observer
	matches     prometheus.Counter
	backfills   prometheus.Counter
}

func (m *metrics) forMode(mode string) *modeMetrics {
	mm := &modeMetrics{
		states:      make([]prometheus.Counter, len(skirmishv1.TicketState_name)),
		searching:   m.searching.WithLabelValues(mode),
		timeToMatch: m.timeToMatch.WithLabelValues(mode),
		matches:     m.matches.WithLabelValues(mode),
		backfills:   m.backfills.WithLabelValues(mode),
	}
	for v := range skirmishv1.TicketState_name {
		if st := skirmishv1.TicketState(v); st != skirmishv1.TicketState_TICKET_STATE_UNSPECIFIED {
			mm.states[v] = m.tickets.WithLabelValues(mode, stateLabel(st))
		}
	}
	return mm
}

// ticketState counts a ticket entering a state, labelled "searching",
// "matched", "expired", "cancelled" or "failed".
func (mm *modeMetrics) ticketState(s skirmishv1.TicketState) {
	if int(s) < len(mm.states) && mm.states[s] != nil {
		mm.states[s].Inc()
	}
}

func stateLabel(s skirmishv1.TicketState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "TICKET_STATE_"))
}
