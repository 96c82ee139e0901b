package matchmaker

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestNoShowCannotRematchVictim is the issue's example: bob is matched
// with alice, never joins, and queues again at once. When the gameserver
// cancels the room, bob's new ticket ends and bob may not queue again for
// his cooldown (FAILED_PRECONDITION with the wait as RetryInfo); alice
// goes back to the front of the queue and is matched with the next
// player, never with bob.
func TestNoShowCannotRematchVictim(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond, NoShowCooldowns: []time.Duration{time.Hour}}, nil)
		rs := e.startGameserver(t, "gs1", 0)
		first := e.duel(t, "alice", "bob")
		<-rs.calls
		alice, bob := e.as(t, "alice"), e.as(t, "bob")
		// Bob queues again while the room waits for him.
		again := e.create(t, bob, "duel")
		wb := e.watch(t, bob, again.GetId())
		e.report(t, &skirmishv1.ReportRoomRequest{
			GameserverId: "gs1", RoomId: first.GetAssignment().GetRoomId(), MatchId: first.GetAssignment().GetMatchId(), Mode: "duel",
			Event: skirmishv1.RoomEvent_ROOM_EVENT_CANCELLED, MissingPlayerIds: []string{"bob"},
		})
		if final := waitFinal(t, wb); final.GetState() != skirmishv1.TicketState_TICKET_STATE_FAILED || final.GetFailureReason() != noShowReason {
			t.Fatalf("bob's second ticket ended %v (%q), want FAILED (%q)", final.GetState(), final.GetFailureReason(), noShowReason)
		}
		if n := plainCounter(t, e, "skirmish_matchmaker_no_shows_total"); n != 1 {
			t.Errorf("skirmish_matchmaker_no_shows_total = %v, want 1", n)
		}
		_, err := e.mm.CreateTicket(bob, &skirmishv1.CreateTicketRequest{Mode: "duel"})
		st := status.Convert(err)
		if st.Code() != codes.FailedPrecondition {
			t.Fatalf("bob's CreateTicket during his cooldown = %v, want FailedPrecondition", err)
		}
		var retry *errdetails.RetryInfo
		for _, d := range st.Details() {
			if r, ok := d.(*errdetails.RetryInfo); ok {
				retry = r
			}
		}
		if d := retry.GetRetryDelay().AsDuration(); retry == nil || d <= 0 || d > time.Hour {
			t.Errorf("RetryInfo = %v, want a delay in (0, 1h]", retry)
		}
		// Alice was requeued; the next player (created after her) is the
		// one she plays, in a new room.
		carol := e.as(t, "carol")
		wc := e.watch(t, carol, e.create(t, carol, "duel").GetId())
		fa, fc := waitFinal(t, e.watch(t, alice, first.GetId())), waitFinal(t, wc)
		if fa.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED || fc.GetAssignment().GetRoomId() != fa.GetAssignment().GetRoomId() ||
			fa.GetAssignment().GetRoomId() == first.GetAssignment().GetRoomId() {
			t.Fatalf("alice %v, carol %v: want both MATCHED into one new room", fa, fc)
		}
		req := <-rs.calls
		var players []string
		for _, s := range req.GetSeats() {
			players = append(players, s.GetPlayerId())
		}
		if slices.Contains(players, "bob") || len(players) != 2 {
			t.Errorf("second room seats %v, want alice and carol", players)
		}
	})
}

