package leaderboard

import (
	"errors"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	e := Entry{PlayerID: "p1", Score: 12.5, Updated: time.UnixMicro(1_700_000_000_123_456)}
	c, err := ParseEntryCursor(CursorAfter(e).String())
	if err != nil {
		t.Fatal(err)
	}
	if c != CursorAfter(e) {
		t.Errorf("ParseEntryCursor = %+v, want %+v", c, CursorAfter(e))
	}
	m := PlayerMatch{MatchID: "m1", EndedAt: time.UnixMicro(42)}
	mc, err := ParseMatchCursor(CursorBefore(m).String())
	if err != nil || mc != CursorBefore(m) {
		t.Errorf("ParseMatchCursor = %+v, %v, want %+v", mc, err, CursorBefore(m))
	}
	for _, bad := range []string{"", "!!!", "e30", "bm90IGpzb24"} {
		if _, err := ParseEntryCursor(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseEntryCursor(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add(EntryCursor{Score: 3, Updated: 5, PlayerID: "p"}.String())
	f.Add(MatchCursor{EndedAt: 5, MatchID: "m"}.String())
	f.Add("")
	f.Add("eyJzIjoxZTMwOX0")
	f.Fuzz(func(t *testing.T, s string) {
		if c, err := ParseEntryCursor(s); err == nil {
			if again, err := ParseEntryCursor(c.String()); err != nil || again != c {
				t.Fatalf("entry cursor %q does not round-trip: %+v, %v", s, again, err)
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("ParseEntryCursor(%q) = %v, want ErrInvalid", s, err)
		}
		if c, err := ParseMatchCursor(s); err == nil {
			if again, err := ParseMatchCursor(c.String()); err != nil || again != c {
				t.Fatalf("match cursor %q does not round-trip: %+v, %v", s, again, err)
			}
		}
	})
}
