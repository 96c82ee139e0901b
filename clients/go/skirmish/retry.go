package skirmish

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Backoff says how to wait between attempts of a call that a server
// refused for now (HTTP 429 or 503, gRPC RESOURCE_EXHAUSTED or
// UNAVAILABLE): exponentially from Initial up to Max, each wait drawn at
// random from its upper half ("equal jitter") so that many clients
// refused together do not come back together, and never shorter than the
// server's Retry-After. The zero value means the defaults.
type Backoff struct {
	// Initial is the first wait; default 250ms.
	Initial time.Duration
	// Max bounds every wait, Retry-After included; default 30s.
	Max time.Duration
	// Attempts bounds the calls made, the first included; default 10.
	// 1 makes one call and never waits.
	Attempts int
}

func (b Backoff) filled() Backoff {
	if b.Initial <= 0 {
		b.Initial = 250 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Attempts <= 0 {
		b.Attempts = 10
	}
	return b
}

// Wait returns how long to wait before attempt number attempt+1 (attempt
// counts from 1) when the server asked for at least retryAfter (0: it
// named no time). The result is at most b.Max.
func (b Backoff) Wait(attempt int, retryAfter time.Duration) time.Duration {
	b = b.filled()
	d := b.Initial
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	d = d/2 + rand.N(d/2+1)
	// A Retry-After is the earliest the server will say yes; a little
	// jitter on top spreads the clients it told the same time.
	if retryAfter > 0 && d < retryAfter {
		d = retryAfter + rand.N(retryAfter/4+1)
	}
	return min(d, b.Max)
}

// HTTPError is an HTTP answer other than the one a call expects.
type HTTPError struct {
	// Op names the call, e.g. "sign in".
	Op     string
	Status int
	// Detail is the problem detail (RFC 9457) or the body's text.
	Detail string
	// RetryAfter is the server's Retry-After, 0 when it sent none.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// ErrNotFound is wrapped by errors for a leaderboard, player, entry or
// match the server does not know (HTTP 404).
var ErrNotFound = errors.New("not found")

// Is makes errors.Is(err, ErrNotFound) hold for a 404.
func (e *HTTPError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date. It returns 0 for none or a malformed one.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Retryable reports whether err says "not now" rather than "no": HTTP 429
// or 503, gRPC RESOURCE_EXHAUSTED or UNAVAILABLE. after is the least wait
// the server asked for (Retry-After, or a gRPC RetryInfo detail), 0 when
// it named none.
func Retryable(err error) (after time.Duration, ok bool) {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter, he.Status == http.StatusTooManyRequests || he.Status == http.StatusServiceUnavailable
	}
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return 0, false
	}
	st := se.GRPCStatus()
	if st.Code() != codes.ResourceExhausted && st.Code() != codes.Unavailable {
		return 0, false
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			after = ri.GetRetryDelay().AsDuration()
		}
	}
	return after, true
}

// Retry calls fn until it succeeds, fails with an error Retryable does
// not accept, b.Attempts calls were made, or ctx ends, waiting between
// calls as b says. It returns fn's last error, or ctx's error wrapped
// around it when ctx ended during a wait.
func Retry(ctx context.Context, b Backoff, fn func(ctx context.Context) error) error {
	b = b.filled()
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		after, ok := Retryable(err)
		if !ok || attempt >= b.Attempts || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(b.Wait(attempt, after))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up waiting to retry: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}
