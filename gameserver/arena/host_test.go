package arena

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/gameserver/game"
)

// TestGameFlags: Arena's --match-duration reaches its modes, defaults to
// 3 minutes (or to the duration set before Flags), and is checked.
func TestGameFlags(t *testing.T) {
	tests := []struct {
		preset  time.Duration
		args    []string
		want    time.Duration
		wantErr string
	}{
		{want: 3 * time.Minute},
		{preset: 40 * time.Second, want: 40 * time.Second},
		{args: []string{"--match-duration", "6s"}, want: 6 * time.Second},
		{args: []string{"--match-duration", "500ms"}, wantErr: "--match-duration: must be at least 1s, got 500ms"},
	}
	for _, tt := range tests {
		g := &Game{Config: Config{MatchDuration: tt.preset}}
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		g.Flags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		modes, err := g.Modes()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Modes() with %q = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(modes) != 4 {
			t.Fatalf("Modes() with %q = %d modes, %v; want duel, ffa, team, team4", tt.args, len(modes), err)
		}
		if g.Config.MatchDuration != tt.want {
			t.Errorf("with %q and preset %s: match duration %s, want %s", tt.args, tt.preset, g.Config.MatchDuration, tt.want)
		}
		m, err := modes[0].New(game.Config{MatchID: "m1", Mode: modes[0].Name, Seats: seats(2, func(i int) uint32 { return uint32(i + 1) })})
		if err != nil {
			t.Fatal(err)
		}
		end := m.Snapshot("a")[0].Field(MatchEndTick)
		if want := int32(tt.want.Seconds() * 30); end != want {
			t.Errorf("end tick %d, want %d (%s at 30 Hz)", end, want, tt.want)
		}
	}
}
