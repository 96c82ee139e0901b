package seasons

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		spec string
		ok   bool
	}{{"", true}, {"@weekly", true}, {"0 0 * * 1", true}, {"every day", false}, {"* * * * * *", false}} {
		if _, err := Parse(tt.spec); (err == nil) != tt.ok {
			t.Errorf("Parse(%q) = %v, want ok=%v", tt.spec, err, tt.ok)
		}
	}
}

func TestTickEndsDueSeasonsOnce(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lb.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	b, err := store.PutBoard(ctx, leaderboard.Board{ID: "daily", Title: "Daily", Order: leaderboard.Descending,
		Stat: leaderboard.StatWins, Aggregate: leaderboard.Sum, Reset: "@daily"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two replicas see the same moment, three days later.
	s.now = func() time.Time { return b.SeasonStarted.Add(72 * time.Hour) }
	other := *s
	for _, sch := range []*Scheduler{s, &other} {
		if err := sch.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := store.GetBoard(ctx, "daily")
	if got.Season != 2 {
		t.Errorf("season after two ticks = %d, want 2", got.Season)
	}
	// Three midnights passed; the new season starts at the latest.
	later := b.SeasonStarted.Add(72 * time.Hour).Local()
	want := time.Date(later.Year(), later.Month(), later.Day(), 0, 0, 0, 0, time.Local)
	if !got.SeasonStarted.Equal(want) {
		t.Errorf("season 2 started %v, want the scheduled midnight %v", got.SeasonStarted, want)
	}
}
