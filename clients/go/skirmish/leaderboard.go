package skirmish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxResponse bounds the body of any REST answer the SDK reads.
const maxResponse = 1 << 20

// Session is a signed-in player.
type Session struct {
	PlayerID  string    `json:"player_id"`
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// LeaderboardOptions tune a Leaderboard client. The zero value works.
type LeaderboardOptions struct {
	// HTTPClient makes the requests; nil means one with a 10s timeout.
	// Give it a Transport with TLSClientConfig for a private CA.
	HTTPClient *http.Client
	// Backoff says how calls refused with 429 or 503 are retried; the
	// server's Retry-After is honoured. Attempts 1 turns retrying off.
	Backoff Backoff
}

// Leaderboard is a client of the leaderboard service's REST API (see
// leaderboard/httpapi/openapi.json, also served at /openapi.json): guest
// sign-in, boards, ranks and match history. It is safe for concurrent use.
type Leaderboard struct {
	base string
	hc   *http.Client
	b    Backoff
}

// NewLeaderboard returns a client of the leaderboard at baseURL, e.g.
// http://127.0.0.1:7820 or https://lb.example.com.
func NewLeaderboard(baseURL string, opts LeaderboardOptions) (*Leaderboard, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("leaderboard URL %q: want http(s)://host[:port]", baseURL)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Leaderboard{base: strings.TrimRight(baseURL, "/"), hc: hc, b: opts.Backoff}, nil
}

// SignInGuest creates a guest player on the leaderboard service at baseURL
// (e.g. http://127.0.0.1:7820) and returns its session; hc nil means a
// default client. A 429 is retried after the server's Retry-After, with
// jitter, up to the default Backoff's attempts or until ctx ends.
func SignInGuest(ctx context.Context, hc *http.Client, baseURL, name string) (Session, error) {
	lb, err := NewLeaderboard(baseURL, LeaderboardOptions{HTTPClient: hc})
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	return lb.SignInGuest(ctx, name)
}

// SignInGuest creates a guest player named name (1 to 24 characters) and
// returns its session, whose Token the matchmaker takes.
func (l *Leaderboard) SignInGuest(ctx context.Context, name string) (Session, error) {
	body, err := json.Marshal(map[string]string{"name": name})
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	var s Session
	if err := l.call(ctx, "sign in", http.MethodPost, "/v1/auth/guest", body, &s); err != nil {
		return Session{}, err
	}
	if s.Token == "" || s.PlayerID == "" {
		return Session{}, errors.New("sign in: response has no token or player id")
	}
	return s, nil
}

// Board describes a leaderboard.
type Board struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Order is "desc" (higher is better) or "asc".
	Order string `json:"order"`
	// Stat is the per-match value the board ranks: a stat the game
	// reports, or "wins", "losses", "matches" or "rating".
	Stat string `json:"stat"`
	// Aggregate makes a score of a player's matches: "sum", "max",
	// "min" or "last".
	Aggregate string `json:"aggregate"`
	// Modes are the modes the board counts; empty: every mode.
	Modes []string `json:"modes"`
	// Pool is the rating pool the board counts; empty: every pool.
	Pool string `json:"pool,omitempty"`
	// Reset is the cron schedule that ends seasons; empty: never.
	Reset         string    `json:"reset,omitempty"`
	Season        int64     `json:"season"`
	SeasonStarted time.Time `json:"season_started"`
}

// Entry is a player's place on a board.
type Entry struct {
	// Rank is 1-based; ties break by who reached the score first.
	Rank     int64     `json:"rank"`
	PlayerID string    `json:"player_id"`
	Name     string    `json:"name"`
	Score    float64   `json:"score"`
	Updated  time.Time `json:"updated_at"`
}

// EntryPage is a page of a board, best first.
type EntryPage struct {
	Board   string  `json:"leaderboard"`
	Entries []Entry `json:"entries"`
	// NextCursor fetches the next page; empty on the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Player is a player's profile; Raw holds the whole object.
type Player struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// Rating is the rating of the pool the player played most.
	// Deprecated: use Ratings.
	Rating float64 `json:"rating"`
	// Ratings are the player's ratings by rating pool.
	Ratings map[string]PoolRating `json:"ratings"`
	Matches int64                 `json:"matches"`
	Wins    int64                 `json:"wins"`
	Losses  int64                 `json:"losses"`
	Draws   int64                 `json:"draws"`
	// Stats are the sums of the game's stats over the player's counted
	// matches, by name.
	Stats map[string]float64 `json:"stats"`
	Raw   json.RawMessage    `json:"-"`
}

// PoolRating is a player's rating in one rating pool.
type PoolRating struct {
	Rating  float64 `json:"rating"`
	Sigma   float64 `json:"sigma"`
	Matches int64   `json:"matches"`
}

// Result is one player's part in a match. Raw holds the whole object.
type Result struct {
	PlayerID string `json:"player_id"`
	Name     string `json:"name"`
	Team     int64  `json:"team"`
	// Placement of the player's team: 1 won; 0 unplaced.
	Placement int64 `json:"placement"`
	// Standing is "won", "lost", "drew" or "void".
	Standing string `json:"standing"`
	// Stats are the game's stats for the player in the match, by name.
	Stats        map[string]float64 `json:"stats"`
	Left         bool               `json:"left"`
	RatingBefore float64            `json:"rating_before"`
	RatingAfter  float64            `json:"rating_after"`
	Raw          json.RawMessage    `json:"-"`
}

