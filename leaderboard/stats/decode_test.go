package stats_test

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/stats"
)

func TestDecode(t *testing.T) {
	good, _ := protojson.Marshal(outcome("m1", "a", "b"))
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"outcome", string(good), true},
		{"unknown fields are ignored", `{"schemaVersion":1,"matchId":"m","future":7,"players":[{"playerId":"p","placement":1}]}`, true},
		{"snake_case names", `{"schema_version":1,"match_id":"m","players":[{"player_id":"p"}]}`, true},
		{"not JSON", `not json`, false},
		{"empty", ``, false},
		{"schema version 0", `{"matchId":"m","players":[{"playerId":"p"}]}`, false},
		{"schema version 2", `{"schemaVersion":2,"matchId":"m","players":[{"playerId":"p"}]}`, false},
		{"no match id", `{"schemaVersion":1,"players":[{"playerId":"p"}]}`, false},
		{"no players", `{"schemaVersion":1,"matchId":"m"}`, false},
		{"player without id", `{"schemaVersion":1,"matchId":"m","players":[{"name":"x"}]}`, false},
		// PostgreSQL's text cannot hold NUL: refused here, not at the insert.
		{"match id with NUL", `{"schemaVersion":1,"matchId":"m\u0000","players":[{"playerId":"p"}]}`, false},
		{"player id with NUL", `{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p\u0000"}]}`, false},
		{"mode with NUL", `{"schemaVersion":1,"matchId":"m","mode":"d\u0000","players":[{"playerId":"p"}]}`, false},
		{"bad timestamp", `{"schemaVersion":1,"matchId":"m","endedAt":"yesterday","players":[{"playerId":"p"}]}`, false},
		{"stats", `{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p","stats":{"lap_ms":61000.5,"rounds_won":-2}}]}`, true},
		{"stat NaN", `{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p","stats":{"lap_ms":"NaN"}}]}`, false},
		{"stat infinite", `{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p","stats":{"lap_ms":"-Infinity"}}]}`, false},
		{"stat too big", `{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p","stats":{"gold":1e16}}]}`, false},
		{"stat reserved", `{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p","stats":{"rating":3000}}]}`, false},
		{"stat name upper case", `{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p","stats":{"Lap":1}}]}`, false},
		{"stat name empty", `{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p","stats":{"":1}}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := stats.Decode([]byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("Decode(%s) = %+v, %v, want ok=%v", tt.body, m, err, tt.ok)
			}
		})
	}
	m, err := stats.Decode(good)
	if err != nil || m.ID != "m1" || len(m.Players) != 2 || m.Players[0].Stats["eliminations"] != 10 || m.Mode != "duel" || m.EndedAt.IsZero() {
		t.Errorf("Decode(outcome) = %+v, %v", m, err)
	}
}

// TestDecodeStats: an outcome's stats are the player's stats; an outcome
// from before stats gives Arena's deprecated fields under their stat
// names; one with neither gives none.
func TestDecodeStats(t *testing.T) {
	tests := []struct {
		name, player string
		want         map[string]float64
	}{
		{"stats win over the old fields", `{"playerId":"p","eliminations":3,"stats":{"eliminations":4,"lap_ms":61000.5}}`,
			map[string]float64{"eliminations": 4, "lap_ms": 61000.5}},
		{"old fields only", `{"playerId":"p","eliminations":3,"shotsHit":2}`,
			map[string]float64{"eliminations": 3, "deaths": 0, "damage": 0, "shots_fired": 0, "shots_hit": 2}},
		{"neither", `{"playerId":"p"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := stats.Decode([]byte(`{"schemaVersion":1,"matchId":"m","players":[` + tt.player + `]}`))
			if err != nil {
				t.Fatalf("Decode(%s): %v", tt.player, err)
			}
			if !reflect.DeepEqual(m.Players[0].Stats, tt.want) {
				t.Errorf("Decode(%s).Stats = %v, want %v", tt.player, m.Players[0].Stats, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := protojson.Marshal(outcome("m1", "a", "b"))
	f.Add(good)
	f.Add([]byte(`{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p"}]}`))
	f.Add([]byte(`{"schemaVersion":2}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := stats.Decode(body)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Decode accepted an outcome that does not validate: %v", err)
		}
	})
}

// TestDecodeEndReason: proto end reasons become leaderboard.End names,
// including reasons added to the proto later, and a match abandoned before
// it started is a cancelled one.
func TestDecodeEndReason(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"schemaVersion":1,"matchId":"m","endReason":"END_REASON_SCORE_LIMIT","players":[{"playerId":"p"}]}`, leaderboard.EndScoreLimit},
		{`{"schemaVersion":1,"matchId":"m","endReason":"END_REASON_TIME_LIMIT","players":[{"playerId":"p"}]}`, leaderboard.EndTimeLimit},
		{`{"schemaVersion":1,"matchId":"m","startedAt":"2026-01-01T00:00:00Z","endReason":"END_REASON_ABANDONED","players":[{"playerId":"p"}]}`, leaderboard.EndAbandoned},
		{`{"schemaVersion":1,"matchId":"m","endReason":"END_REASON_ABANDONED","players":[{"playerId":"p"}]}`, leaderboard.EndCancelled},
		{`{"schemaVersion":1,"matchId":"m","endReason":"END_REASON_SHUTDOWN","players":[{"playerId":"p"}]}`, leaderboard.EndShutdown},
		{`{"schemaVersion":1,"matchId":"m","endReason":"END_REASON_SERVER_LOST","players":[{"playerId":"p"}]}`, leaderboard.EndServerLost},
		{`{"schemaVersion":1,"matchId":"m","endReason":99,"players":[{"playerId":"p"}]}`, ""},
		{`{"schemaVersion":1,"matchId":"m","players":[{"playerId":"p"}]}`, ""},
	}
	for _, tt := range tests {
		m, err := stats.Decode([]byte(tt.body))
		if err != nil || m.EndReason != tt.want {
			t.Errorf("Decode(%s).EndReason = %q, %v; want %q", tt.body, m.EndReason, err, tt.want)
		}
	}
}
