package snapshot

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// The golden vectors hold the codec's wire form fixed for every decoder
// of it: each step is a ServerMessage frame, exactly as a gameserver
// sends it, and the world a client must rebuild from it (or the fact that
// it must refuse it). The TypeScript SDK (clients/ts) decodes the same
// files and must agree. `go test ./proto/snapshot -run Golden -update`
// rewrites them; without -update the test fails when they are stale.
var update = flag.Bool("update", false, "rewrite testdata/golden from the codec")

const goldenDir = "testdata/golden"

type goldenEntity struct {
	ID     uint32  `json:"id"`
	Kind   uint32  `json:"kind"`
	Fields []int32 `json:"fields"`
}

type goldenWorld struct {
	Tick         uint32         `json:"tick"`
	LastInputSeq uint32         `json:"last_input_seq"`
	Entities     []goldenEntity `json:"entities"`
}

type goldenStep struct {
	// File is the frame, a ServerMessage holding one Snapshot.
	File string `json:"file"`
	// Base is the index of the step whose world the snapshot applies to,
	// -1 for none.
	Base int `json:"base"`
	// Want is the world to rebuild; nil when the snapshot must be refused.
	Want *goldenWorld `json:"want,omitempty"`
	// Error says why a refused snapshot is bad (the Go codec's words).
	Error string `json:"error,omitempty"`
}

type goldenCase struct {
	Name  string       `json:"name"`
	Steps []goldenStep `json:"steps"`
}

func e(id, kind uint32, f ...int32) Entity { return Entity{ID: id, Kind: kind, Fields: f} }

