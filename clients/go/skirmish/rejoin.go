package skirmish

import (
	"context"
	"errors"
	"fmt"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// Dropped reports whether the connection ended without the match ending
// and without the player closing it: the case for Rejoin.
func (g *Game) Dropped() bool {
	select {
	case <-g.done:
	default:
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.outcome == nil && g.err != nil && !g.closed
}

// Rejoin connects again to this game's room with its join token and the
// same options; see the function Rejoin. g is closed first. The server
// sends again the game events g missed that it still holds.
func (g *Game) Rejoin(ctx context.Context, b Backoff) (*Game, error) {
	_ = g.Close()
	opts := g.opts
	opts.LastEventSeq = g.EventSeq()
	return Rejoin(ctx, g.assignment, opts, b)
}

// Rejoin connects again to the room of an assignment after a drop, with
// the same join token: the gameserver keeps a dropped player's seat for
// its reconnection grace period and answers with a Welcome and a full
// snapshot. Dial failures and RATE_LIMITED refusals are retried as b says
// (default attempts 10, with jitter); a refusal that no retry can change
// (the token expired or is for another server, the room is gone, the
// player has no seat) is returned at once as a *ServerError. The join
// token lives as long as the matchmaker made it (default 2 minutes): when
// the gameserver refuses it and opts.Refresh is set (e.g. to
// Matchmaker.RefreshJoinToken), Rejoin gets a new token for the same seat
// once and joins with it, so a player can come back for as long as the
// match runs.
func Rejoin(ctx context.Context, a *skirmishv1.Assignment, opts JoinOptions, b Backoff) (*Game, error) {
	b = b.filled()
	refreshed := false
	for attempt := 1; ; attempt++ {
		g, err := Join(ctx, a, opts)
		if err == nil {
			return g, nil
		}
		var se *ServerError
		if errors.As(err, &se) && se.Code == skirmishv1.ErrorCode_ERROR_CODE_UNAUTHENTICATED && opts.Refresh != nil && !refreshed {
			fresh, rerr := opts.Refresh(ctx, a)
			if rerr != nil {
				return nil, fmt.Errorf("rejoin room %s: the join token was refused (%w) and refreshing it failed: %w", a.GetRoomId(), err, rerr)
			}
			a, refreshed = fresh, true
			continue
		}
		if !rejoinable(err) || attempt >= b.Attempts || ctx.Err() != nil {
			return nil, fmt.Errorf("rejoin room %s (attempt %d): %w", a.GetRoomId(), attempt, err)
		}
		t := time.NewTimer(b.Wait(attempt, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("rejoin room %s: %w (last error: %w)", a.GetRoomId(), ctx.Err(), err)
		case <-t.C:
		}
	}
}

// rejoinable: every failure to reach the server may pass; of the server's
// own refusals only rate limiting does.
func rejoinable(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code == skirmishv1.ErrorCode_ERROR_CODE_RATE_LIMITED
	}
	return true
}
