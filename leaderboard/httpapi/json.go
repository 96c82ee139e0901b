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
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Order     string   `json:"order"`
	Stat      string   `json:"stat"`
	Aggregate string   `json:"aggregate"`
	Modes     []string `json:"modes"`
	Pool      string   `json:"pool,omitempty"`
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

// arenaJSON are Arena's five figures as fields of their own, the shape
// from before stats. Deprecated: read stats; kept for one release.
type arenaJSON struct {
	Eliminations int64 `json:"eliminations"`
	Deaths       int64 `json:"deaths"`
	Damage       int64 `json:"damage"`
	ShotsFired   int64 `json:"shots_fired"`
	ShotsHit     int64 `json:"shots_hit"`
}

func arenaOf(stats map[string]float64) arenaJSON {
	return arenaJSON{Eliminations: int64(stats["eliminations"]), Deaths: int64(stats["deaths"]), Damage: int64(stats["damage"]),
		ShotsFired: int64(stats["shots_fired"]), ShotsHit: int64(stats["shots_hit"])}
}

type poolRatingJSON struct {
	Rating  float64 `json:"rating"`
	Sigma   float64 `json:"sigma"`
	Matches int64   `json:"matches"`
}

type playerJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// Rating is the rating of the player's most played pool.
	// Deprecated: read ratings.
	Rating  float64                   `json:"rating"`
	Ratings map[string]poolRatingJSON `json:"ratings"`
	Matches int64                     `json:"matches"`
	Wins    int64                     `json:"wins"`
	Losses  int64                     `json:"losses"`
	Draws   int64                     `json:"draws"`
	Stats   map[string]float64        `json:"stats"`
	arenaJSON
}

type resultJSON struct {
	PlayerID     string             `json:"player_id"`
	Name         string             `json:"name"`
	Team         int64              `json:"team"`
	Placement    int64              `json:"placement"`
	Standing     string             `json:"standing"`
	Stats        map[string]float64 `json:"stats"`
	Left         bool               `json:"left"`
	RatingBefore float64            `json:"rating_before"`
	RatingAfter  float64            `json:"rating_after"`
	arenaJSON
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
	RatingPool   string       `json:"rating_pool"`
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
	modes := b.Modes
	if modes == nil {
		modes = []string{}
	}
	return boardJSON{ID: b.ID, Title: b.Title, Order: string(b.Order), Stat: b.Stat, Aggregate: string(b.Aggregate),
		Modes: modes, Pool: b.Pool, Reset: b.Reset, Season: b.Season, SeasonStarted: optTime(b.SeasonStarted)}
}

// nonNil makes a missing stats map an empty JSON object.
func nonNil(m map[string]float64) map[string]float64 {
	if m == nil {
		return map[string]float64{}
	}
	return m
}

func toEntry(e leaderboard.Entry) entryJSON {
	return entryJSON{Rank: e.Rank, PlayerID: e.PlayerID, Name: e.Name, Score: e.Score, UpdatedAt: e.Updated}
}

func toPlayer(p leaderboard.Player) playerJSON {
	out := playerJSON{ID: p.ID, Name: p.Name, CreatedAt: p.Created, Rating: p.MainRating(),
		Ratings: make(map[string]poolRatingJSON, len(p.Ratings)),
		Matches: p.Matches, Wins: p.Wins, Losses: p.Losses, Draws: p.Matches - p.Wins - p.Losses,
		Stats: nonNil(p.Stats), arenaJSON: arenaOf(p.Stats)}
	for pool, r := range p.Ratings {
		out.Ratings[pool] = poolRatingJSON(r)
	}
	return out
}

func toResult(r leaderboard.Result, standing leaderboard.Standing) resultJSON {
	return resultJSON{PlayerID: r.PlayerID, Name: r.Name, Team: r.Team, Placement: r.Placement,
		Standing: standing.String(), Stats: nonNil(r.Stats), Left: r.Left,
		RatingBefore: r.RatingBefore, RatingAfter: r.RatingAfter, arenaJSON: arenaOf(r.Stats)}
}

func toMatch(m leaderboard.Match) matchJSON {
	out := matchJSON{ID: m.ID, Mode: m.Mode, Region: m.Region, RoomID: m.RoomID, GameserverID: m.GameserverID,
		StartedAt: optTime(m.StartedAt), EndedAt: m.EndedAt, EndReason: m.EndReason, RatingPool: m.Pool, RecordedAt: m.Recorded,
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
