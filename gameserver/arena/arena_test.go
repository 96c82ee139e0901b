package arena

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/skirmishgg/skirmish/gameserver/game"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func seats(n int, team func(i int) uint32) []game.Seat {
	s := make([]game.Seat, n)
	for i := range s {
		s[i] = game.Seat{PlayerID: string(rune('a' + i)), Name: string(rune('A' + i)), Team: team(i)}
	}
	return s
}

func newTest(t *testing.T, cfg Config, mode string, s []game.Seat) *match {
	t.Helper()
	reg, err := game.NewRegistry(Modes(cfg)...)
	if err != nil {
		t.Fatal(err)
	}
	md, err := reg.Lookup(mode)
	if err != nil {
		t.Fatal(err)
	}
	g, err := md.New(game.Config{MatchID: "m1", Mode: mode, Seats: s, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	m := g.(*match)
	for _, st := range s {
		m.Join(st.PlayerID)
	}
	return m
}

func input(seq uint32, mx, my, aim float32, fire bool) *skirmishv1.Input {
	return &skirmishv1.Input{Seq: seq, Game: &skirmishv1.Input_Arena{Arena: &skirmishv1.ArenaInput{MoveX: mx, MoveY: my, Aim: aim, Fire: fire}}}
}

func place(m *match, id string, x, y float64) {
	p := m.players[m.index[id]]
	p.x, p.y = x, y
}

func run(m *match, maxTicks int) int {
	for i := 1; i <= maxTicks; i++ {
		if m.Tick() {
			return i
		}
	}
	return -1
}

func TestDuelScoreLimit(t *testing.T) {
	m := newTest(t, Config{ScoreLimit: 1}, ModeDuel, seats(2, func(int) uint32 { return 0 }))
	place(m, "a", 100, 100)
	place(m, "b", 100, 800)
	m.Input("a", input(1, 0, 0, math.Pi/2, true))
	n := run(m, 300)
	if n < 0 {
		t.Fatalf("match did not end in 300 ticks")
	}
	o := m.Outcome()
	if o.Reason != skirmishv1.EndReason_END_REASON_SCORE_LIMIT {
		t.Errorf("Reason = %v, want SCORE_LIMIT", o.Reason)
	}
	want := []*skirmishv1.PlayerResult{
		{PlayerId: "a", Name: "A", Team: 1, Placement: 1, Eliminations: 1, Damage: 100, ShotsHit: 4, ShotsFired: m.players[0].fired,
			Stats: map[string]float64{"eliminations": 1, "deaths": 0, "damage": 100, "shots_fired": float64(m.players[0].fired), "shots_hit": 4}},
		{PlayerId: "b", Name: "B", Team: 2, Placement: 2, Deaths: 1,
			Stats: map[string]float64{"eliminations": 0, "deaths": 1, "damage": 0, "shots_fired": 0, "shots_hit": 0}},
	}
	for i := range want {
		if !proto.Equal(o.Players[i], want[i]) {
			t.Errorf("Players[%d] = %v, want %v", i, o.Players[i], want[i])
		}
	}
	if f := m.players[0].fired; f < 4 {
		t.Errorf("shots fired = %d, want at least 4", f)
	}
}

func TestTimeLimitTie(t *testing.T) {
	m := newTest(t, Config{MatchDuration: time.Second}, ModeFFA, seats(3, func(int) uint32 { return 0 }))
	if n := run(m, 100); n != 30 {
		t.Errorf("match ended after %d ticks, want 30", n)
	}
	o := m.Outcome()
	if o.Reason != skirmishv1.EndReason_END_REASON_TIME_LIMIT {
		t.Errorf("Reason = %v, want TIME_LIMIT", o.Reason)
	}
	for _, p := range o.Players {
		if p.Placement != 1 {
			t.Errorf("player %s placement = %d, want 1 (tie)", p.PlayerId, p.Placement)
		}
	}
}

func TestWallsStopPlayers(t *testing.T) {
	m := newTest(t, Config{}, ModeDuel, seats(2, func(int) uint32 { return 0 }))
	place(m, "a", 250, 300) // left of the wall at x 300..340
	m.Input("a", input(1, 1, 0, 0, false))
	run(m, 60)
	if x := m.players[0].x; x > 300-PlayerRadius || x < 270 {
		t.Errorf("x after walking into the wall = %v, want in [270, 280]", x)
	}
}

func TestTeamNoFriendlyFire(t *testing.T) {
	for _, tt := range []struct {
		mode  string
		seats int
	}{{ModeTeam, 4}, {ModeTeam4, 6}, {ModeTeam4, 8}} {
		t.Run(fmt.Sprintf("%s/%d", tt.mode, tt.seats), func(t *testing.T) {
			m := newTest(t, Config{}, tt.mode, seats(tt.seats, func(i int) uint32 { return uint32(i%2 + 1) }))
			for i := range m.players[4:] {
				place(m, m.players[4+i].seat.PlayerID, 1200, float64(300+100*i)) // out of the way
			}
			place(m, "a", 100, 100) // team 1
			place(m, "c", 100, 300) // team 1, in the line of fire
			place(m, "b", 1500, 800)
			place(m, "d", 1500, 100)
			m.Input("a", input(1, 0, 0, math.Pi/2, true))
			run(m, 60)
			if h := m.players[2].health; h != MaxHealth {
				t.Errorf("teammate health = %d, want %d", h, MaxHealth)
			}
			if f := m.players[0].fired; f == 0 {
				t.Errorf("shots fired = 0, want some")
			}
		})
	}
}

func TestAbandoned(t *testing.T) {
	m := newTest(t, Config{}, ModeDuel, seats(2, func(int) uint32 { return 0 }))
	m.Tick()
	m.Leave("b")
	if !m.Tick() {
		t.Fatalf("Tick after the opponent left = false, want true")
	}
	o := m.Outcome()
	if o.Reason != skirmishv1.EndReason_END_REASON_ABANDONED {
		t.Errorf("Reason = %v, want ABANDONED", o.Reason)
	}
	if o.Players[0].Placement != 1 || o.Players[1].Placement != 2 || !o.Players[1].Left {
		t.Errorf("Players = %v, want a first, b second and left", o.Players)
	}
}

// TestDeterministic plays the same random-looking inputs twice and
// expects identical worlds and outcomes.
func TestDeterministic(t *testing.T) {
	play := func() ([][]game.Entity, game.Outcome) {
		m := newTest(t, Config{MatchDuration: 5 * time.Second}, ModeFFA, seats(6, func(int) uint32 { return 0 }))
		r := rand.New(rand.NewPCG(1, 2))
		var worlds [][]game.Entity
		for seq := uint32(1); ; seq++ {
			for _, p := range m.players {
				m.Input(p.seat.PlayerID, input(seq, r.Float32()*2-1, r.Float32()*2-1, r.Float32()*7, r.IntN(3) == 0))
			}
			ended := m.Tick()
			worlds = append(worlds, m.Snapshot(""))
			if ended {
				return worlds, m.Outcome()
			}
		}
	}
	w1, o1 := play()
	w2, o2 := play()
	if !reflect.DeepEqual(w1, w2) {
		t.Errorf("two runs with the same inputs produced different worlds")
	}
	for i := range o1.Players {
		if !proto.Equal(o1.Players[i], o2.Players[i]) {
			t.Errorf("Players[%d] = %v then %v, want equal", i, o1.Players[i], o2.Players[i])
		}
	}
	var fired uint32
	for _, p := range o1.Players {
		fired += p.ShotsFired
	}
	if fired == 0 {
		t.Errorf("no shots fired in 5 s of random play")
	}
}

func TestSnapshotLayout(t *testing.T) {
	m := newTest(t, Config{}, ModeTeam, seats(4, func(i int) uint32 { return uint32(i/2 + 1) }))
	place(m, "a", 123.4, 56.7)
	m.Input("a", input(1, 0, 0, 1.5, true))
	m.Tick()
	w := m.Snapshot("b")
	if w[0].ID != MatchEntityID || w[0].Kind != KindMatch || len(w[0].Fields) != MatchTeamScores+2 {
		t.Fatalf("first entity = %+v, want the match entity with 4 fields", w[0])
	}
	if got := w[0].Fields[MatchEndTick]; got != 5400 {
		t.Errorf("end tick = %d, want 5400 (3 minutes at 30 Hz)", got)
	}
	a := w[1]
	wantA := []int32{1234, 567, 15, MaxHealth, 1, 0, 0, 0} // aim 1.5 rad = step 15 of 64
	if a.ID != 2 || a.Kind != KindPlayer || !reflect.DeepEqual(a.Fields, wantA) {
		t.Errorf("player a = %+v, want id 2 kind 1 fields %v", a, wantA)
	}
	last := w[len(w)-1]
	if last.Kind != KindProjectile || last.ID != firstProjectileID || last.Fields[ProjectileOwner] != 2 {
		t.Errorf("last entity = %+v, want a projectile %d owned by 2", last, firstProjectileID)
	}
	for i := 1; i < len(w); i++ {
		if w[i-1].ID >= w[i].ID {
			t.Errorf("entities not sorted by id: %d before %d", w[i-1].ID, w[i].ID)
		}
	}
}

func TestModeSeats(t *testing.T) {
	reg, err := game.NewRegistry(Modes(Config{})...)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode  string
		seats []game.Seat
		ok    bool
	}{
		{ModeDuel, seats(2, func(int) uint32 { return 0 }), true},
		{ModeDuel, seats(3, func(int) uint32 { return 0 }), false},
		{ModeFFA, seats(8, func(int) uint32 { return 0 }), true},
		{ModeFFA, seats(9, func(int) uint32 { return 0 }), false},
		{ModeTeam, seats(4, func(i int) uint32 { return uint32(i%2 + 1) }), true},
		{ModeTeam, seats(8, func(i int) uint32 { return uint32(i%2 + 1) }), true},
		{ModeTeam, seats(4, func(i int) uint32 { return 1 }), false},
		{ModeTeam, seats(6, func(i int) uint32 { return uint32(i%2 + 1) }), true},
		{ModeTeam, seats(2, func(i int) uint32 { return uint32(i%2 + 1) }), false},
		{ModeTeam, seats(10, func(i int) uint32 { return uint32(i%2 + 1) }), false},
		{ModeTeam4, seats(8, func(i int) uint32 { return uint32(i%2 + 1) }), true},
		{ModeTeam4, seats(6, func(i int) uint32 { return uint32(i%2 + 1) }), true},
		{ModeTeam4, seats(4, func(i int) uint32 { return uint32(i%2 + 1) }), false},
		{ModeTeam4, seats(7, func(i int) uint32 { return uint32(i%2 + 1) }), false},
		{ModeTeam4, seats(8, func(i int) uint32 { return uint32(i/5 + 1) }), false},
		{ModeTeam4, seats(8, func(i int) uint32 { return 3 }), false},
	}
	for _, tt := range tests {
		md, err := reg.Lookup(tt.mode)
		if err != nil {
			t.Fatal(err)
		}
		err = md.CheckSeats(tt.seats)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, game.ErrBadSeats)) {
			t.Errorf("CheckSeats(%s, %d seats) = %v, want ok=%v", tt.mode, len(tt.seats), err, tt.ok)
		}
	}
}

