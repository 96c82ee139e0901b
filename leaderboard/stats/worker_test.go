package stats_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/skirmishgg/skirmish/internal/queue"
	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/rankindex"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

var ended = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

func outcome(id, winner, loser string) *skirmishv1.MatchOutcome {
	return &skirmishv1.MatchOutcome{
		SchemaVersion: 1, MatchId: id, RoomId: "r-" + id, Mode: "duel", Region: "local", GameserverId: "gs1",
		StartedAt: timestamppb.New(ended.Add(-time.Minute)), EndedAt: timestamppb.New(ended),
		EndReason: skirmishv1.EndReason_END_REASON_SCORE_LIMIT,
		Teams:     []*skirmishv1.TeamResult{{Team: 1, Score: 10, Placement: 1}, {Team: 2, Score: 4, Placement: 2}},
		Players: []*skirmishv1.PlayerResult{
			{PlayerId: winner, Name: winner, Team: 1, Placement: 1, Eliminations: 10, Deaths: 4, Damage: 1000, ShotsFired: 80, ShotsHit: 40},
			{PlayerId: loser, Name: loser, Team: 2, Placement: 2, Eliminations: 4, Deaths: 10, Damage: 400, ShotsFired: 60, ShotsHit: 16},
		},
	}
}

func encode(t *testing.T, o *skirmishv1.MatchOutcome) []byte {
	b, err := protojson.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stores yields the stores the worker is tested on: SQLite always,
// PostgreSQL when it is there (always in CI).
func stores(t *testing.T) map[string]func(t *testing.T) leaderboard.Store {
	return map[string]func(t *testing.T) leaderboard.Store{
		"sqlite": func(t *testing.T) leaderboard.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lb.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) leaderboard.Store {
			s, err := postgres.Open(context.Background(), testenv.Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// run starts w and returns a stop function that ends it and waits.
func run(t *testing.T, w *stats.Worker) (stop func()) {
	t.Helper()
	return testenv.Run(t, w.Run)
}

func waitDeleted(t *testing.T, q *memQueue, want []string) {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case id := <-q.deleted:
			got = append(got, id)
		case <-timeout:
			t.Fatalf("deleted %v, want %v", got, want)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("deleted %v, want %v", got, want)
	}
}

func TestWorkerAppliesOnceAndLeavesPoison(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			store := newStore(t)
			q := newMemQueue()
			reg := prometheus.NewRegistry()
			w, err := stats.New(stats.Config{Wait: 5 * time.Second}, q, store, reg, nil)
			if err != nil {
				t.Fatal(err)
			}
			v2 := outcome("m9", "x", "y")
			v2.SchemaVersion = 2
			q.Send(context.Background(), []queue.Outgoing{
				{ID: "a", Body: encode(t, outcome("m1", "ada", "bob"))},
				{ID: "b", Body: encode(t, outcome("m2", "ada", "cat"))},
				{ID: "c", Body: encode(t, outcome("m1", "ada", "bob"))}, // redelivered by the publisher
				{ID: "bad", Body: []byte(`{"matchId": `)},
				{ID: "v2", Body: encode(t, v2)},
				{ID: "noid", Body: []byte(`{"schemaVersion": 1, "players": [{"playerId": "p"}]}`)},
			})
			stop := run(t, w)
			waitDeleted(t, q, []string{"a", "b", "c"})
			// More outcomes keep flowing while the poison stays.
			q.Send(context.Background(), []queue.Outgoing{{ID: "d", Body: encode(t, outcome("m3", "bob", "ada"))}})
			waitDeleted(t, q, []string{"d"})
			stop()

			if left := q.left(); !slices.Equal(left, []string{"bad", "v2", "noid"}) {
				t.Errorf("left in queue: %v, want [bad v2 noid]", left)
			}
			p, err := store.GetPlayer(context.Background(), "ada")
			if err != nil || p.Matches != 3 || p.Wins != 2 || p.Losses != 1 || p.Stats["eliminations"] != 24 {
				t.Errorf("GetPlayer(ada) = %+v, %v, want 3 matches, 2 wins, 1 loss, 24 eliminations", p, err)
			}
			m, err := store.GetMatch(context.Background(), "m2")
			if err != nil || m.EndReason != "score_limit" || !m.EndedAt.Equal(ended) || len(m.Teams) != 2 || m.GameserverID != "gs1" {
				t.Errorf("GetMatch(m2) = %+v, %v", m, err)
			}
			for _, c := range []struct {
				name, label string
				want        float64
			}{
				{"skirmish_stats_outcomes_applied_total", "", 3},
				{"skirmish_stats_outcomes_duplicate_total", "", 1},
				{"skirmish_stats_outcomes_failed_total", "decode", 2},
				{"skirmish_stats_outcomes_failed_total", "invalid", 0},
			} {
				got := counter(t, reg, c.name, c.label)
				if c.name == "skirmish_stats_outcomes_failed_total" && c.label == "decode" {
					// Each poison message fails at least once: "bad", "v2"
					// and "noid" all fail to decode.
					if got < 3 {
						t.Errorf("%s{%s} = %v, want at least 3", c.name, c.label, got)
					}
					continue
				}
				if got != c.want {
					t.Errorf("%s{%s} = %v, want %v", c.name, c.label, got, c.want)
				}
			}
		})
	}
}

// counter reads a counter from reg; label, when set, picks the series
// whose only label has that value.
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{%s}", name, label)
	return 0
}

// blockingStore holds ApplyOutcome until released, to stop the worker
// with a batch in hand.
type blockingStore struct {
	leaderboard.Store
	started chan string
	release chan struct{}
}

