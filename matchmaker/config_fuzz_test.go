package matchmaker

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfig: any modes file (YAML or JSON) loads into a config that
// New accepts, or fails with an error; nothing panics.
func FuzzLoadConfig(f *testing.F) {
	for _, s := range []string{
		"modes:\n  duel: {teams: 2, team_size: 1, max_wait: 30s}\n",
		`{"formation_interval": "50ms", "allowed_origins": ["*"]}`,
		"wait_scale: -1\n", "modes: [", "", "allocation: sideways\n",
		"modes:\n  x: &a {teams: 2, team_size: 1}\n  y: *a\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "modes.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			return
		}
		if _, err := cfg.withDefaults(); err != nil {
			t.Errorf("LoadConfig(%q) accepted a config that New refuses: %v", data, err)
		}
	})
}

// FuzzParseOrigins: any --cors-origins value parses or fails cleanly.
func FuzzParseOrigins(f *testing.F) {
	for _, s := range []string{"*", "http://127.0.0.1:7800, https://*.example.com", "ftp://x", "http://a/b", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseOrigins(s)
		if err == nil && len(out) == 0 {
			t.Errorf("ParseOrigins(%q) = no origins and no error", s)
		}
	})
}
