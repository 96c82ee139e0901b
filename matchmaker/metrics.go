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
	}
	for _, c := range []prometheus.Collector{m.tickets, m.searching, m.matches, m.timeToMatch, m.allocationFailures, m.allocationDuration, m.backfills, m.gameservers, m.passDuration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ticketState counts a ticket entering a state, labelled "searching",
// "matched", "expired", "cancelled" or "failed".
func (m *metrics) ticketState(mode string, s skirmishv1.TicketState) {
	m.tickets.WithLabelValues(mode, stateLabel(s)).Inc()
}

func stateLabel(s skirmishv1.TicketState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "TICKET_STATE_"))
}
