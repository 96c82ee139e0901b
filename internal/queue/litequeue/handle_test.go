package litequeue

import (
	"errors"
	"testing"
)

func TestParseHandle(t *testing.T) {
	tests := []struct {
		in       string
		id       string
		received int
		ok       bool
	}{
		{"m_ab#1", "m_ab", 1, true},
		{"a#b#12", "a#b", 12, true},
		{"m_ab#0", "", 0, false},
		{"m_ab#", "", 0, false},
		{"#3", "", 0, false},
		{"m_ab", "", 0, false},
		{"m_ab#-2", "", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, received, err := parseHandle(tt.in)
			if !tt.ok {
				if !errors.Is(err, ErrInvalidHandle) {
					t.Fatalf("parseHandle(%q) error = %v, want ErrInvalidHandle", tt.in, err)
				}
				return
			}
			if err != nil || id != tt.id || received != tt.received {
				t.Fatalf("parseHandle(%q) = %q, %d, %v, want %q, %d", tt.in, id, received, err, tt.id, tt.received)
			}
		})
	}
}

func FuzzParseHandle(f *testing.F) {
	for _, s := range []string{"m_0123#1", "#", "a#b#3", "x#99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, received, err := parseHandle(h)
		if err != nil {
			return
		}
		if got := makeHandle(id, received); got != h {
			// Atoi accepts "+1" and leading zeros; the round trip must
			// still name the same message and receive.
			id2, received2, err := parseHandle(got)
			if err != nil || id2 != id || received2 != received {
				t.Fatalf("round trip of %q: %q", h, got)
			}
		}
	})
}
