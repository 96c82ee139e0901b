package leaderboard

import "fmt"

// Error is an error whose message is safe to show to a client: it names
// what was wrong with the request and nothing of the server's internals.
// Kind is one of ErrNotFound, ErrConflict or ErrInvalid.
type Error struct {
	Kind    error
	Message string
}

// Errorf returns an *Error of the given kind.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Unwrap() error { return e.Kind }
