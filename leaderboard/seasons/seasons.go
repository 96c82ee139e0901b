// Package seasons ends the seasons of boards that have a reset schedule:
// at each time the board's cron schedule names, the current season's
// standings are archived and the board starts empty.
//
// Every replica may run a Scheduler: Store.EndSeason ends a given season
// only once, so the replicas that race to end it end it once.
package seasons

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/skirmishgg/skirmish/leaderboard"
)

// parser reads standard 5-field cron specs and descriptors like @weekly.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse checks a reset schedule; "" means never.
func Parse(spec string) (cron.Schedule, error) {
	if spec == "" {
		return nil, nil
	}
	sch, err := parser.Parse(spec)
	if err != nil {
		return nil, leaderboard.Errorf(leaderboard.ErrInvalid, "reset schedule %q is not a cron schedule (5 fields, or @daily, @weekly, @monthly): %v", spec, err)
	}
	return sch, nil
}

// Config tunes the scheduler.
type Config struct {
	// Check is how often boards are re-read for new schedules and how
	// late at most a reset happens. Default 30s.
	Check time.Duration
}

// Scheduler ends seasons on schedule.
type Scheduler struct {
	cfg   Config
	store leaderboard.Store
	log   *slog.Logger
	now   func() time.Time
}

// New returns a scheduler over store.
func New(cfg Config, store leaderboard.Store, log *slog.Logger) (*Scheduler, error) {
	if cfg.Check == 0 {
		cfg.Check = 30 * time.Second
	}
	if cfg.Check < 0 {
		return nil, fmt.Errorf("seasons: check interval %v must be positive", cfg.Check)
	}
	if store == nil {
		return nil, errors.New("seasons: store is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg, store: store, log: log, now: time.Now}, nil
}

// Run checks the boards at once and then every Config.Check until ctx
// ends.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Check)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("season check failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick ends every season whose scheduled end has passed. A season that
// should have ended several times while no scheduler ran ends once.
func (s *Scheduler) Tick(ctx context.Context) error {
	boards, err := s.store.Boards(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, b := range boards {
		sch, err := Parse(b.Reset)
		if err != nil {
			errs = append(errs, fmt.Errorf("board %q: %w", b.ID, err))
			continue
		}
		if sch == nil || b.SeasonStarted.IsZero() {
			continue
		}
		due := sch.Next(b.SeasonStarted)
		if due.After(now) {
			continue
		}
		// The new season starts at the latest scheduled time that has
		// passed, so missed resets collapse into one.
		for n := sch.Next(due); !n.After(now); n = sch.Next(n) {
			due = n
		}
		_, err = s.store.EndSeason(ctx, b.ID, b.Season, due)
		switch {
		case errors.Is(err, leaderboard.ErrConflict):
			// Another replica ended it first.
		case err != nil:
			errs = append(errs, err)
		default:
			s.log.Info("season ended", "board", b.ID, "season", b.Season, "at", due)
		}
	}
	return errors.Join(errs...)
}
