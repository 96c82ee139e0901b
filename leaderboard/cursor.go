package leaderboard

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"time"
)

// EntryCursor names the last entry of a page of a board, so the next page
// starts right after it even while scores change.
type EntryCursor struct {
	Score    float64 `json:"s"`
	Updated  int64   `json:"u"` // Unix microseconds
	PlayerID string  `json:"p"`
}

// CursorAfter returns the cursor that continues after e.
func CursorAfter(e Entry) EntryCursor {
	return EntryCursor{Score: e.Score, Updated: e.Updated.UnixMicro(), PlayerID: e.PlayerID}
}

// MatchCursor names the last match of a page of a player's history.
type MatchCursor struct {
	EndedAt int64  `json:"e"` // Unix microseconds
	MatchID string `json:"m"`
}

// CursorBefore returns the cursor that continues after m, going back in
// time.
func CursorBefore(m PlayerMatch) MatchCursor {
	return MatchCursor{EndedAt: m.EndedAt.UnixMicro(), MatchID: m.MatchID}
}

// maxCursorLen bounds the text a client may send as a cursor.
const maxCursorLen = 512

// String encodes the cursor as opaque URL-safe text.
func (c EntryCursor) String() string { return encodeCursor(c) }

// String encodes the cursor as opaque URL-safe text.
func (c MatchCursor) String() string { return encodeCursor(c) }

func encodeCursor(v any) string {
	b, _ := json.Marshal(v) // only numbers and strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseEntryCursor decodes a cursor a client sent back.
func ParseEntryCursor(s string) (EntryCursor, error) {
	var c EntryCursor
	if err := decodeCursor(s, &c); err != nil {
		return EntryCursor{}, err
	}
	if ValidID("player id", c.PlayerID) != nil || math.IsNaN(c.Score) || math.IsInf(c.Score, 0) {
		return EntryCursor{}, Errorf(ErrInvalid, "cursor is not one this server made")
	}
	return c, nil
}

// ParseMatchCursor decodes a cursor a client sent back.
func ParseMatchCursor(s string) (MatchCursor, error) {
	var c MatchCursor
	if err := decodeCursor(s, &c); err != nil {
		return MatchCursor{}, err
	}
	if ValidID("match id", c.MatchID) != nil {
		return MatchCursor{}, Errorf(ErrInvalid, "cursor is not one this server made")
	}
	return c, nil
}

func decodeCursor(s string, v any) error {
	if len(s) > maxCursorLen {
		return Errorf(ErrInvalid, "cursor is longer than %d characters", maxCursorLen)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, v) != nil {
		return Errorf(ErrInvalid, "cursor is not one this server made")
	}
	return nil
}

// micros converts Unix microseconds to a UTC time.
func micros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Time returns the cursor's Updated as a time.
func (c EntryCursor) Time() time.Time { return micros(c.Updated) }
