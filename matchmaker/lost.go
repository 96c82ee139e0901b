package matchmaker

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// lostPlayer is a player of a match lost with its gameserver.
type lostPlayer struct {
	id, name string
	team     uint32
}

// serverLostOutcome is the record of a running match whose gameserver was
// lost: its players and teams, no results, END_REASON_SERVER_LOST, started
// when the room was allocated (the best the matchmaker knows) and ended
// when the loss was noticed. Stats workers show it in match history and
// change no rating or stat.
func serverLostOutcome(gameserverID, roomID, matchID, mode, region string, allocated, now time.Time, players []lostPlayer) *skirmishv1.MatchOutcome {
	o := &skirmishv1.MatchOutcome{
		SchemaVersion: 1,
		MatchId:       matchID,
		RoomId:        roomID,
		Mode:          mode,
		Region:        region,
		GameserverId:  gameserverID,
		StartedAt:     timestamppb.New(allocated),
		EndedAt:       timestamppb.New(now),
		EndReason:     skirmishv1.EndReason_END_REASON_SERVER_LOST,
	}
	for _, p := range players {
		o.Players = append(o.Players, &skirmishv1.PlayerResult{PlayerId: p.id, Name: p.name, Team: p.team})
	}
	return o
}
