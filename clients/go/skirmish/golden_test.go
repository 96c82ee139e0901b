package skirmish

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/proto/snapshot"
)

// TestGoldenVectors applies the codec's golden vectors
// (proto/snapshot/testdata/golden, which the TypeScript SDK's tests also
// decode) through the SDK's frame decoder and World: the SDK must rebuild
// every world and refuse every bad snapshot, a delta against an unknown
// base with ErrUnknownBase.
func TestGoldenVectors(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "proto", "snapshot", "testdata", "golden")
	b, err := os.ReadFile(filepath.Join(dir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors struct {
		Cases []struct {
			Name  string
			Steps []struct {
				File string
				Base int
				Want *struct {
					Tick         uint32
					LastInputSeq uint32 `json:"last_input_seq"`
					Entities     []snapshot.Entity
				}
				Error string
			}
		}
	}
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors.Cases) == 0 {
		t.Fatal("no golden cases")
	}
	for _, c := range vectors.Cases {
		t.Run(c.Name, func(t *testing.T) {
			worlds := make([]*World, len(c.Steps))
			for i, st := range c.Steps {
				frame, err := os.ReadFile(filepath.Join(dir, st.File))
				if err != nil {
					t.Fatal(err)
				}
				msg, err := decodeServer(frame)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				var base *World
				if st.Base >= 0 {
					base = worlds[st.Base]
				}
				w, err := Apply(base, msg.GetSnapshot())
				if st.Error != "" {
					if err == nil {
						t.Fatalf("step %d: Apply accepted a snapshot to refuse (%s)", i, st.Error)
					}
					if st.Error == ErrUnknownBase.Error() && !errors.Is(err, ErrUnknownBase) {
						t.Errorf("step %d: Apply = %v, want ErrUnknownBase", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: Apply: %v", i, err)
				}
				if w.Tick != st.Want.Tick || w.LastInputSeq != st.Want.LastInputSeq || len(w.Entities) != len(st.Want.Entities) {
					t.Fatalf("step %d: world tick %d seq %d with %d entities, want %d %d %d", i, w.Tick, w.LastInputSeq, len(w.Entities), st.Want.Tick, st.Want.LastInputSeq, len(st.Want.Entities))
				}
				for j, e := range st.Want.Entities {
					g := w.Entities[j]
					if g.ID != e.ID || g.Kind != e.Kind || !slices.Equal(g.Fields, e.Fields) {
						t.Errorf("step %d entity %d = %+v, want %+v", i, j, g, e)
					}
				}
				worlds[i] = w
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		h    string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {" 10 ", 10 * time.Second}, {"-1", 0}, {"soon", 0},
		{"Thu, 01 Jan 2026 00:00:05 GMT", 5 * time.Second}, {"Wed, 31 Dec 2025 23:59:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.h, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.h, got, tt.want)
		}
	}
}