// TestRequeuedAtFront: a cancelled room's present player goes back at
// the front of the queue, ahead of players who queued after her first
// ticket. Dave and carol (equal ratings) queued while alice's room waited;
// alice is 100 points away, at the edge of the fixed skill window, so she
// would be left out if dave or carol were served first, as they fit each
// other best. Served first, alice is in the next match. For both stores,
// at chosen times.
func TestRequeuedAtFront(t *testing.T) {
	window := SkillWindow{Initial: 100, Max: 100}
	cfg, err := Config{Modes: map[string]Mode{"duel": {Teams: 2, TeamSize: 1, MinPlayers: 2, MaxWait: time.Hour, Window: window}}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for name, mk := range storeBackends(cfg) {
		t.Run(name, func(t *testing.T) {
			b := mk(t)
			ctx := context.Background()
			t0 := time.Now()
			add := func(id string, rating float64, at time.Duration) {
				tk := newTicket("t-"+id, "duel", "", []member{{id: id, rating: rating}}, nil, t0.Add(at))
				if err := b.st.addTicket(ctx, tk); err != nil {
					t.Fatal(err)
				}
			}
			pass := func(now time.Time) [][]string {
				ms, err := b.st.pass(ctx, now)
				if err != nil {
					t.Fatal(err)
				}
				var out [][]string
				for _, m := range ms {
					var ids []string
					for _, tk := range m.tickets {
						ids = append(ids, tk.members[0].id)
					}
					slices.Sort(ids)
					out = append(out, ids)
				}
				return out
			}
			add("alice", 1600, 0)
			add("bob", 1600, time.Millisecond)
			now := t0.Add(time.Second)
			ms, err := b.st.pass(ctx, now)
			if err != nil || len(ms) != 1 {
				t.Fatalf("first pass = %v, %v; want one match", ms, err)
			}
			m := ms[0]
			m.gameserverID, m.roomID, m.matchID = "gs1", "room-1", "match-1"
			assign := map[string]*skirmishv1.Assignment{}
			for _, id := range []string{"alice", "bob"} {
				assign[id] = &skirmishv1.Assignment{MatchId: "match-1", RoomId: "room-1"}
			}
			if err := b.st.matched(ctx, m, assign, now); err != nil {
				t.Fatal(err)
			}
			add("dave", 1500, 2*time.Second)
			add("carol", 1500, 3*time.Second)
			now = t0.Add(4 * time.Second)
			if _, requeued, err := b.st.roomCancelled(ctx, "gs1", "room-1", []string{"bob"}, now); err != nil || requeued != 1 {
				t.Fatalf("roomCancelled = %d requeued, %v; want 1", requeued, err)
			}
			got := pass(now)
			if len(got) != 1 || !slices.Contains(got[0], "alice") {
				t.Errorf("pass after the cancel formed %v, want one match with alice in it", got)
			}
		})
	}
}

type storeBackend struct {
	st      store
	addRoom func(roomID string, players ...string)
}

// storeBackends makes each store with the config, and a way to plant a
// room of the given players in it.
func storeBackends(cfg Config) map[string]func(t *testing.T) storeBackend {
	return map[string]func(t *testing.T) storeBackend{
		"memory": func(t *testing.T) storeBackend {
			met, err := newMetrics(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			s := newMemoryStore(cfg, met)
			return storeBackend{s, func(roomID string, players ...string) {
				var members []member
				for _, p := range players {
					members = append(members, member{id: p})
				}
				s.pool.mu.Lock()
				s.pool.rooms[roomKey{"gs1", roomID}] = &room{tickets: []*ticket{newTicket("t-"+roomID, "duel", "", members, nil, time.Now())}}
				s.pool.mu.Unlock()
			}}
		},
		"redis": func(t *testing.T) storeBackend {
			c, prefix := redisFor(t)
			met, err := newMetrics(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			s, err := newRedisStore(cfg, c, prefix, "r1", met, testLog())
			if err != nil {
				t.Fatal(err)
			}
			return storeBackend{s, func(roomID string, players ...string) {
				rec := &roomRec{MatchID: "m-" + roomID, Mode: "duel"}
				for _, p := range players {
					rec.Players = append(rec.Players, playerRec{ID: p})
				}
				if _, err := s.updateRoom(t.Context(), "gs1", roomID, func(*roomRec) *roomRec { return rec }); err != nil {
					t.Fatal(err)
				}
			}}
		},
	}
}

// TestNoShowEscalates: each no-show in a row makes the cooldown longer,
// the last step repeats, one no-show is forgiven per NoShowDecay, and a
// player the report names who was not in the room gets nothing; for
// both stores, at chosen times.
func TestNoShowEscalates(t *testing.T) {
	cfg, err := Config{NoShowCooldowns: []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute}, NoShowDecay: time.Hour}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	backends := storeBackends(cfg)
	t0 := time.Now().Truncate(time.Second)
	steps := []struct {
		at     time.Duration // a no-show of bob at t0+at
		cooled time.Duration // his cooldown after it
	}{
		{0, 30 * time.Second},
		{time.Minute, 2 * time.Minute},
		{4 * time.Minute, 10 * time.Minute},
		{15 * time.Minute, 10 * time.Minute},              // the last step repeats
		{15*time.Minute + 2*time.Hour, 10 * time.Minute},  // two forgiven: the third step again
		{15*time.Minute + 10*time.Hour, 30 * time.Second}, // all forgiven: the first step
	}
	for name, mk := range backends {
		t.Run(name, func(t *testing.T) {
			b := mk(t)
			ctx := context.Background()
			for i, s := range steps {
				room := "r" + string(rune('a'+i))
				b.addRoom(room, "alice", "bob")
				now := t0.Add(s.at)
				if _, _, err := b.st.roomCancelled(ctx, "gs1", room, []string{"bob", "mallory"}, now); err != nil {
					t.Fatal(err)
				}
				player, until, err := b.st.cooldown(ctx, []string{"alice", "mallory", "bob"}, now.Add(s.cooled-time.Second))
				if err != nil || player != "bob" || !until.Equal(now.Add(s.cooled)) {
					t.Fatalf("no-show %d: cooldown = %q until %v, %v; want bob until +%v", i+1, player, until.Sub(now), err, s.cooled)
				}
				if player, _, _ := b.st.cooldown(ctx, []string{"alice", "mallory", "bob"}, now.Add(s.cooled)); player != "" {
					t.Fatalf("no-show %d: cooldown at its end = %q, want none", i+1, player)
				}
			}
		})
	}
}

// TestRefreshJoinToken: a player whose join token expired gets a new one
// for the same seat with their session while the room runs; another
// player's token, a forged one and a token of an ended room are refused.
func TestRefreshJoinToken(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond, JoinRefreshMaxAge: time.Hour}, nil)
		e.startGameserver(t, "gs1", 0)
		as := e.duel(t, "alice", "bob").GetAssignment()
		alice := e.as(t, "alice")
		seat, err := e.keys.VerifyJoin(as.GetJoinToken())
		if err != nil || seat.GameserverID != "gs1" {
			t.Fatalf("alice's join token = %+v, %v; want one naming gs1", seat, err)
		}
		// The same seat, as a token that expired a minute ago.
		expired, err := e.keys.IssueJoin(seat, -time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.keys.VerifyJoin(expired); err == nil {
			t.Fatal("the expired token verifies")
		}
		resp, err := e.mm.RefreshJoinToken(alice, &skirmishv1.RefreshJoinTokenRequest{JoinToken: expired})
		if err != nil {
			t.Fatalf("RefreshJoinToken(expired): %v", err)
		}
		if got, err := e.keys.VerifyJoin(resp.GetJoinToken()); err != nil || got != seat {
			t.Errorf("refreshed token = %+v, %v; want %+v", got, err, seat)
		}
		other := testKeys(t)
		forged, _ := other.IssueJoin(seat, time.Minute)
		session := e.token(t, "alice")
		// A seat whose first token is older than join_refresh_max_age,
		// however new its latest: refreshes do not extend the limit.
		stale := seat
		stale.FirstIssued = time.Now().Add(-time.Hour - time.Minute)
		staleTok, err := e.keys.IssueJoin(stale, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			ctx  context.Context
			tok  string
			code codes.Code
		}{
			{"another player's token", e.as(t, "bob"), expired, codes.PermissionDenied},
			{"forged", alice, forged, codes.InvalidArgument},
			{"first issued too long ago", alice, staleTok, codes.InvalidArgument},
			{"session token", alice, session, codes.InvalidArgument},
			{"empty", alice, "", codes.InvalidArgument},
		} {
			if _, err := e.mm.RefreshJoinToken(tt.ctx, &skirmishv1.RefreshJoinTokenRequest{JoinToken: tt.tok}); status.Code(err) != tt.code {
				t.Errorf("RefreshJoinToken(%s) = %v, want %v", tt.name, err, tt.code)
			}
		}
		e.report(t, &skirmishv1.ReportRoomRequest{GameserverId: "gs1", RoomId: as.GetRoomId(), Event: skirmishv1.RoomEvent_ROOM_EVENT_ENDED})
		if _, err := e.mm.RefreshJoinToken(alice, &skirmishv1.RefreshJoinTokenRequest{JoinToken: expired}); status.Code(err) != codes.FailedPrecondition {
			t.Errorf("RefreshJoinToken after the room ended = %v, want FailedPrecondition", err)
		}
	})
}

