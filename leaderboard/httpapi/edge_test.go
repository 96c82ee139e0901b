package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"io"
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

// TestBadInputEveryRoute: every route of openapi.json has bad requests
// here, each with the status it must get, and oversized client values
// are refused or quoted clipped.
func TestBadInputEveryRoute(t *testing.T) {
	// PostgreSQL refuses text SQLite takes (NUL, bytes that are not
	// UTF-8), so the table runs on both.
	t.Run("sqlite", func(t *testing.T) { badInputEveryRoute(t, start(t)) })
	t.Run("postgres", func(t *testing.T) { badInputEveryRoute(t, startPostgres(t)) })
}

func badInputEveryRoute(t *testing.T, e env) {
	long := strings.Repeat("x", 4000)
	// A cursor naming a player id with a NUL, as a client could forge one.
	nulCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"s":1,"p":"a\u0000b"}`))
	nulMatchCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"e":1,"m":"a\u0000b"}`))
	admin := []string{"Authorization", "Bearer " + adminKey}
	tests := []struct {
		route        string // the openapi.json path
		method, path string
		body         string
		length       int64 // declared Content-Length beyond the body; 0: the body's
		hdr          []string
		want         int
	}{
		{"/v1/auth/guest", "POST", "/v1/auth/guest", `{"name":"ada"}`, 64 << 20, nil, 413},
		{"/v1/auth/guest", "POST", "/v1/auth/guest", `{"name":["ada"]}`, 0, nil, 400},
		{"/v1/leaderboards", "POST", "/v1/leaderboards", "{}", 0, nil, 405},
		{"/v1/leaderboards/{id}/entries", "GET", "/v1/leaderboards/wins/entries?cursor=" + long, "", 0, nil, 400},
		{"/v1/leaderboards/{id}/entries", "GET", "/v1/leaderboards/wins/entries?limit=99999999999999999999", "", 0, nil, 400},
		{"/v1/leaderboards/{id}/players/{player}", "GET", "/v1/leaderboards/wins/players/" + long, "", 0, nil, 404},
		{"/v1/leaderboards/{id}/players/{player}/around", "GET", "/v1/leaderboards/wins/players/x/around?n=abc", "", 0, nil, 400},
		{"/v1/leaderboards/{id}/seasons", "GET", "/v1/leaderboards/" + long + "/seasons", "", 0, nil, 404},
		{"/v1/leaderboards/{id}/seasons/{season}/entries", "GET", "/v1/leaderboards/wins/seasons/99999999999999999999/entries", "", 0, nil, 400},
		{"/v1/admin/leaderboards/{id}", "PUT", "/v1/admin/leaderboards/b", `{"title":`, 0, admin, 400},
		{"/v1/admin/leaderboards/{id}", "PUT", "/v1/admin/leaderboards/b", `{}`, 64 << 20, admin, 413},
		{"/v1/admin/leaderboards/{id}/seasons", "POST", "/v1/admin/leaderboards/wins/seasons", `{"season":"one"}`, 0, admin, 400},
		{"/v1/rating-pools", "PUT", "/v1/rating-pools", "{}", 0, nil, 405},
		{"/v1/admin/rating-pools/{mode}", "PUT", "/v1/admin/rating-pools/" + long, `{"pool":"p"}`, 0, admin, 400},
		{"/v1/admin/rating-pools/{mode}", "PUT", "/v1/admin/rating-pools/x", `{"pool":"` + long + `"}`, 0, admin, 400},
		{"/docs", "POST", "/docs", "", 0, nil, 405},
		{"/v1/players/{id}", "GET", "/v1/players/" + long, "", 0, nil, 404},
		{"/v1/players/{id}/matches", "GET", "/v1/players/x/matches?cursor=" + long, "", 0, nil, 400},
		{"/v1/matches/{id}", "GET", "/v1/matches/" + long, "", 0, nil, 404},
		{"/v1/leaderboards/{id}/entries", "GET", "/v1/leaderboards/%00/entries", "", 0, nil, 404},
		{"/v1/leaderboards/{id}/entries", "GET", "/v1/leaderboards/wins/entries?cursor=" + nulCursor, "", 0, nil, 400},
		{"/v1/leaderboards/{id}/players/{player}", "GET", "/v1/leaderboards/wins/players/%00", "", 0, nil, 404},
		{"/v1/leaderboards/{id}/players/{player}", "GET", "/v1/leaderboards/wins/players/%ff", "", 0, nil, 404},
		{"/v1/leaderboards/{id}/players/{player}/around", "GET", "/v1/leaderboards/wins/players/a%00b/around", "", 0, nil, 404},
		{"/v1/leaderboards/{id}/seasons", "GET", "/v1/leaderboards/%ff/seasons", "", 0, nil, 404},
		{"/v1/leaderboards/{id}/seasons/{season}/entries", "GET", "/v1/leaderboards/%00/seasons/1/entries", "", 0, nil, 404},
		{"/v1/admin/leaderboards/{id}", "PUT", "/v1/admin/leaderboards/%00", `{"stat":"wins"}`, 0, admin, 400},
		{"/v1/admin/leaderboards/{id}", "PUT", "/v1/admin/leaderboards/b", `{"title":"a\u0000b","stat":"wins"}`, 0, admin, 400},
		{"/v1/admin/leaderboards/{id}/seasons", "POST", "/v1/admin/leaderboards/%ff/seasons", `{"season":1}`, 0, admin, 400},
		{"/v1/admin/rating-pools/{mode}", "PUT", "/v1/admin/rating-pools/%00", `{"pool":"p"}`, 0, admin, 400},
		{"/v1/players/{id}", "GET", "/v1/players/%00", "", 0, nil, 404},
		{"/v1/players/{id}", "GET", "/v1/players/%ff", "", 0, nil, 404},
		{"/v1/players/{id}/matches", "GET", "/v1/players/%ff/matches", "", 0, nil, 404},
		{"/v1/players/{id}/matches", "GET", "/v1/players/x/matches?cursor=" + nulMatchCursor, "", 0, nil, 400},
		{"/v1/matches/{id}", "GET", "/v1/matches/%00", "", 0, nil, 404},
		{"/openapi.json", "DELETE", "/openapi.json", "", 0, nil, 405},
		{"/healthz", "POST", "/healthz", "", 0, nil, 405},
		{"/readyz", "PUT", "/readyz", "", 0, nil, 405},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.route] = true
		req, err := http.NewRequest(tt.method, e.url+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if tt.length > 0 {
			req.ContentLength = tt.length
			req.Body = io.NopCloser(io.MultiReader(strings.NewReader(tt.body), io.LimitReader(zeros{}, tt.length-int64(len(tt.body)))))
		}
		for i := 0; i+1 < len(tt.hdr); i += 2 {
			req.Header.Set(tt.hdr[i], tt.hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %.80s: %v", tt.method, tt.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %.80s = %d %.200s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.want)
		}
		if len(body) > 1024 {
			t.Errorf("%s %.80s: answer of %d bytes, want at most 1024", tt.method, tt.path, len(body))
		}
	}
	for path := range loadSpec(t).Paths {
		if !covered[path] {
			t.Errorf("no bad input for %s", path)
		}
	}
}

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
