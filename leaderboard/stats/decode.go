package stats

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/skirmishgg/skirmish/leaderboard"
	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// SchemaVersion is the MatchOutcome layout this worker understands.
const SchemaVersion = 1

// maxMessage bounds a message body; SQS allows 256 KiB.
const maxMessage = 256 << 10

var decodeOptions = protojson.UnmarshalOptions{DiscardUnknown: true}

// Decode reads a queue message body: a skirmish.v1.MatchOutcome in
// protobuf JSON. Fields it does not know are ignored, so publishers may add
// some; a schema version other than 1, or a missing match id, is an error.
func Decode(body []byte) (leaderboard.Match, error) {
	if len(body) > maxMessage {
		return leaderboard.Match{}, fmt.Errorf("outcome is %d bytes, more than %d", len(body), maxMessage)
	}
	var o skirmishv1.MatchOutcome
	if err := decodeOptions.Unmarshal(body, &o); err != nil {
		return leaderboard.Match{}, fmt.Errorf("decode outcome: %w", err)
	}
	return FromProto(&o)
}

// FromProto converts and checks an outcome.
func FromProto(o *skirmishv1.MatchOutcome) (leaderboard.Match, error) {
	if v := o.GetSchemaVersion(); v != SchemaVersion {
		return leaderboard.Match{}, fmt.Errorf("outcome %q has schema version %d, want %d", o.GetMatchId(), v, SchemaVersion)
	}
	m := leaderboard.Match{
		ID:           o.GetMatchId(),
		RoomID:       o.GetRoomId(),
		Mode:         o.GetMode(),
		Region:       o.GetRegion(),
		GameserverID: o.GetGameserverId(),
		EndReason:    endReason(o.GetEndReason(), o.GetStartedAt() != nil),
	}
	if t := o.GetStartedAt(); t != nil {
		if err := t.CheckValid(); err != nil {
			return leaderboard.Match{}, fmt.Errorf("outcome %q: started_at: %w", m.ID, err)
		}
		m.StartedAt = t.AsTime()
	}
	if t := o.GetEndedAt(); t != nil {
		if err := t.CheckValid(); err != nil {
			return leaderboard.Match{}, fmt.Errorf("outcome %q: ended_at: %w", m.ID, err)
		}
		m.EndedAt = t.AsTime()
	}
	for _, t := range o.GetTeams() {
		m.Teams = append(m.Teams, leaderboard.TeamResult{Team: int64(t.GetTeam()), Score: int64(t.GetScore()), Placement: int64(t.GetPlacement())})
	}
	for _, p := range o.GetPlayers() {
		m.Players = append(m.Players, leaderboard.Result{
			PlayerID:  p.GetPlayerId(),
			Name:      p.GetName(),
			Team:      int64(p.GetTeam()),
			Placement: int64(p.GetPlacement()),
			Stats:     statsOf(p),
			Left:      p.GetLeft(),
		})
	}
	if err := m.Validate(); err != nil {
		return leaderboard.Match{}, fmt.Errorf("outcome: %w", err)
	}
	return m, nil
}

// endReason names a proto end reason the way leaderboard.Match does: its
// enum name in lower case without the END_REASON_ prefix, so a reason
// added to the proto (END_REASON_SERVER_LOST: "server_lost") needs no
// change here; a value this build does not know is "". A match abandoned
// before it started (no started_at: the room was cancelled at its join
// deadline) is leaderboard.EndCancelled.
func endReason(r skirmishv1.EndReason, started bool) string {
	if r == skirmishv1.EndReason_END_REASON_ABANDONED && !started {
		return leaderboard.EndCancelled
	}
	name, ok := skirmishv1.EndReason_name[int32(r)]
	if !ok || r == skirmishv1.EndReason_END_REASON_UNSPECIFIED {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(name, "END_REASON_"))
}

// statsOf returns a player's stats: the outcome's stats, or, when it has
// none, Arena's deprecated fields under their stat names (an outcome from
// a gameserver that predates stats), or nil when those are all zero too
// (an outcome with no results, such as a lost server's).
func statsOf(p *skirmishv1.PlayerResult) map[string]float64 {
	if len(p.GetStats()) > 0 {
		return p.GetStats()
	}
	legacy := map[string]uint32{
		"eliminations": p.GetEliminations(),
		"deaths":       p.GetDeaths(),
		"damage":       p.GetDamage(),
		"shots_fired":  p.GetShotsFired(),
		"shots_hit":    p.GetShotsHit(),
	}
	var out map[string]float64
	for name, v := range legacy {
		if v == 0 {
			continue
		}
		if out == nil {
			out = make(map[string]float64, len(legacy))
			for n := range legacy {
				out[n] = 0
			}
		}
		out[name] = float64(v)
	}
	return out
}
