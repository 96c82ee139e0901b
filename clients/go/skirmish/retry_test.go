package skirmish_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/clients/go/skirmish"
	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
)

// statusCounter counts the answers a client got, by status.
type statusCounter struct {
	mu   sync.Mutex
	seen map[int]int
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		c.mu.Lock()
		c.seen[resp.StatusCode]++
		c.mu.Unlock()
	}
	return resp, err
}

func (c *statusCounter) count(status int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[status]
}

// TestSignInHonoursRetryAfter signs in against a real leaderboard that
// allows one request a second per address: the second sign-in is refused
// with 429 and a Retry-After, and the SDK waits and succeeds; with
// retrying turned off the caller sees the 429 and the wait asked for.
func TestSignInHonoursRetryAfter(t *testing.T) {
	srv, err := startLeaderboard(httpapi.Config{RatePerSecond: 1, RateBurst: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	once, err := skirmish.NewLeaderboard(srv.URL, skirmish.LeaderboardOptions{Backoff: skirmish.Backoff{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := once.SignInGuest(ctx, "first"); err != nil {
		t.Fatalf("first SignInGuest: %v", err)
	}
	_, err = once.SignInGuest(ctx, "second")
	var he *skirmish.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusTooManyRequests || he.RetryAfter < time.Second {
		t.Fatalf("SignInGuest over the limit without retries = %v, want a 429 HTTPError asking for at least 1s", err)
	}
	if after, ok := skirmish.Retryable(err); !ok || after != he.RetryAfter {
		t.Errorf("Retryable(429) = %v, %v; want %v, true", after, ok, he.RetryAfter)
	}

	counter := &statusCounter{seen: map[int]int{}}
	lb, err := skirmish.NewLeaderboard(srv.URL, skirmish.LeaderboardOptions{HTTPClient: &http.Client{Transport: counter}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"third", "fourth"} {
		if _, err := lb.SignInGuest(ctx, name); err != nil {
			t.Fatalf("SignInGuest(%q) with retries: %v", name, err)
		}
	}
	if counter.count(http.StatusCreated) != 2 || counter.count(http.StatusTooManyRequests) == 0 {
		t.Errorf("answers = %v, want 2 Created after at least one 429", counter.seen)
	}
}

func TestLeaderboardErrors(t *testing.T) {
	srv, err := startLeaderboard(httpapi.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	ctx := context.Background()
	lb, err := skirmish.NewLeaderboard(srv.URL+"/", skirmish.LeaderboardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lb.Rank(ctx, "wins", "nobody"); !errors.Is(err, skirmish.ErrNotFound) {
		t.Errorf("Rank(unknown player) = %v, want ErrNotFound", err)
	}
	if _, err := lb.Top(ctx, "no-such-board", 5, ""); !errors.Is(err, skirmish.ErrNotFound) {
		t.Errorf("Top(unknown board) = %v, want ErrNotFound", err)
	}
	_, err = lb.SignInGuest(ctx, "")
	var he *skirmish.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusBadRequest || he.Detail == "" {
		t.Errorf("SignInGuest(\"\") = %v, want a 400 with the problem's detail", err)
	}
	if _, ok := skirmish.Retryable(err); ok {
		t.Errorf("Retryable(400) = true, want false")
	}
	for _, bad := range []string{"", "127.0.0.1:7820", "ftp://x", "http://"} {
		if _, err := skirmish.NewLeaderboard(bad, skirmish.LeaderboardOptions{}); err == nil {
			t.Errorf("NewLeaderboard(%q) = nil error, want one", bad)
		}
	}
}

func TestBackoffWait(t *testing.T) {
	b := skirmish.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}
	tests := []struct {
		attempt    int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{1, 0, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 0, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 0, 400 * time.Millisecond, 800 * time.Millisecond},
		{20, 0, time.Second, 2 * time.Second},
		{1, time.Second, time.Second, 1250 * time.Millisecond},
		{1, time.Minute, 2 * time.Second, 2 * time.Second}, // Max bounds Retry-After too
	}
	for _, tt := range tests {
		for range 50 {
			if got := b.Wait(tt.attempt, tt.retryAfter); got < tt.lo || got > tt.hi {
				t.Fatalf("Wait(%d, %v) = %v, want within [%v, %v]", tt.attempt, tt.retryAfter, got, tt.lo, tt.hi)
			}
		}
	}
}

// TestRetryStopsAtHardErrors: Retry gives back an error that is not
// "not now" at once, and gives up after Attempts.
func TestRetryStopsAtHardErrors(t *testing.T) {
	ctx := context.Background()
	calls := 0
	hard := errors.New("hard")
	if err := skirmish.Retry(ctx, skirmish.Backoff{}, func(context.Context) error { calls++; return hard }); err != hard || calls != 1 {
		t.Errorf("Retry(hard error) = %v after %d calls, want it after 1", err, calls)
	}
	calls = 0
	busy := &skirmish.HTTPError{Op: "x", Status: http.StatusServiceUnavailable}
	err := skirmish.Retry(ctx, skirmish.Backoff{Initial: time.Millisecond, Attempts: 3}, func(context.Context) error { calls++; return busy })
	if !errors.Is(err, busy) || calls != 3 {
		t.Errorf("Retry(503 always) = %v after %d calls, want it after 3", err, calls)
	}
}
