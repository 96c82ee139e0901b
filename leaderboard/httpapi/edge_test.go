package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/skirmishgg/skirmish/internal/limits"
	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
)

// TestRateLimitPerClient: behind a trusted proxy each forwarded client
// has its own bucket, an IPv6 client is one client across its /64, and an
// untrusted peer's X-Forwarded-For is ignored.
func TestRateLimitPerClient(t *testing.T) {
	proxies, err := limits.ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := startWith(t, httpapi.Config{RatePerSecond: 0.001, RateBurst: 2, Proxies: proxies})
	get := func(client string) int {
		resp, _ := do(t, "GET", e.url+"/v1/leaderboards", "", "X-Forwarded-For", client)
		return resp.StatusCode
	}
	tests := []struct {
		client string
		want   int
	}{
		{"2001:db8:1:2::1", 200},
		{"2001:db8:1:2::ffff", 200},
		{"2001:db8:1:2:abcd::9", 429}, // same /64: same bucket
		{"198.51.100.7", 200},         // another client
		{"198.51.100.7", 200},
		{"198.51.100.7", 429},
	}
	for _, tt := range tests {
		if got := get(tt.client); got != tt.want {
			t.Errorf("GET as %s = %d, want %d", tt.client, got, tt.want)
		}
	}
	// Many other /64s come and go; the limited client stays limited.
	for i := range 50 {
		get(fmt.Sprintf("2001:db8:ff:%x::1", i))
	}
	if got := get("2001:db8:1:2::7"); got != 429 {
		t.Errorf("after other clients, the limited /64 got %d, want 429", got)
	}

	untrusted := startWith(t, httpapi.Config{RatePerSecond: 0.001, RateBurst: 2})
	codes := []int{}
	for i := range 3 {
		resp, _ := do(t, "GET", untrusted.url+"/v1/leaderboards", "", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		codes = append(codes, resp.StatusCode)
	}
	if codes[2] != 429 {
		t.Errorf("an untrusted peer rotating X-Forwarded-For got %v, want the third refused", codes)
	}
}

// TestClientTextClipped: a long path is quoted clipped in the 404.
func TestClientTextClipped(t *testing.T) {
	e := start(t)
	resp, body := do(t, "GET", e.url+"/"+strings.Repeat("x", 20000), "")
	if resp.StatusCode != http.StatusNotFound || len(body) > 1024 {
		t.Errorf("GET a 20000-byte path = %d with %d bytes, want 404 with at most 1024", resp.StatusCode, len(body))
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", resp.Header.Get("X-Content-Type-Options"))
	}
}
