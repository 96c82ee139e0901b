package httpapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/seasons"
)

// around serves GET /v1/leaderboards/{id}/players/{player}/around?n=: the
// player's entry with n entries on each side.
func (s *Server) around(w http.ResponseWriter, r *http.Request) {
	n := 5
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 || n > leaderboard.MaxAround {
			s.writeError(w, r, leaderboard.Errorf(leaderboard.ErrInvalid, "n must be an integer from 0 to %d, got %q", leaderboard.MaxAround, v))
			return
		}
	}
	id := r.PathValue("id")
	entries, err := s.store.AroundPlayer(r.Context(), id, r.PathValue("player"), n)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := entriesResponse{Leaderboard: id, Entries: make([]entryJSON, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, toEntry(e))
	}
	writeCached(w, r, cacheLive, out)
}

type seasonJSON struct {
	Season    int64      `json:"season"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	Entries   int64      `json:"entries"`
}

type seasonsResponse struct {
	Leaderboard string       `json:"leaderboard"`
	Seasons     []seasonJSON `json:"seasons"`
}

// seasons serves GET /v1/leaderboards/{id}/seasons.
func (s *Server) seasons(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	list, err := s.store.Seasons(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := seasonsResponse{Leaderboard: id, Seasons: make([]seasonJSON, 0, len(list))}
	for _, se := range list {
		out.Seasons = append(out.Seasons, seasonJSON{Season: se.Season, StartedAt: optTime(se.Started), EndedAt: optTime(se.Ended), Entries: se.Entries})
	}
	writeCached(w, r, cacheLive, out)
}

// seasonEntries serves GET /v1/leaderboards/{id}/seasons/{season}/entries:
// the final standings of an ended season.
func (s *Server) seasonEntries(w http.ResponseWriter, r *http.Request) {
	season, err := strconv.ParseInt(r.PathValue("season"), 10, 64)
	if err != nil || season < 1 {
		s.writeError(w, r, leaderboard.Errorf(leaderboard.ErrInvalid, "season must be a positive integer, got %q", r.PathValue("season")))
		return
	}
	limit, after, err := s.entryPage(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	entries, err := s.store.SeasonEntries(r.Context(), id, season, limit, after)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCached(w, r, cacheForever, entryPageResponse(id, entries, limit))
}

// admin lets through requests that carry the admin key or an admin
// service token.
func (s *Server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := auth.BearerToken(r.Header.Get("Authorization"))
		ok := tok != "" && s.cfg.AdminKey != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AdminKey)) == 1
		if !ok && tok != "" {
			svc, err := s.keys.VerifyService(auth.KindAdmin, tok)
			ok = err == nil && svc == "admin"
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="skirmish-admin"`)
			writeProblem(w, http.StatusUnauthorized, "the admin API needs Authorization: Bearer <admin key or admin service token>")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next(w, r)
	}
}

type boardRequest struct {
	Title     string   `json:"title"`
	Order     string   `json:"order"`
	Stat      string   `json:"stat"`
	Aggregate string   `json:"aggregate"`
	Modes     []string `json:"modes"`
	Pool      string   `json:"pool"`
	Reset     string   `json:"reset"`
	// Deprecated: the older shape (leaderboard.LegacyBoard).
	Operator string `json:"operator"`
	Metric   string `json:"metric"`
}

// board is the board a request defines.
func (req boardRequest) board(id string) (leaderboard.Board, error) {
	if req.Operator != "" || req.Metric != "" {
		if req.Stat != "" || req.Aggregate != "" || req.Pool != "" || len(req.Modes) > 0 {
			return leaderboard.Board{}, leaderboard.Errorf(leaderboard.ErrInvalid,
				"board %q: the older operator and metric cannot be mixed with stat, aggregate, modes or pool", id)
		}
		b, err := leaderboard.LegacyBoard(id, req.Order, req.Operator, req.Metric)
		b.Title, b.Reset = req.Title, req.Reset
		return b, err
	}
	if req.Order == "" {
		req.Order = string(leaderboard.Descending)
	}
	return leaderboard.Board{ID: id, Title: req.Title, Order: leaderboard.Order(req.Order), Stat: req.Stat,
		Aggregate: leaderboard.Aggregate(req.Aggregate), Modes: req.Modes, Pool: req.Pool, Reset: req.Reset}, nil
}

// putBoard serves PUT /v1/admin/leaderboards/{id}: create a board or
// change its title and reset schedule.
func (s *Server) putBoard(w http.ResponseWriter, r *http.Request) {
	var req boardRequest
	if !s.decode(w, r, &req) {
		return
	}
	b, err := req.board(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := b.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := seasons.Parse(b.Reset); err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err = s.store.PutBoard(r.Context(), b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBoard(b))
}

type ratingPoolsResponse struct {
	// RatingPools maps modes to the pools their matches are rated in.
	RatingPools map[string]string `json:"rating_pools"`
}

// ratingPools serves GET /v1/rating-pools.
func (s *Server) ratingPools(w http.ResponseWriter, r *http.Request) {
	pools, err := s.store.RatingPools(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCached(w, r, cacheLive, ratingPoolsResponse{RatingPools: pools})
}

type ratingPoolRequest struct {
	Pool string `json:"pool"`
}

// putRatingPool serves PUT /v1/admin/rating-pools/{mode}: rate a mode's
// matches in a pool.
func (s *Server) putRatingPool(w http.ResponseWriter, r *http.Request) {
	var req ratingPoolRequest
	if !s.decode(w, r, &req) {
		return
	}
	mode := r.PathValue("mode")
	if err := s.store.PutRatingPool(r.Context(), mode, req.Pool); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"mode": mode, "pool": req.Pool})
}

type endSeasonRequest struct {
	// Season must be the current season, so that a retried request does
	// not end the next one too.
	Season int64 `json:"season"`
}

// endSeason serves POST /v1/admin/leaderboards/{id}/seasons: end the
// current season now.
func (s *Server) endSeason(w http.ResponseWriter, r *http.Request) {
	var req endSeasonRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Season < 1 {
		writeProblem(w, http.StatusBadRequest, `body must name the current season, like {"season": 3}`)
		return
	}
	b, err := s.store.EndSeason(r.Context(), r.PathValue("id"), req.Season, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBoard(b))
}

// decode reads one JSON object of at most maxBody bytes into v, or writes
// a problem and returns false.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", maxBody))
		case errors.Is(err, io.EOF):
			writeProblem(w, http.StatusBadRequest, "body must be a JSON object")
		default:
			writeProblem(w, http.StatusBadRequest, "body is not valid JSON: "+err.Error())
		}
		return false
	}
	if dec.More() {
		writeProblem(w, http.StatusBadRequest, "body holds more than one JSON value")
		return false
	}
	return true
}
