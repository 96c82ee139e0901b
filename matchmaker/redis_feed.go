package matchmaker

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// The change feed: every script that changes a ticket publishes its id on
// P+"changes"; run subscribes and closes the channels of the local
// watchers of that ticket. Pub/sub loses what is published while a
// subscriber reconnects, so watchers also re-read on their own
// (Config.WatchRefresh), and every watcher is woken when the subscription
// is made again. run pings the subscription every FeedStallAfter/4; when
// nothing (message, pong or subscription) came for FeedStallAfter, the
// feed is stalled and /readyz says so.

// watch returns the channel closed at the ticket's next change.
func (s *redisStore) watch(id string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.watchers[id]
	if ch == nil {
		ch = make(chan struct{})
		s.watchers[id] = ch
	}
	return ch
}

// unwatch drops the ticket's channel, waking whoever waits on it (they
// re-read and find what they need).
func (s *redisStore) unwatch(id string, ch <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.watchers[id]; cur != nil && (<-chan struct{})(cur) == ch {
		close(cur)
		delete(s.watchers, id)
	}
}

// notify wakes the watchers of one ticket, or of every ticket when id is
// "".
func (s *redisStore) notify(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		for id, ch := range s.watchers {
			close(ch)
			delete(s.watchers, id)
		}
		return
	}
	if ch := s.watchers[id]; ch != nil {
		close(ch)
		delete(s.watchers, id)
	}
}

func (s *redisStore) fed(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastFeed = now
}

func (s *redisStore) feedStalled(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastFeed.IsZero() || now.Sub(s.lastFeed) > s.cfg.FeedStallAfter
}

// run follows the change feed until ctx ends.
func (s *redisStore) run(ctx context.Context) error {
	sub := s.c.Subscribe(ctx, s.p+"changes")
	// A blocked receive does not see ctx end: closing the subscription
	// ends it.
	closed := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		sub.Close()
		close(closed)
	})
	defer func() {
		if stop() {
			sub.Close()
		} else {
			<-closed
		}
		s.releaseLease()
	}()
	every := s.cfg.FeedStallAfter / 4
	failing := false
	for {
		msg, err := sub.ReceiveTimeout(ctx, every)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if err := sub.Ping(ctx); err != nil && !failing {
					s.log.Warn("change feed: ping", "err", err)
				}
				continue
			}
			if !failing {
				s.log.Warn("change feed lost; reconnecting", "err", err)
				failing = true
			}
			select { // go-redis reconnects and subscribes again on the next receive
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		now := time.Now()
		switch m := msg.(type) {
		case *redis.Message:
			s.fed(now)
			s.notify(m.Payload)
		case *redis.Pong:
			s.fed(now)
		case *redis.Subscription:
			if failing {
				s.log.Info("change feed back")
				failing = false
			}
			s.fed(now)
			s.notify("") // changes while unsubscribed are lost: everyone re-reads
		}
	}
}
