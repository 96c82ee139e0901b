package httpapi

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// maxBody bounds request bodies; sign-in needs a few dozen bytes.
const maxBody = 4 << 10

// guest signs in a new guest player: POST /v1/auth/guest {"name": "..."}.
func (s *Server) guest(w http.ResponseWriter, r *http.Request) {
	var req guestRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", maxBody))
		case errors.Is(err, io.EOF):
			writeProblem(w, http.StatusBadRequest, `body must be JSON like {"name": "ada"}`)
		default:
			writeProblem(w, http.StatusBadRequest, "body is not valid JSON: "+err.Error())
		}
		return
	}
	if dec.More() {
		writeProblem(w, http.StatusBadRequest, "body holds more than one JSON value")
		return
	}
	// The store enforces the name rule (internal/displayname) and says
	// which rule a name breaks: a 400 naming it.
	p, err := s.store.CreatePlayer(r.Context(), req.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	expires := s.now().Add(s.cfg.SessionTTL)
	token, err := s.keys.IssueSession(auth.Session{PlayerID: p.ID, Name: p.Name}, s.cfg.SessionTTL)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("issue session: %w", err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/v1/players/"+p.ID)
	writeJSON(w, http.StatusCreated, guestResponse{PlayerID: p.ID, Name: p.Name, Token: token, ExpiresAt: expires.UTC()})
}

func (s *Server) listBoards(w http.ResponseWriter, r *http.Request) {
	boards, err := s.store.Boards(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := boardsResponse{Leaderboards: make([]boardJSON, 0, len(boards))}
	for _, b := range boards {
		out.Leaderboards = append(out.Leaderboards, toBoard(b))
	}
	writeCached(w, r, cacheBoards, out)
}

// entries serves GET /v1/leaderboards/{id}/entries?limit=&cursor=.
func (s *Server) entries(w http.ResponseWriter, r *http.Request) {
	limit, after, err := s.entryPage(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	entries, err := s.store.TopEntries(r.Context(), id, limit, after)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCached(w, r, cacheLive, entryPageResponse(id, entries, limit))
}

// playerEntry serves GET /v1/leaderboards/{id}/players/{player}: one
// player's rank and score.
func (s *Server) playerEntry(w http.ResponseWriter, r *http.Request) {
	e, err := s.store.PlayerRank(r.Context(), r.PathValue("id"), r.PathValue("player"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCached(w, r, cacheLive, toEntry(e))
}

func (s *Server) player(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetPlayer(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCached(w, r, cacheLive, toPlayer(p))
}

// playerMatches serves GET /v1/players/{id}/matches?limit=&cursor=.
func (s *Server) playerMatches(w http.ResponseWriter, r *http.Request) {
	limit, err := s.limit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var before *leaderboard.MatchCursor
	if c := r.URL.Query().Get("cursor"); c != "" {
		cur, err := leaderboard.ParseMatchCursor(c)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		before = &cur
	}
	id := r.PathValue("id")
	matches, err := s.store.PlayerMatches(r.Context(), id, limit, before)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := playerMatchesResponse{PlayerID: id, Matches: make([]playerMatchJSON, 0, len(matches))}
	for _, m := range matches {
		out.Matches = append(out.Matches, toPlayerMatch(m))
	}
	if len(matches) == limit {
		out.NextCursor = leaderboard.CursorBefore(matches[len(matches)-1]).String()
	}
	writeCached(w, r, cacheLive, out)
}

func (s *Server) match(w http.ResponseWriter, r *http.Request) {
	m, err := s.store.GetMatch(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCached(w, r, cacheForever, toMatch(m))
}

// entryPage reads the limit and cursor of a page of board entries.
func (s *Server) entryPage(r *http.Request) (limit int, after *leaderboard.EntryCursor, err error) {
	if limit, err = s.limit(r); err != nil {
		return 0, nil, err
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		cur, err := leaderboard.ParseEntryCursor(c)
		if err != nil {
			return 0, nil, err
		}
		after = &cur
	}
	return limit, after, nil
}

// entryPageResponse is a page of board entries, with the cursor of the
// next page when this one is full.
func entryPageResponse(board string, entries []leaderboard.Entry, limit int) entriesResponse {
	out := entriesResponse{Leaderboard: board, Entries: make([]entryJSON, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, toEntry(e))
	}
	if len(entries) == limit {
		out.NextCursor = leaderboard.CursorAfter(entries[len(entries)-1]).String()
	}
	return out
}

// limit reads the limit query parameter.
func (s *Server) limit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return s.cfg.DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > leaderboard.MaxPageSize {
		return 0, leaderboard.Errorf(leaderboard.ErrInvalid, "limit must be an integer from 1 to %d, got %q", leaderboard.MaxPageSize, v)
	}
	return n, nil
}

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	serveCached(w, r, cacheSpecDocs, "application/json", openAPIDoc)
}
