package skirmish_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
	"github.com/skirmishgg/skirmish/matchmaker"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// leaderboardServer is a real leaderboard service (the REST API over an
// SQLite store in a temporary directory) on a loopback port, for the
// examples and tests; stop shuts it down and removes its files.
type leaderboardServer struct {
	URL   string
	Store *sqlite.Store
	stop  func()
}

func startLeaderboard(cfg httpapi.Config) (*leaderboardServer, error) {
	dir, err := os.MkdirTemp("", "skirmish-sdk-example-")
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "lb.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	key, err := auth.GenerateKey()
	if err != nil {
		return nil, err
	}
	keys, err := auth.ParseKey(key)
	if err != nil {
		return nil, err
	}
	api, err := httpapi.New(cfg, store, keys, prometheus.NewRegistry(), nil)
	if err != nil {
		store.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	srv := httptest.NewServer(api)
	return &leaderboardServer{URL: srv.URL, Store: store, stop: func() {
		srv.Close()
		store.Close()
		os.RemoveAll(dir)
	}}, nil
}

// play records a finished duel between winner and loser, as the stats
// worker does with the outcome a gameserver reports.
func (s *leaderboardServer) play(id string, winner, loser skirmish.Session, at time.Time) error {
	_, err := s.Store.ApplyOutcome(context.Background(), leaderboard.Match{
		ID: id, RoomID: "room-" + id, Mode: "duel", GameserverID: "gs", EndReason: "score_limit",
		StartedAt: at.Add(-time.Minute), EndedAt: at,
		Teams: []leaderboard.TeamResult{{Team: 1, Score: 10, Placement: 1}, {Team: 2, Score: 3, Placement: 2}},
		Players: []leaderboard.Result{
			{PlayerID: winner.PlayerID, Name: winner.Name, Team: 1, Placement: 1, Stats: map[string]float64{"eliminations": 10, "deaths": 3}},
			{PlayerID: loser.PlayerID, Name: loser.Name, Team: 2, Placement: 2, Stats: map[string]float64{"eliminations": 3, "deaths": 10}},
		},
	})
	return err
}

// A player signs in as a guest; the session's token is what the
// matchmaker takes.
func ExampleLeaderboard_SignInGuest() {
	srv, err := startLeaderboard(httpapi.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.stop()

	lb, err := skirmish.NewLeaderboard(srv.URL, skirmish.LeaderboardOptions{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := lb.SignInGuest(context.Background(), "Ada")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Name, s.PlayerID != "", s.Token != "")
	// Output: Ada true true
}

// Reading a board: the top, one player's rank, the entries around them,
// and their match history.
func ExampleLeaderboard() {
	srv, err := startLeaderboard(httpapi.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.stop()
	ctx := context.Background()
	lb, err := skirmish.NewLeaderboard(srv.URL, skirmish.LeaderboardOptions{})
	if err != nil {
		log.Fatal(err)
	}
	var ada, bob, cy skirmish.Session
	for _, p := range []struct {
		s    *skirmish.Session
		name string
	}{{&ada, "Ada"}, {&bob, "Bob"}, {&cy, "Cy"}} {
		if *p.s, err = lb.SignInGuest(ctx, p.name); err != nil {
			log.Fatal(err)
		}
	}
	t0 := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	for i, m := range [][2]skirmish.Session{{ada, bob}, {ada, cy}, {bob, cy}} {
		if err := srv.play(fmt.Sprintf("m%d", i+1), m[0], m[1], t0.Add(time.Duration(i)*time.Hour)); err != nil {
			log.Fatal(err)
		}
	}

	top, err := lb.Top(ctx, "wins", 10, "")
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range top.Entries {
		fmt.Printf("top: #%d %s %.0f\n", e.Rank, e.Name, e.Score)
	}
	me, err := lb.Rank(ctx, "eliminations", bob.PlayerID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Bob: #%d with %.0f eliminations\n", me.Rank, me.Score)
	around, err := lb.Around(ctx, "eliminations", bob.PlayerID, 1)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range around {
		fmt.Printf("around Bob: #%d %s\n", e.Rank, e.Name)
	}
	history, err := lb.Matches(ctx, ada.PlayerID, 10, "")
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range history.Matches {
		fmt.Printf("Ada's %s: %s %s\n", m.MatchID, m.Mode, m.Result.Standing)
	}
	m, err := lb.Match(ctx, "m3")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range m.Players {
		fmt.Printf("m3: %s on team %d %s\n", p.Name, p.Team, p.Standing)
	}
	// Output:
	// top: #1 Ada 2
	// top: #2 Bob 1
	// top: #3 Cy 0
	// Bob: #2 with 13 eliminations
	// around Bob: #1 Ada
	// around Bob: #2 Bob
	// around Bob: #3 Cy
	// Ada's m2: duel won
	// Ada's m1: duel won
	// m3: Bob on team 1 won
	// m3: Cy on team 2 lost
}

// Apply rebuilds the world a snapshot describes: a full one, then a delta
// against it, as the gameserver's encoder (proto/snapshot) writes them.
func ExampleApply() {
	t1 := []skirmish.Entity{{ID: 1, Kind: 1, Fields: []int32{100, 200}}, {ID: 2, Kind: 2, Fields: []int32{7}}}
	t2 := []skirmish.Entity{{ID: 1, Kind: 1, Fields: []int32{105, 200}}, {ID: 3, Kind: 2, Fields: []int32{9}}}
	var full, delta skirmishv1.Snapshot
	snapshot.Full(&full, t1)
	full.Tick = 1
	snapshot.Delta(&delta, t1, t2)
	delta.Tick, delta.BaseTick = 2, 1

	w1, err := skirmish.Apply(nil, &full)
	if err != nil {
		log.Fatal(err)
	}
	w2, err := skirmish.Apply(w1, &delta)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("delta lists", delta.Ids, "with values", delta.Values, "and removes", delta.Removed)
	for _, e := range w2.Entities {
		fmt.Println("tick", w2.Tick, "entity", e.ID, "kind", e.Kind, "fields", e.Fields)
	}
	// Output:
	// delta lists [1 3] with values [5 9] and removes [2]
	// tick 2 entity 1 kind 1 fields [105 200]
	// tick 2 entity 3 kind 2 fields [9]
}

// Over a network the matchmaker is reached with TLS; the session's token
// goes with every call. (Not run: it needs a matchmaker with a
// certificate.)
func ExampleDialMatchmakerOptions() {
	ctx := context.Background()
	lb, err := skirmish.NewLeaderboard("https://lb.example.com", skirmish.LeaderboardOptions{})
	if err != nil {
		log.Fatal(err)
	}
	s, err := lb.SignInGuest(ctx, "Ada")
	if err != nil {
		log.Fatal(err)
	}
	mm, err := skirmish.DialMatchmakerOptions(ctx, "mm.example.com:443", s, skirmish.MatchmakerOptions{
		TLS:     &tls.Config{MinVersion: tls.VersionTLS12},
		Backoff: skirmish.Backoff{Max: 10 * time.Second},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mm.Close()
	a, err := mm.FindMatch(ctx, "duel", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("play in room", a.GetRoomId(), "at", a.GetWebsocketUrl())
}

// A party searches as one ticket: each member mints a party invite for
// the leader (their session token never leaves them); the leader creates
// the ticket with the invites and hands its id to the members; each member
// awaits the same ticket for their own assignment. (Not run here;
// cmd/skirmish's TestSDKParty plays it through a whole system.)
func ExampleMatchmaker_FindMatchOptions() {
	ctx := context.Background()
	var leader, member *skirmish.Matchmaker // each dialled with its own session
	var leaderSession skirmish.Session
	invite, err := member.CreatePartyInvite(ctx, leaderSession.PlayerID, "team")
	if err != nil {
		log.Fatal(err)
	}
	ticketIDs := make(chan string, 1)
	go func() {
		a, err := member.AwaitMatch(ctx, <-ticketIDs, nil)
		if err != nil {
			log.Print(err)
			return
		}
		fmt.Println("member plays on team", a.GetTeam())
	}()
	a, err := leader.FindMatchOptions(ctx, "team", skirmish.FindOptions{
		PartyInvites: []string{invite},
		OnTicket:     func(t *skirmishv1.Ticket) { ticketIDs <- t.GetId() },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("leader plays on team", a.GetTeam())
}

// After a drop (the network went away, not the match), Rejoin returns to
// the same seat with the assignment's join token while the gameserver
// holds it; with JoinOptions.Refresh set, a token that expired meanwhile
// is exchanged for a new one first. (Not run here; cmd/skirmish's
// TestSDKRejoin cuts a real connection.)
func ExampleGame_Rejoin() {
	ctx := context.Background()
	var mm *skirmish.Matchmaker
	var a *skirmishv1.Assignment // from mm.FindMatch
	g, err := skirmish.Join(ctx, a, skirmish.JoinOptions{Refresh: mm.RefreshJoinToken})
	if err != nil {
		log.Fatal(err)
	}
	<-g.Done()
	if g.Dropped() {
		again, err := g.Rejoin(ctx, skirmish.Backoff{Initial: 100 * time.Millisecond, Attempts: 8})
		if err != nil {
			log.Fatal(err) // e.g. a *skirmish.ServerError: the room has ended
		}
		g = again
	}
	<-g.Done()
	fmt.Println("outcome:", g.Outcome())
}

// A ticket searches until it is matched, expires or is cancelled; here a
// real matchmaker (behind TLS, with no gameserver registered) holds it
// until the player cancels.
func ExampleMatchmaker_CreateTicket() {
	srv, err := startMatchmaker(matchmaker.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.stop()
	ctx := context.Background()
	ada, err := srv.session("ada")
	if err != nil {
		log.Fatal(err)
	}

	mm, err := skirmish.DialMatchmakerOptions(ctx, srv.Addr, ada, skirmish.MatchmakerOptions{TLS: srv.TLS})
	if err != nil {
		log.Fatal(err)
	}
	defer mm.Close()
	t, err := mm.CreateTicket(ctx, "duel", skirmish.FindOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.GetMode(), t.GetState(), t.GetPlayerIds())
	if err := mm.CancelTicket(ctx, t.GetId()); err != nil {
		log.Fatal(err)
	}
	_, err = mm.AwaitMatch(ctx, t.GetId(), func(t *skirmishv1.Ticket) { fmt.Println("now", t.GetState()) })
	fmt.Println("ended without a match:", errors.Is(err, skirmish.ErrTicketEnded))
	// Output:
	// duel TICKET_STATE_SEARCHING [ada]
	// now TICKET_STATE_CANCELLED
	// ended without a match: true
}
