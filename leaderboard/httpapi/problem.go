package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/skirmishgg/skirmish/internal/limits"
	"github.com/skirmishgg/skirmish/leaderboard"
)

// problem is an RFC 9457 problem detail.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// maxDetail bounds a problem's detail, which may quote a client's value.
const maxDetail = 512

func writeProblem(w http.ResponseWriter, status int, detail string) {
	detail = limits.Clip(detail, maxDetail)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}

// writeError maps a store error to a problem: the messages of
// leaderboard.Error are meant for clients; anything else is logged and
// hidden behind a 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *leaderboard.Error
	switch {
	case errors.Is(err, leaderboard.ErrNotFound) && errors.As(err, &e):
		writeProblem(w, http.StatusNotFound, e.Message)
	case errors.Is(err, leaderboard.ErrInvalid) && errors.As(err, &e):
		writeProblem(w, http.StatusBadRequest, e.Message)
	case errors.Is(err, leaderboard.ErrConflict) && errors.As(err, &e):
		writeProblem(w, http.StatusConflict, e.Message)
	case r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		writeProblem(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		s.log.Error("leaderboard request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, http.StatusInternalServerError, "internal error; the server logged it")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}
