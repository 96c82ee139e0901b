package matchmaker

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/skirmishgg/skirmish/internal/auth"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// invite returns a party invite the member mints, with their own
// session, for the leader and mode.
func (e *env) invite(t testing.TB, member, leader, mode string) string {
	t.Helper()
	resp, err := e.mm.CreatePartyInvite(e.as(t, member), &skirmishv1.CreatePartyInviteRequest{LeaderId: leader, Mode: mode})
	if err != nil {
		t.Fatalf("CreatePartyInvite(%s for %s): %v", member, leader, err)
	}
	return resp.GetInvite()
}

// token returns a session token for the player.
func (e *env) token(t testing.TB, player string) string {
	t.Helper()
	tok, err := e.keys.IssueSession(auth.Session{PlayerID: player, Name: "name-" + player}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestPartyMatch: a party of two plays a 2v2 on one team against two
// single players; the member joins with a party invite, never their
// session token; every member watches the ticket and gets their own join
// token.
func TestPartyMatch(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{FormationInterval: 10 * time.Millisecond, Modes: map[string]Mode{
			"team": {Teams: 2, TeamSize: 2, MinPlayers: 4, MaxWait: time.Minute, Window: SkillWindow{Initial: 500, Max: 500}},
		}}, nil)
		rs := e.startGameserver(t, "gs1", 0)
		alice, bob := e.as(t, "alice"), e.as(t, "bob")
		resp, err := e.mm.CreateTicket(alice, &skirmishv1.CreateTicketRequest{Mode: "team", PartyInvites: []string{e.invite(t, "bob", "alice", "team")}})
		if err != nil {
			t.Fatalf("CreateTicket with a party: %v", err)
		}
		party := resp.GetTicket()
		if got := strings.Join(party.GetPlayerIds(), ","); got != "alice,bob" {
			t.Errorf("party ticket players = %s, want alice,bob", got)
		}
		// Bob is on the ticket: he may read it and may not start another.
		if got, err := e.mm.GetTicket(bob, &skirmishv1.GetTicketRequest{TicketId: party.GetId()}); err != nil || got.GetTicket().GetId() != party.GetId() {
			t.Fatalf("bob's GetTicket = %v, %v", got, err)
		}
		if _, err := e.mm.CreateTicket(bob, &skirmishv1.CreateTicketRequest{Mode: "team"}); status.Code(err) != codes.AlreadyExists {
			t.Errorf("bob's own CreateTicket = %v, want AlreadyExists", err)
		}
		watches := map[string]<-chan *skirmishv1.Ticket{
			"alice": e.watch(t, alice, party.GetId()),
			"bob":   e.watch(t, bob, party.GetId()),
		}
		for _, p := range []string{"carol", "dave"} {
			ctx := e.as(t, p)
			watches[p] = e.watch(t, ctx, e.create(t, ctx, "team").GetId())
		}
		teamOf := map[string]uint32{}
		for player, w := range watches {
			final := waitFinal(t, w)
			if final.GetState() != skirmishv1.TicketState_TICKET_STATE_MATCHED {
				t.Fatalf("%s's ticket ended %v (%s), want MATCHED", player, final.GetState(), final.GetFailureReason())
			}
			join, err := e.keys.VerifyJoin(final.GetAssignment().GetJoinToken())
			if err != nil || join.PlayerID != player {
				t.Errorf("%s's join token = %+v, %v; want one for %s", player, join, err, player)
			}
			teamOf[player] = final.GetAssignment().GetTeam()
		}
		if teamOf["alice"] != teamOf["bob"] || teamOf["carol"] != teamOf["dave"] || teamOf["alice"] == teamOf["carol"] {
			t.Errorf("teams %v, want the party alice+bob against carol+dave", teamOf)
		}
		req := <-rs.calls
		if len(req.GetSeats()) != 4 {
			t.Errorf("CreateRoom seats = %v, want 4", req.GetSeats())
		}
	})
}

// TestPartyCancelByMember: any member may cancel the party's ticket, and
// every member may then search again.
func TestPartyCancelByMember(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{}, nil)
		alice, bob := e.as(t, "alice"), e.as(t, "bob")
		inv := e.invite(t, "bob", "alice", "team")
		resp, err := e.mm.CreateTicket(alice, &skirmishv1.CreateTicketRequest{Mode: "team", PartyInvites: []string{inv}})
		if err != nil {
			t.Fatal(err)
		}
		w := e.watch(t, alice, resp.GetTicket().GetId())
		if _, err := e.mm.CancelTicket(bob, &skirmishv1.CancelTicketRequest{TicketId: resp.GetTicket().GetId()}); err != nil {
			t.Fatalf("bob's CancelTicket: %v", err)
		}
		if final := waitFinal(t, w); final.GetState() != skirmishv1.TicketState_TICKET_STATE_CANCELLED {
			t.Errorf("alice saw %v, want CANCELLED", final.GetState())
		}
		// The invite was used up: alice cannot put bob on a ticket again
		// without a new one.
		_, err = e.mm.CreateTicket(alice, &skirmishv1.CreateTicketRequest{Mode: "team", PartyInvites: []string{inv}})
		if status.Code(err) != codes.InvalidArgument || !strings.HasPrefix(status.Convert(err).Message(), "party_invites[0]") {
			t.Errorf("CreateTicket with a used invite = %v, want InvalidArgument on party_invites[0]", err)
		}
		e.create(t, bob, "duel")
		e.create(t, alice, "duel")
	})
}

