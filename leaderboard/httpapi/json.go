package httpapi

import (
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// The JSON shapes of the API; openapi.json describes the same.

type guestRequest struct {
	Name string `json:"name"`
}

type guestResponse struct {
	PlayerID  string    `json:"player_id"`
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

type boardJSON struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Order    string `json:"order"`
	Operator string `json:"operator"`
	Metric   string `json:"metric"`
	// Reset is the cron schedule that ends seasons; empty: never.
	Reset         string     `json:"reset,omitempty"`
	Season        int64      `json:"season"`
	SeasonStarted *time.Time `json:"season_started,omitempty"`
}

type boardsResponse struct {
	Leaderboards []boardJSON `json:"leaderboards"`
}

type entryJSON struct {
	Rank      int64     `json:"rank"`
	PlayerID  string    `json:"player_id"`
	Name      string    `json:"name"`
	Score     float64   `json:"score"`
	UpdatedAt time.Time `json:"updated_at"`
}

type entriesResponse struct {
	Leaderboard string      `json:"leaderboard"`
	Entries     []entryJSON `json:"entries"`
	// NextCursor fetches the next page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

type playerJSON struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	CreatedAt    time.Time `json:"created_at"`
	Rating       float64   `json:"rating"`
	Matches      int64     `json:"matches"`
	Wins         int64     `json:"wins"`
	Losses       int64     `json:"losses"`
	Draws        int64     `json:"draws"`
	Eliminations int64     `json:"eliminations"`
	Deaths       int64     `json:"deaths"`
	Damage       int64     `json:"damage"`
	ShotsFired   int64     `json:"shots_fired"`
	ShotsHit     int64     `json:"shots_hit"`
}

type resultJSON struct {
	PlayerID     string  `json:"player_id"`
	Name         string  `json:"name"`
	Team         int64   `json:"team"`
	Placement    int64   `json:"placement"`
	Standing     string  `json:"standing"`
	Eliminations int64   `json:"eliminations"`
	Deaths       int64   `json:"deaths"`
	Damage       int64   `json:"damage"`
	ShotsFired   int64   `json:"shots_fired"`
	ShotsHit     int64   `json:"shots_hit"`
	Left         bool    `json:"left"`
	RatingBefore float64 `json:"rating_before"`
	RatingAfter  float64 `json:"rating_after"`
}

type teamJSON struct {
	Team      int64 `json:"team"`
	Score     int64 `json:"score"`
	Placement int64 `json:"placement"`
}

type matchJSON struct {
	ID           string       `json:"id"`
	Mode         string       `json:"mode"`
	Region       string       `json:"region"`
	RoomID       string       `json:"room_id"`
	GameserverID string       `json:"gameserver_id"`
	StartedAt    *time.Time   `json:"started_at,omitempty"`
	EndedAt      time.Time    `json:"ended_at"`
	EndReason    string       `json:"end_reason"`
	RecordedAt   time.Time    `json:"recorded_at"`
	Teams        []teamJSON   `json:"teams"`
	Players      []resultJSON `json:"players"`
}

type playerMatchJSON struct {
	MatchID   string     `json:"match_id"`
	Mode      string     `json:"mode"`
	EndReason string     `json:"end_reason"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   time.Time  `json:"ended_at"`
	Result    resultJSON `json:"result"`
}

type playerMatchesResponse struct {
	PlayerID   string            `json:"player_id"`
	Matches    []playerMatchJSON `json:"matches"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

func toBoard(b leaderboard.Board) boardJSON {
	return boardJSON{ID: b.ID, Title: b.Title, Order: string(b.Order), Operator: string(b.Operator), Metric: string(b.Metric),
		Reset: b.Reset, Season: b.Season, SeasonStarted: optTime(b.SeasonStarted)}
}

func toEntry(e leaderboard.Entry) entryJSON {
	return entryJSON{Rank: e.Rank, PlayerID: e.PlayerID, Name: e.Name, Score: e.Score, UpdatedAt: e.Updated}
}

func toPlayer(p leaderboard.Player) playerJSON {
	return playerJSON{ID: p.ID, Name: p.Name, CreatedAt: p.Created, Rating: p.Rating,
		Matches: p.Matches, Wins: p.Wins, Losses: p.Losses, Draws: p.Matches - p.Wins - p.Losses,
		Eliminations: p.Eliminations, Deaths: p.Deaths, Damage: p.Damage, ShotsFired: p.ShotsFired, ShotsHit: p.ShotsHit}
}

func toResult(r leaderboard.Result, standing leaderboard.Standing) resultJSON {
	return resultJSON{PlayerID: r.PlayerID, Name: r.Name, Team: r.Team, Placement: r.Placement,
		Standing: standing.String(), Eliminations: r.Eliminations, Deaths: r.Deaths, Damage: r.Damage,
		ShotsFired: r.ShotsFired, ShotsHit: r.ShotsHit, Left: r.Left,
		RatingBefore: r.RatingBefore, RatingAfter: r.RatingAfter}
}

func toMatch(m leaderboard.Match) matchJSON {
	out := matchJSON{ID: m.ID, Mode: m.Mode, Region: m.Region, RoomID: m.RoomID, GameserverID: m.GameserverID,
		StartedAt: optTime(m.StartedAt), EndedAt: m.EndedAt, EndReason: m.EndReason, RecordedAt: m.Recorded,
		Teams: []teamJSON{}, Players: []resultJSON{}}
	for _, t := range m.Teams {
		out.Teams = append(out.Teams, teamJSON(t))
	}
	for _, p := range m.Players {
		out.Players = append(out.Players, toResult(p, p.Standing))
	}
	return out
}

func toPlayerMatch(pm leaderboard.PlayerMatch) playerMatchJSON {
	return playerMatchJSON{MatchID: pm.MatchID, Mode: pm.Mode, EndReason: pm.EndReason, StartedAt: optTime(pm.StartedAt), EndedAt: pm.EndedAt,
		Result: toResult(pm.Result, pm.Standing)}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