// goldenCases builds every vector from the codec itself.
func goldenCases(t *testing.T) ([]goldenCase, map[string][]byte) {
	files := map[string][]byte{}
	var cases []goldenCase
	frame := func(name string, i int, s *skirmishv1.Snapshot) string {
		b, err := (&skirmishv1.ServerMessage{Msg: &skirmishv1.ServerMessage_Snapshot{Snapshot: s}}).MarshalVT()
		if err != nil {
			t.Fatal(err)
		}
		f := fmt.Sprintf("%s.%d.bin", name, i)
		files[f] = b
		return f
	}
	want := func(tick, seq uint32, ents []Entity) *goldenWorld {
		w := &goldenWorld{Tick: tick, LastInputSeq: seq, Entities: []goldenEntity{}}
		for _, x := range ents {
			w.Entities = append(w.Entities, goldenEntity{x.ID, x.Kind, append([]int32{}, x.Fields...)})
		}
		return w
	}

	// Sequences of worlds, each sent as a delta against the one before
	// (the first one full), as a room sends them to a client that acks
	// every snapshot.
	sequences := []struct {
		name   string
		worlds [][]Entity
	}{
		{"arena-like", [][]Entity{
			{e(1, 1, 1000, 2000, 0, 100, 1), e(2, 1, 3000, 4000, 31416, 100, 2), e(10, 3, 0, 0, 180)},
			{e(1, 1, 1066, 2000, 0, 100, 1), e(2, 1, 3000, 3933, 28000, 100, 2), e(10, 3, 0, 0, 179)},
			{e(1, 1, 1133, 2000, 0, 75, 1), e(2, 1, 3000, 3866, 28000, 100, 2), e(10, 3, 0, 0, 178), e(11, 2, 1133, 2000, 7, 4)},
			{e(1, 1, 1200, 2000, 0, 75, 1), e(2, 1, 3000, 3800, 28000, 100, 2), e(10, 3, 0, 0, 177)},
		}},
		{"added-removed-kind-width", [][]Entity{
			{e(1, 1, 5), e(3, 2, 1), e(5, 2, 7, 8)},
			{e(1, 1, 5), e(2, 2, 4), e(4, 2, 8), e(5, 2, 7, 9)},
			{e(1, 2, 5), e(2, 2, 4, 1), e(5, 2, 7, 9)},
			{},
			{e(7, 4, -5, 0, 1<<30)},
		}},
		{"wrapping-differences", [][]Entity{
			{e(1, 1, -1<<31, 1<<31-1, 0)},
			{e(1, 1, 1<<31-1, -1<<31, -1)},
			{e(1, 1, 1<<31-1, -1<<31, -1)},
		}},
		{"sixty-four-fields", [][]Entity{
			{e(9, 1, seqFields(64, 0)...)},
			{e(9, 1, seqFields(64, 1)...)},
		}},
	}
	for _, sq := range sequences {
		c := goldenCase{Name: sq.name}
		for i, w := range sq.worlds {
			var s skirmishv1.Snapshot
			base := -1
			if i == 0 {
				Full(&s, w)
			} else {
				Delta(&s, sq.worlds[i-1], w)
				s.BaseTick = uint32(100 + i - 1)
				base = i - 1
			}
			s.Tick = uint32(100 + i)
			s.LastInputSeq = uint32(7 * i)
			// Check the codec agrees with the world it encoded.
			var from []Entity
			if i > 0 {
				from = sq.worlds[i-1]
			}
			got, err := Apply(from, &s)
			if err != nil || !slices.EqualFunc(got, w, entityEqual) {
				t.Fatalf("%s step %d: Apply = %v, %v; want %v", sq.name, i, got, err, w)
			}
			c.Steps = append(c.Steps, goldenStep{File: frame(sq.name, i, &s), Base: base, Want: want(s.Tick, s.LastInputSeq, w)})
		}
		cases = append(cases, c)
	}
	// A full snapshot after deltas replaces the world whatever the base.
	{
		w0 := []Entity{e(1, 1, 1, 2), e(2, 1, 3)}
		w1 := []Entity{e(4, 2, 9)}
		var s0, s1 skirmishv1.Snapshot
		Full(&s0, w0)
		s0.Tick = 5
		Full(&s1, w1)
		s1.Tick = 6
		cases = append(cases, goldenCase{Name: "full-replaces", Steps: []goldenStep{
			{File: frame("full-replaces", 0, &s0), Base: -1, Want: want(5, 0, w0)},
			{File: frame("full-replaces", 1, &s1), Base: 0, Want: want(6, 0, w1)},
		}})
	}
	// Snapshots every decoder must refuse, each against the same base.
	base := []Entity{e(1, 1, 5, 6), e(3, 2, 1, 2, 3)}
	var full skirmishv1.Snapshot
	Full(&full, base)
	full.Tick = 1
	bad := []struct {
		name string
		s    *skirmishv1.Snapshot
	}{
		{"mask-values-disagree", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{1}, Kinds: []uint32{0}, Masks: []uint64{0b11}, Values: []int32{1}}},
		{"values-left-over", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{1}, Kinds: []uint32{0}, Masks: []uint64{0b1}, Values: []int32{1, 2}}},
		{"arrays-of-different-lengths", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{1, 3}, Masks: []uint64{1}, Values: []int32{1}}},
		{"kinds-of-different-length", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{1, 3}, Kinds: []uint32{0}, Masks: []uint64{1, 1}, Values: []int32{1, 1}}},
		{"change-to-unknown-entity", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{2}, Masks: []uint64{1}, Values: []int32{1}}},
		{"change-to-removed-entity", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Removed: []uint32{1}, Ids: []uint32{1}, Masks: []uint64{1}, Values: []int32{1}}},
		{"change-to-missing-field", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{1}, Masks: []uint64{0b100}, Values: []int32{1}}},
		{"whole-with-gap-in-mask", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{4}, Kinds: []uint32{2}, Masks: []uint64{0b101}, Values: []int32{1, 2}}},
		{"ids-out-of-order", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{3, 1}, Kinds: []uint32{2, 2}, Masks: []uint64{1, 1}, Values: []int32{1, 2}}},
		{"ids-repeated", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Ids: []uint32{4, 4}, Kinds: []uint32{2, 2}, Masks: []uint64{1, 1}, Values: []int32{1, 2}}},
		{"removed-out-of-order", &skirmishv1.Snapshot{Tick: 2, BaseTick: 1, Removed: []uint32{3, 1}}},
		{"delta-against-unknown-base", &skirmishv1.Snapshot{Tick: 2, BaseTick: 9}},
	}
	for _, b := range bad {
		why := ""
		if b.s.BaseTick != full.Tick {
			why = "delta against an unknown snapshot"
		} else if _, err := Apply(base, b.s); err == nil {
			t.Fatalf("bad vector %s: Apply accepted it", b.name)
		} else {
			why = err.Error()
		}
		cases = append(cases, goldenCase{Name: "bad-" + b.name, Steps: []goldenStep{
			{File: frame("bad-"+b.name, 0, &full), Base: -1, Want: want(1, 0, base)},
			{File: frame("bad-"+b.name, 1, b.s), Base: 0, Error: why},
		}})
	}
	return cases, files
}

func seqFields(n int, add int32) []int32 {
	f := make([]int32, n)
	for i := range f {
		f[i] = int32(i)*1000 - 20000 + add*int32(i%3)
	}
	return f
}

// TestGoldenVectors fails when testdata/golden differs from what the codec
// writes today; run with -update to rewrite it (and commit the files, so
// the TypeScript SDK's tests see them).
func TestGoldenVectors(t *testing.T) {
	cases, files := goldenCases(t)
	index, err := json.MarshalIndent(map[string]any{
		"about": "Golden vectors of the snapshot codec (proto/snapshot), written by `go test ./proto/snapshot -run Golden -update`. " +
			"Each step's file is a ServerMessage frame holding a Snapshot; apply it to the world of step `base` (-1: none) " +
			"and get `want`, or refuse it when `error` is set.",
		"cases": cases,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files["vectors.json"] = append(index, '\n')
	if *update {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(goldenDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	const fix = "run `go test ./proto/snapshot -run Golden -update` and commit testdata/golden"
	for name, b := range files {
		got, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil {
			t.Errorf("golden file %s: %v; %s", name, err, fix)
			continue
		}
		if !bytes.Equal(got, b) {
			t.Errorf("golden file %s is stale; %s", name, fix)
		}
	}
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if _, ok := files[de.Name()]; !ok {
			t.Errorf("golden file %s is no longer written; %s", de.Name(), fix)
		}
	}
}