func TestPartyBadRequests(t *testing.T) {
	eachStore(t, func(t *testing.T, start starter) {
		e := start(t, Config{PartyInviteTTL: time.Minute}, nil)
		alice := e.as(t, "alice")
		e.create(t, e.as(t, "busy"), "duel")
		expired, _, err := e.keys.IssueInvite(auth.Invite{PlayerID: "bob", LeaderID: "alice", Mode: "team"}, -time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		inv := func(member, mode string) string { return e.invite(t, member, "alice", mode) }
		tests := []struct {
			name    string
			mode    string
			invites []string
			tokens  []string
			code    codes.Code
			field   string
		}{
			{"session token of a member", "team", nil, []string{e.token(t, "bob")}, codes.InvalidArgument, "party_tokens"},
			{"party in a 1v1 mode", "duel", []string{inv("bob", "duel")}, nil, codes.InvalidArgument, "party_invites"},
			{"party larger than the team", "team", []string{inv("bob", "team"), inv("carol", "team")}, nil, codes.InvalidArgument, "party_invites"},
			{"empty invite", "team", []string{""}, nil, codes.InvalidArgument, "party_invites[0]"},
			{"bad invite", "team4", []string{inv("bob", "team4"), "not-a-token"}, nil, codes.InvalidArgument, "party_invites[1]"},
			{"a session token as invite", "team", []string{e.token(t, "bob")}, nil, codes.InvalidArgument, "party_invites[0]"},
			{"expired invite", "team", []string{expired}, nil, codes.InvalidArgument, "party_invites[0]"},
			{"invite for another leader", "team", []string{e.invite(t, "bob", "mallory", "team")}, nil, codes.InvalidArgument, "party_invites[0]"},
			{"invite for another mode", "team", []string{inv("bob", "team4")}, nil, codes.InvalidArgument, "party_invites[0]"},
			{"the same member twice", "team4", []string{inv("bob", "team4"), inv("bob", "team4")}, nil, codes.InvalidArgument, "party_invites[1]"},
			{"member with an active ticket", "team4", []string{inv("bob", "team4"), inv("busy", "team4")}, nil, codes.AlreadyExists, "party_invites[1]"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.mm.CreateTicket(alice, &skirmishv1.CreateTicketRequest{Mode: tt.mode, PartyInvites: tt.invites, PartyTokens: tt.tokens})
				if status.Code(err) != tt.code {
					t.Fatalf("code = %v (%v), want %v", status.Code(err), err, tt.code)
				}
				if msg := status.Convert(err).Message(); !strings.HasPrefix(msg, tt.field) {
					t.Errorf("message %q does not start with the field %q", msg, tt.field)
				}
			})
		}
		// None of the failed calls left a ticket behind.
		e.create(t, alice, "duel")
	})
}

func TestCreatePartyInviteBadRequests(t *testing.T) {
	e := startMatchmaker(t, Config{})
	bob := e.as(t, "bob")
	tests := []struct {
		name  string
		req   *skirmishv1.CreatePartyInviteRequest
		field string
	}{
		{"no leader", &skirmishv1.CreatePartyInviteRequest{Mode: "team"}, "leader_id"},
		{"long leader", &skirmishv1.CreatePartyInviteRequest{LeaderId: strings.Repeat("x", 1000), Mode: "team"}, "leader_id"},
		{"the caller", &skirmishv1.CreatePartyInviteRequest{LeaderId: "bob", Mode: "team"}, "leader_id"},
		{"unknown mode", &skirmishv1.CreatePartyInviteRequest{LeaderId: "alice", Mode: "chess"}, "mode"},
		{"no mode", &skirmishv1.CreatePartyInviteRequest{LeaderId: "alice"}, "mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.mm.CreatePartyInvite(bob, tt.req)
			if status.Code(err) != codes.InvalidArgument || !strings.HasPrefix(status.Convert(err).Message(), tt.field) {
				t.Errorf("CreatePartyInvite = %v, want InvalidArgument on %s", err, tt.field)
			}
		})
	}
}