// UnmarshalJSON keeps the raw object beside the known fields.
func (r *Result) UnmarshalJSON(b []byte) error {
	type plain Result
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	r.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// UnmarshalJSON keeps the raw object beside the known fields.
func (p *Player) UnmarshalJSON(b []byte) error {
	type plain Player
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	p.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// PlayerMatch is one match of a player's history.
type PlayerMatch struct {
	MatchID   string    `json:"match_id"`
	Mode      string    `json:"mode"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	Result    Result    `json:"result"`
}

// MatchPage is a page of a player's matches, latest first.
type MatchPage struct {
	PlayerID   string        `json:"player_id"`
	Matches    []PlayerMatch `json:"matches"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// Team is one team's final score and placement in a match.
type Team struct {
	Team      int64 `json:"team"`
	Score     int64 `json:"score"`
	Placement int64 `json:"placement"`
}

// Match is a recorded match with every player's result.
type Match struct {
	ID           string    `json:"id"`
	Mode         string    `json:"mode"`
	Region       string    `json:"region"`
	RoomID       string    `json:"room_id"`
	GameserverID string    `json:"gameserver_id"`
	StartedAt    time.Time `json:"started_at"`
	EndedAt      time.Time `json:"ended_at"`
	// EndReason is e.g. "score_limit", "time_limit", "abandoned".
	EndReason  string    `json:"end_reason"`
	RecordedAt time.Time `json:"recorded_at"`
	Teams      []Team    `json:"teams"`
	Players    []Result  `json:"players"`
}

// Match returns a recorded match; errors.Is(err, ErrNotFound) when the
// stats worker has not recorded it (yet).
func (l *Leaderboard) Match(ctx context.Context, matchID string) (Match, error) {
	var m Match
	err := l.call(ctx, "match", http.MethodGet, "/v1/matches/"+url.PathEscape(matchID), nil, &m)
	return m, err
}

// Boards lists the leaderboards.
func (l *Leaderboard) Boards(ctx context.Context) ([]Board, error) {
	var out struct {
		Boards []Board `json:"leaderboards"`
	}
	if err := l.call(ctx, "list boards", http.MethodGet, "/v1/leaderboards", nil, &out); err != nil {
		return nil, err
	}
	return out.Boards, nil
}

// Top returns a page of up to limit (1 to 100; 0: the server's default)
// entries of board, best first, after cursor (empty: from the top).
func (l *Leaderboard) Top(ctx context.Context, board string, limit int, cursor string) (EntryPage, error) {
	var p EntryPage
	err := l.call(ctx, "top of "+board, http.MethodGet, "/v1/leaderboards/"+url.PathEscape(board)+"/entries"+page(limit, cursor), nil, &p)
	return p, err
}

// Rank returns the player's entry on board; errors.Is(err, ErrNotFound)
// when the player has none.
func (l *Leaderboard) Rank(ctx context.Context, board, playerID string) (Entry, error) {
	var e Entry
	err := l.call(ctx, "rank on "+board, http.MethodGet, "/v1/leaderboards/"+url.PathEscape(board)+"/players/"+url.PathEscape(playerID), nil, &e)
	return e, err
}

// Around returns the player's entry on board with up to n (0 to 50)
// entries just ahead and n just behind, best first.
func (l *Leaderboard) Around(ctx context.Context, board, playerID string, n int) ([]Entry, error) {
	var p EntryPage
	path := "/v1/leaderboards/" + url.PathEscape(board) + "/players/" + url.PathEscape(playerID) + "/around?n=" + strconv.Itoa(n)
	if err := l.call(ctx, "around on "+board, http.MethodGet, path, nil, &p); err != nil {
		return nil, err
	}
	return p.Entries, nil
}

// Player returns a player's profile.
func (l *Leaderboard) Player(ctx context.Context, playerID string) (Player, error) {
	var p Player
	err := l.call(ctx, "player", http.MethodGet, "/v1/players/"+url.PathEscape(playerID), nil, &p)
	return p, err
}

// Matches returns a page of up to limit of the player's matches, latest
// first, after cursor (empty: the latest).
func (l *Leaderboard) Matches(ctx context.Context, playerID string, limit int, cursor string) (MatchPage, error) {
	var p MatchPage
	err := l.call(ctx, "match history", http.MethodGet, "/v1/players/"+url.PathEscape(playerID)+"/matches"+page(limit, cursor), nil, &p)
	return p, err
}

func page(limit int, cursor string) string {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// call makes one request, retried as l.b says, and decodes a 2xx JSON
// answer into out. Other answers are *HTTPError.
func (l *Leaderboard) call(ctx context.Context, op, method, path string, body []byte, out any) error {
	return Retry(ctx, l.b, func(ctx context.Context) error {
		var r io.Reader
		if body != nil {
			r = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, l.base+path, r)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		resp, err := l.hc.Do(req)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		if err != nil {
			return fmt.Errorf("%s: read response: %w", op, err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			he := &HTTPError{Op: op, Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
			var p struct {
				Detail string `json:"detail"`
			}
			if json.Unmarshal(b, &p) == nil && p.Detail != "" {
				he.Detail = p.Detail
			} else {
				he.Detail = string(bytes.TrimSpace(b[:min(len(b), 200)]))
			}
			return he
		}
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s: decode response: %w", op, err)
		}
		return nil
	})
}
