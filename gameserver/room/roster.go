package room

import (
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// The roster tells every player who is in the match: each seat's entity,
// player id, display name (from the seat, which the matchmaker filled from
// the signed-in session), team and presence. A joining player gets it in
// its Welcome; the others get a Roster message when it changes. Changes are
// rare (a join, a return, a drop, a leave, a backfill seat), so the room
// marks the roster changed where they happen and sends it whole, encoded
// when it is done with the event or the tick (flushRoster): never on a tick
// where nothing changed.

// rosterChanged records that a seat's presence, entity or the seats
// themselves changed.
func (r *Room) rosterChanged() { r.rosterVersion++ }

// presence is a seat's presence as the roster shows it.
func presence(st *seat) skirmishv1.Presence {
	switch {
	case st.left:
		return skirmishv1.Presence_PRESENCE_LEFT
	case st.session != nil:
		return skirmishv1.Presence_PRESENCE_CONNECTED
	case st.joined:
		return skirmishv1.Presence_PRESENCE_DROPPED
	default:
		return skirmishv1.Presence_PRESENCE_WAITING
	}
}

// roster lists every seat in seat order (the matchmaker's, then backfill
// seats as added).
func (r *Room) roster() []*skirmishv1.RosterEntry {
	out := make([]*skirmishv1.RosterEntry, len(r.seats))
	for i, st := range r.seats {
		team := st.team
		if !st.joined {
			team = st.Team
		}
		out[i] = &skirmishv1.RosterEntry{
			EntityId: st.entity,
			PlayerId: st.PlayerID,
			Name:     st.Name,
			Team:     team,
			Presence: presence(st),
		}
	}
	return out
}

// flushRoster sends the roster to every connected player that has not seen
// its current version, once it changed; a player welcomed since the change
// has it already. It goes through the session's reliable queue like a
// Welcome (a few dozen bytes a player, a few times a match).
func (r *Room) flushRoster() {
	if r.rosterSent == r.rosterVersion {
		return
	}
	r.rosterSent = r.rosterVersion
	var m *skirmishv1.ServerMessage
	for _, st := range r.seats {
		if st.session == nil || st.rosterSeen == r.rosterVersion {
			continue
		}
		if m == nil {
			m = &skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Roster{Roster: &skirmishv1.Roster{Players: r.roster()}}}
		}
		st.rosterSeen = r.rosterVersion
		st.session.send(m)
	}
}
