package matchmaker

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDefaults(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if got := cfg.modeNames(); strings.Join(got, ",") != "dice,duel,ffa,team,team4" {
		t.Errorf("default modes = %v", got)
	}
	if cfg.GameserverTTL != 3*cfg.HeartbeatInterval || cfg.Allocation != AllocateLeastLoaded {
		t.Errorf("GameserverTTL = %v, Allocation = %q; want 3 x %v and least-loaded", cfg.GameserverTTL, cfg.Allocation, cfg.HeartbeatInterval)
	}
	again, err := cfg.withDefaults()
	if err != nil || again.Modes["duel"].MaxWait != cfg.Modes["duel"].MaxWait {
		t.Errorf("defaults applied twice changed duel's wait to %v (%v)", again.Modes["duel"].MaxWait, err)
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantErr string
		check   func(t *testing.T, cfg Config)
	}{
		{name: "yaml", text: `
formation_interval: 50ms
allocation: fill-first
wait_scale: 0.5
modes:
  duel: {teams: 2, team_size: 1, min_players: 2, max_wait: 20s, skill_window: {initial: 50, per_second: 5, max: 400}}
  big: {teams: 2, team_size: 8, min_players: 8, max_wait: 1m, skill_window: {initial: 100, per_second: 10, max: 500}}
`, check: func(t *testing.T, cfg Config) {
			if cfg.FormationInterval != 50*time.Millisecond || cfg.Allocation != AllocateFillFirst {
				t.Errorf("FormationInterval = %v, Allocation = %q", cfg.FormationInterval, cfg.Allocation)
			}
			if len(cfg.Modes) != 2 || cfg.Modes["duel"].MaxWait != 10*time.Second || cfg.Modes["big"].Players() != 16 {
				t.Errorf("modes = %+v, want duel (wait 10s after scaling) and big (16 players)", cfg.Modes)
			}
		}},
		{name: "json", text: `{"heartbeat_interval": "1s"}`, check: func(t *testing.T, cfg Config) {
			if cfg.GameserverTTL != 3*time.Second || len(cfg.Modes) != len(DefaultModes()) {
				t.Errorf("GameserverTTL = %v, %d modes; want 3s and the defaults", cfg.GameserverTTL, len(cfg.Modes))
			}
		}},
		{name: "empty file", text: "", check: func(t *testing.T, cfg Config) {}},
		{name: "unknown key", text: "formation_intervall: 1s", wantErr: "formation_intervall"},
		{name: "bad allocation", text: "allocation: random", wantErr: "allocation"},
		{name: "bad mode", text: "modes: {duel: {teams: 2, team_size: 1, min_players: 3, max_wait: 1s}}", wantErr: "modes.duel: min_players"},
		{name: "window", text: "modes: {duel: {teams: 2, team_size: 1, min_players: 2, max_wait: 1s, skill_window: {initial: 10, max: 5}}}", wantErr: "skill_window"},
		{name: "bad origin", text: `allowed_origins: ["http://ok.example", "ftp://x", "http://a/b"]`, wantErr: "allowed_origins"},
		{name: "team min players", text: "modes: {t: {teams: 2, team_size: 2, min_players: 3, max_wait: 1s}}", wantErr: "multiple of teams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "matchmaker.yaml")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadConfig = %v, want an error naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}

// TestExampleConfig keeps the example file valid and equal to the defaults.
func TestExampleConfig(t *testing.T) {
	cfg, err := LoadConfig("matchmaker.example.yaml")
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	def, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, def) {
		t.Errorf("example config = %+v\nwant the defaults %+v", cfg, def)
	}
}

func TestParseOrigins(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "*", want: []string{"*"}},
		{in: "http://127.0.0.1:7800", want: []string{"http://127.0.0.1:7800"}},
		{in: " http://a.example , https://*.b.example,", want: []string{"http://a.example", "https://*.b.example"}},
		{in: "", wantErr: "no origin"},
		{in: " , ", wantErr: "no origin"},
		{in: "127.0.0.1:7800", wantErr: "127.0.0.1:7800"},
		{in: "a.example", wantErr: "http:// or https://"},
		{in: "http://a.example/path", wantErr: "no path"},
		{in: "http://a.example?x=1", wantErr: "no path"},
		{in: "https://*.*.example", wantErr: "at most one"},
		{in: "ws://a.example", wantErr: "http:// or https://"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOrigins(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseOrigins(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseOrigins(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
