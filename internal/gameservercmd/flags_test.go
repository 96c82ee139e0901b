package gameservercmd

import (
	"flag"
	"io"
	"testing"

	"github.com/skirmishgg/skirmish/gameserver/agones"
)

func TestAgonesFlag(t *testing.T) {
	env := func(port string) func(string) string {
		return func(k string) string {
			if k == agones.PortEnv {
				return port
			}
			return ""
		}
	}
	tests := []struct {
		mode, port string
		want       bool
	}{
		{"auto", "", false},
		{"auto", "9358", true},
		{"on", "", true},
		{"off", "9358", false},
	}
	for _, tt := range tests {
		a := AgonesFlags{Mode: tt.mode, registered: true}
		if got := a.Enabled(env(tt.port)); got != tt.want {
			t.Errorf("--agones %s with %s=%q: Enabled = %v, want %v", tt.mode, agones.PortEnv, tt.port, got, tt.want)
		}
	}
	if err := (&AgonesFlags{Mode: "maybe", registered: true}).validate(); err == nil {
		t.Error("--agones maybe: no error")
	}
	// Without --agones (skirmish dev), Agones mode is off whatever the
	// environment says.
	if (&AgonesFlags{}).Enabled(env("9358")) {
		t.Error("Agones mode on without the --agones flag")
	}
}

// TestDerivePageURLs: a gameserver run alone serves a page that finds the
// matchmaker it registers with and the leaderboard beside it.
func TestDerivePageURLs(t *testing.T) {
	tests := []struct {
		matchmaker, mmURL, lbURL string // flags set before
		wantMM, wantLB           string
	}{
		{matchmaker: "127.0.0.1:7812", wantMM: "http://127.0.0.1:7810", wantLB: "http://127.0.0.1:7820"},
		{matchmaker: "mm.internal:9000", wantMM: "http://mm.internal:7810", wantLB: "http://mm.internal:7820"},
		{matchmaker: ":7812", wantMM: "http://127.0.0.1:7810", wantLB: "http://127.0.0.1:7820"},
		{matchmaker: "0.0.0.0:7812", wantMM: "http://127.0.0.1:7810", wantLB: "http://127.0.0.1:7820"},
		{matchmaker: "[::1]:7812", wantMM: "http://[::1]:7810", wantLB: "http://[::1]:7820"},
		{matchmaker: "127.0.0.1:7810", mmURL: "https://mm.example", lbURL: "https://lb.example", wantMM: "https://mm.example", wantLB: "https://lb.example"},
		{matchmaker: "", wantMM: "", wantLB: ""},
	}
	for _, tt := range tests {
		w := WebFlags{MatchmakerURL: tt.mmURL, LeaderboardURL: tt.lbURL}
		w.DerivePageURLs(tt.matchmaker)
		if w.MatchmakerURL != tt.wantMM || w.LeaderboardURL != tt.wantLB {
			t.Errorf("DerivePageURLs(%q) = %q, %q; want %q, %q", tt.matchmaker, w.MatchmakerURL, w.LeaderboardURL, tt.wantMM, tt.wantLB)
		}
	}
}

// TestPrefixedSettingErrors: in `skirmish dev` the gameserver's flags
// carry a prefix, and an error names the flag as the user typed it.
func TestPrefixedSettingErrors(t *testing.T) {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var g Flags
	g.Register(fs, "gameserver-", "127.0.0.1:0", 0)
	if err := fs.Parse([]string{"--gameserver-capacity", "0"}); err != nil {
		t.Fatal(err)
	}
	want := "--gameserver-capacity (SKIRMISH_GAMESERVER_CAPACITY): must be above 0, got 0"
	if err := g.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %q", err, want)
	}
}