// TestMatchmakerHoldsOnlyItsKeys: given every key, the matchmaker keeps
// the private key only of the kinds it mints.
func TestMatchmakerHoldsOnlyItsKeys(t *testing.T) {
	m, err := New(Config{}, testKeys(t), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.keys.CanSign(auth.KindSession) || !m.keys.CanVerify(auth.KindSession) || !m.keys.CanSign(auth.KindJoin) {
		t.Errorf("matchmaker keys: sign session %v, verify session %v, sign join %v; want false, true, true",
			m.keys.CanSign(auth.KindSession), m.keys.CanVerify(auth.KindSession), m.keys.CanSign(auth.KindJoin))
	}
	verifyOnly, err := testKeys(t).Only(auth.Needs{auth.KindSession: auth.Verify, auth.KindJoin: auth.Verify, auth.KindInvite: auth.Sign, auth.KindControl: auth.Sign, auth.KindRegistry: auth.Verify})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{}, verifyOnly, nil, nil, nil); err == nil {
		t.Error("New with a verify-only join key = nil error, want one: the matchmaker mints join tokens")
	}
}

// plainCounter is the value of an unlabelled counter.
func plainCounter(t testing.TB, e *env, name string) float64 {
	t.Helper()
	families, err := e.prom.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

// TestNoShowFencesRedisPass: a no-show recorded between a formation
// pass's read and its commit (on another replica, say) ends the no-show's
// searching ticket, and the pass's claim on it fails its compare-and-set:
// the no-show is not matched with the ticket read alongside.
func TestNoShowFencesRedisPass(t *testing.T) {
	window := SkillWindow{Initial: 100, Max: 100}
	cfg, err := Config{Modes: map[string]Mode{"duel": {Teams: 2, TeamSize: 1, MinPlayers: 2, MaxWait: time.Hour, Window: window}}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	c, prefix := redisFor(t)
	met, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s, err := newRedisStore(cfg, c, prefix, "r1", met, testLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Now()
	for i, id := range []string{"alice", "bob"} {
		if err := s.addTicket(ctx, newTicket("t-"+id, "duel", "", []member{{id: id, rating: 1500}}, nil, t0.Add(time.Duration(i)*time.Millisecond))); err != nil {
			t.Fatal(err)
		}
	}
	// Bob's earlier room, waiting for him.
	if _, err := s.updateRoom(ctx, "gs1", "room-0", func(*roomRec) *roomRec {
		return &roomRec{MatchID: "m0", Mode: "duel", Players: []playerRec{{ID: "bob"}, {ID: "carol"}}}
	}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Second)
	s.hooks.beforeClaim = func() {
		if _, _, err := s.roomCancelled(ctx, "gs1", "room-0", []string{"bob"}, now); err != nil {
			t.Error(err)
		}
	}
	ms, err := s.pass(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 0 {
		t.Fatalf("pass committed %d matches, want 0: bob's ticket changed after the read", len(ms))
	}
	if pb, _, err := s.view(ctx, "t-bob", "bob", now); err != nil || pb.GetState() != skirmishv1.TicketState_TICKET_STATE_FAILED {
		t.Errorf("bob's ticket = %v, %v; want FAILED", pb, err)
	}
	if pb, _, err := s.view(ctx, "t-alice", "alice", now); err != nil || pb.GetState() != skirmishv1.TicketState_TICKET_STATE_SEARCHING {
		t.Errorf("alice's ticket = %v, %v; want SEARCHING", pb, err)
	}
}
