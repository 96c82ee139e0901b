package guess

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/skirmishgg/skirmish/gameserver/game"
	"github.com/skirmishgg/skirmish/leaderboard/boardfile"
	"github.com/skirmishgg/skirmish/matchmaker"
)

// guide is the guide that walks through this example.
const guide = "../../docs/writing-a-game.md"

// TestGuideQuotesTheExample: every Go and YAML block of the guide is a
// verbatim excerpt of this example's files, which CI builds and tests, so
// the guide's code compiles and runs as shown.
func TestGuideQuotesTheExample(t *testing.T) {
	doc, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string][]string{
		"go":   {"guess.go", filepath.Join("server", "main.go"), filepath.Join("bot", "main.go")},
		"yaml": {"modes.yaml", "boards.yaml"},
	}
	texts := map[string][]string{}
	for lang, files := range sources {
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			texts[lang] = append(texts[lang], string(b))
		}
	}
	blocks := regexp.MustCompile("(?ms)^```(\\w*)\\n(.*?)^```$").FindAllStringSubmatch(string(doc), -1)
	quoted := map[string]int{}
	for _, b := range blocks {
		lang, code := b[1], b[2]
		files, checked := texts[lang]
		if !checked {
			continue
		}
		quoted[lang]++
		if !inAny(code, files) {
			t.Errorf("this %s block of %s is in none of %v; quote the code as it is:\n%s", lang, guide, sources[lang], code)
		}
	}
	// The guide quotes main.go, the settings, the seam's methods, the
	// bot, the modes and the boards.
	if quoted["go"] < 8 || quoted["yaml"] < 2 {
		t.Errorf("the guide has %d Go and %d YAML blocks, want at least 8 and 2", quoted["go"], quoted["yaml"])
	}
}

func inAny(s string, texts []string) bool {
	for _, t := range texts {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// TestConfigFiles: the modes and boards files the guide runs with load, and
// the matchmaker's mode is the game's.
func TestConfigFiles(t *testing.T) {
	cfg, err := matchmaker.LoadConfig("modes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := cfg.Modes[ModeGuess]
	if !ok || len(cfg.Modes) != 1 {
		t.Fatalf("modes %v, want only %q", cfg.Modes, ModeGuess)
	}
	if m.Players() != 8 || m.MinPlayers != 2 {
		t.Errorf("mode %q: %d players, at least %d; want 8 and 2 (validateSeats)", ModeGuess, m.Players(), m.MinPlayers)
	}
	if err := validateSeats(make([]game.Seat, m.Players())); err != nil {
		t.Errorf("a full match is refused: %v", err)
	}
	boards, err := boardfile.Load("boards.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(boards) != 3 || boards[0].ID != "guess-wins" || boards[1].Stat != "guesses" || boards[2].Pool != ModeGuess {
		t.Errorf("boards %+v, want guess-wins, guess-fewest (stat guesses) and guess-rating (pool %s)", boards, ModeGuess)
	}
}
