package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/bot"
	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/internal/cli"
)

// runBot plays a swarm of bot players through the whole flow (guest
// sign-in, matchmaking, the match, the outcome on the leaderboard)
// against a running deployment and prints a summary: matches played,
// input-to-snapshot latency, bytes.
func runBot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg bot.Config
	var quiet bool
	fs := cli.NewFlagSet("skirmish-bench bot", stderr)
	fs.StringVar(&cfg.LeaderboardURL, "leaderboard", "http://127.0.0.1:7820", "leaderboard base URL (guest sign-in)")
	fs.StringVar(&cfg.MatchmakerAddr, "matchmaker", "127.0.0.1:7810", "matchmaker gRPC address")
	fs.StringVar(&cfg.Mode, "mode", "duel", "mode to queue for: duel, ffa, team, team4 or dice")
	fs.IntVar(&cfg.Players, "players", 2, "number of bot players")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long the swarm plays")
	fs.IntVar(&cfg.Matches, "matches", 0, "stop each bot after this many matches (0: play until --duration)")
	fs.IntVar(&cfg.InputsPerMessage, "inputs-per-message", 1, "send inputs this many to a message (fewer messages, one more tick of latency per extra input)")
	fs.BoolVar(&quiet, "quiet", false, "no status lines on stderr while playing")
	fs.Func("transport", "how bots reach the gameserver: websocket or webtransport", func(v string) (err error) {
		cfg.Transport, err = skirmish.ParseTransport(v)
		return err
	})
	fs.Func("webtransport-cert-hash", "hex SHA-256 of a self-signed gameserver certificate to accept (repeatable; the gameserver's /config.json lists it)", func(v string) error {
		h, err := hex.DecodeString(v)
		if err != nil || len(h) != 32 {
			return fmt.Errorf("want 64 hex digits, got %q", v)
		}
		cfg.WebTransport.CertHashes = append(cfg.WebTransport.CertHashes, h)
		return nil
	})
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if cfg.Players <= 0 || cfg.Players > 10000 {
		return settingError("players", "must be between 1 and 10000, got %d", cfg.Players)
	}
	if cfg.Duration <= 0 || cfg.Duration > time.Hour {
		return settingError("duration", "must be above 0 and at most 1h, got %s", cfg.Duration)
	}
	if cfg.InputsPerMessage < 1 || cfg.InputsPerMessage > 32 {
		return settingError("inputs-per-message", "must be from 1 to 32, got %d", cfg.InputsPerMessage)
	}
	if !quiet {
		cfg.Progress = stderr
	}
	fmt.Fprintf(stdout, "%d bots playing %s for up to %s against %s\n", cfg.Players, cfg.Mode, cfg.Duration, cfg.MatchmakerAddr)
	sum, err := bot.Run(ctx, cfg, nil)
	if err != nil {
		return err
	}
	sum.Print(stdout)
	return nil
}