// TestSnapshotFieldsSteady checks what makes deltas small: a projectile's
// fields never change after its spawn and tell where it is at any tick, a
// player standing still with a jittering aim is unchanged, and the match
// entity changes only with the score.
func TestSnapshotFieldsSteady(t *testing.T) {
	m := newTest(t, Config{}, ModeFFA, seats(2, func(int) uint32 { return 0 }))
	place(m, "a", 400, 100)
	place(m, "b", 1500, 850)
	m.Input("a", input(1, 0, 0, 0.3, true))
	m.Tick()
	first := m.Snapshot("a")
	shot := first[len(first)-1]
	if shot.Kind != KindProjectile || len(shot.Fields) != projectileFields {
		t.Fatalf("last entity = %+v, want a projectile with %d fields", shot, projectileFields)
	}
	m.Input("a", input(2, 0, 0, 0.31, false)) // jitter within one aim step
	for range 5 {
		m.Tick()
	}
	now := m.Snapshot("a")
	for _, e := range now {
		var before *game.Entity
		for i := range first {
			if first[i].ID == e.ID {
				before = &first[i]
			}
		}
		if before != nil && !reflect.DeepEqual(before.Fields, e.Fields) {
			t.Errorf("entity %d (kind %d) changed: %v -> %v", e.ID, e.Kind, before.Fields, e.Fields)
		}
	}
	// Where the fields put the projectile now, and where it is.
	dt := float64(m.tick-int(shot.Fields[ProjectileSpawnTick])) / float64(m.cfg.TickRate)
	x := float64(shot.Fields[ProjectileX])/10 + float64(shot.Fields[ProjectileVX])/10*dt
	y := float64(shot.Fields[ProjectileY])/10 + float64(shot.Fields[ProjectileVY])/10*dt
	if len(m.shots) != 1 {
		t.Fatalf("%d projectiles in flight, want 1", len(m.shots))
	}
	if s := m.shots[0]; math.Hypot(s.x-x, s.y-y) > 0.5 {
		t.Errorf("projectile extrapolated to (%.2f, %.2f), server has it at (%.2f, %.2f)", x, y, s.x, s.y)
	}
}

func TestAimStep(t *testing.T) {
	tests := []struct {
		aim  float64
		want int32
	}{
		{0, 0}, {0.04, 0}, {math.Pi / 2, 16}, {math.Pi, 32}, {-math.Pi / 2, 48}, {-0.04, 0}, {-math.Pi, 32},
	}
	for _, tt := range tests {
		if got := aimStep(tt.aim); got != tt.want {
			t.Errorf("aimStep(%v) = %d, want %d", tt.aim, got, tt.want)
		}
	}
}