func (s *blockingStore) ApplyOutcome(ctx context.Context, m leaderboard.Match) (bool, error) {
	s.started <- m.ID
	<-s.release
	return s.Store.ApplyOutcome(ctx, m)
}

func TestWorkerFinishesBatchOnStop(t *testing.T) {
	base := stores(t)["sqlite"](t)
	store := &blockingStore{Store: base, started: make(chan string, 10), release: make(chan struct{})}
	q := newMemQueue()
	w, err := stats.New(stats.Config{Pollers: 1, Wait: time.Second}, q, store, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []queue.Outgoing
	for i := range 3 {
		out = append(out, queue.Outgoing{ID: fmt.Sprint(i), Body: encode(t, outcome(fmt.Sprint("m", i), "ada", "bob"))})
	}
	q.Send(context.Background(), out)
	stop := run(t, w)
	select {
	case <-store.started:
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not start applying")
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	close(store.release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not stop")
	}
	if left := q.left(); len(left) != 0 {
		t.Errorf("left in queue after stop: %v, want the whole batch applied and deleted", left)
	}
	if p, err := base.GetPlayer(context.Background(), "ada"); err != nil || p.Matches != 3 {
		t.Errorf("GetPlayer(ada) = %+v, %v, want 3 matches", p, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	store := stores(t)["sqlite"](t)
	for _, cfg := range []stats.Config{{Pollers: -1}, {Pollers: 100}, {Appliers: -1}, {Appliers: 11}, {Wait: time.Minute}, {ApplyTimeout: -time.Second}} {
		if _, err := stats.New(cfg, newMemQueue(), store, prometheus.NewRegistry(), nil); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
}

// TestOverlapCoversApplyTimeout: the leaderboards' change poll looks back
// further than an outcome's transaction may take to commit after the
// database stamped it, so no late commit is missed.
func TestOverlapCoversApplyTimeout(t *testing.T) {
	if rankindex.DefaultOverlap <= stats.DefaultApplyTimeout {
		t.Errorf("rankindex.DefaultOverlap = %v, want more than stats.DefaultApplyTimeout %v", rankindex.DefaultOverlap, stats.DefaultApplyTimeout)
	}
}

// TestCancelledRoomChangesNothing is the example end to end: two
// players matched into a duel, one joins, the other never connects, and
// the room is cancelled at the join deadline. The gameserver publishes
// what it publishes today (END_REASON_ABANDONED, no started_at, both
// placed 1 at 0-0, the no-show "left"); the worker used to record a played
// match, a draw for both, and move both ratings (the one who showed up
// lost 15 points to the no-show). Now neither player's rating, stats or
// board entries change, and the match is in history as cancelled.
func TestCancelledRoomChangesNothing(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := newStore(t)
			q := newMemQueue()
			w, err := stats.New(stats.Config{Wait: time.Second}, q, store, prometheus.NewRegistry(), nil)
			if err != nil {
				t.Fatal(err)
			}
			// Their ratings differ, as after any history: came lost once.
			cancelled := &skirmishv1.MatchOutcome{
				SchemaVersion: 1, MatchId: "m2", RoomId: "r-m2", Mode: "duel", Region: "local", GameserverId: "gs1",
				EndedAt: timestamppb.New(ended), EndReason: skirmishv1.EndReason_END_REASON_ABANDONED,
				Teams: []*skirmishv1.TeamResult{{Team: 1, Placement: 1}, {Team: 2, Placement: 1}},
				Players: []*skirmishv1.PlayerResult{
					{PlayerId: "came", Name: "came", Team: 1, Placement: 1},
					{PlayerId: "noshow", Name: "noshow", Team: 2, Placement: 1, Left: true},
				},
			}
			q.Send(ctx, []queue.Outgoing{{ID: "a", Body: encode(t, outcome("m1", "noshow", "came"))}})
			stop := run(t, w)
			waitDeleted(t, q, []string{"a"})
			before := map[string]leaderboard.Player{}
			for _, id := range []string{"came", "noshow"} {
				if before[id], err = store.GetPlayer(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			wins, err := store.TopEntries(ctx, "wins", 10, nil)
			if err != nil {
				t.Fatal(err)
			}
			q.Send(ctx, []queue.Outgoing{{ID: "b", Body: encode(t, cancelled)}})
			waitDeleted(t, q, []string{"b"})
			stop()

			for id, b := range before {
				p, err := store.GetPlayer(ctx, id)
				if err != nil || !reflect.DeepEqual(p, b) {
					t.Errorf("GetPlayer(%s) after the cancelled room = %+v, %v; want unchanged %+v", id, p, err, b)
				}
			}
			if got, err := store.TopEntries(ctx, "wins", 10, nil); err != nil || fmt.Sprint(got) != fmt.Sprint(wins) {
				t.Errorf("wins board after the cancelled room = %v, %v; want %v", got, err, wins)
			}
			m, err := store.GetMatch(ctx, "m2")
			if err != nil || m.EndReason != leaderboard.EndCancelled {
				t.Fatalf("GetMatch(m2) = %+v, %v; want end reason cancelled", m, err)
			}
			for _, p := range m.Players {
				if p.Standing != leaderboard.Void || p.RatingAfter != before[p.PlayerID].Ratings["duel"].Rating {
					t.Errorf("m2 player %s: %v, rating %v; want void at %v", p.PlayerID, p.Standing, p.RatingAfter, before[p.PlayerID].Ratings["duel"].Rating)
				}
			}
		})
	}
}
