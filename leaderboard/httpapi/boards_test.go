package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
)

func TestAdminBoardsAndSeasons(t *testing.T) {
	e := start(t)
	spec := loadSpec(t)
	auth := []string{"Authorization", "Bearer " + adminKey, "Content-Type", "application/json"}
	admin := []struct {
		name, method, path, body string
		want                     int
	}{
		{"create", "PUT", "/v1/admin/leaderboards/damage", `{"title":"Damage","operator":"best","metric":"damage","reset":"@weekly"}`, 200},
		{"retitle", "PUT", "/v1/admin/leaderboards/damage", `{"title":"Most damage","operator":"best","metric":"damage","reset":"@weekly"}`, 200},
		{"change operator", "PUT", "/v1/admin/leaderboards/damage", `{"operator":"increment","metric":"damage"}`, 409},
		{"bad schedule", "PUT", "/v1/admin/leaderboards/x", `{"operator":"best","metric":"damage","reset":"often"}`, 400},
		{"bad metric", "PUT", "/v1/admin/leaderboards/x", `{"operator":"best","metric":"speed"}`, 400},
		{"unknown field", "PUT", "/v1/admin/leaderboards/x", `{"operator":"best","metric":"damage","color":1}`, 400},
		{"new shape", "PUT", "/v1/admin/leaderboards/lap", `{"title":"Fastest lap","order":"asc","stat":"best_lap_ms","aggregate":"min","modes":["race"]}`, 200},
		{"same again", "PUT", "/v1/admin/leaderboards/lap", `{"title":"Lap","order":"asc","stat":"best_lap_ms","aggregate":"min","modes":["race"]}`, 200},
		{"change modes", "PUT", "/v1/admin/leaderboards/lap", `{"order":"asc","stat":"best_lap_ms","aggregate":"min"}`, 409},
		{"change aggregate", "PUT", "/v1/admin/leaderboards/lap", `{"order":"asc","stat":"best_lap_ms","aggregate":"last","modes":["race"]}`, 409},
		{"rating of a pool", "PUT", "/v1/admin/leaderboards/team-rating", `{"stat":"rating","aggregate":"last","pool":"team"}`, 200},
		{"no stat", "PUT", "/v1/admin/leaderboards/x", `{"aggregate":"sum"}`, 400},
		{"bad stat name", "PUT", "/v1/admin/leaderboards/x", `{"stat":"Best Lap","aggregate":"min"}`, 400},
		{"bad aggregate", "PUT", "/v1/admin/leaderboards/x", `{"stat":"laps","aggregate":"avg"}`, 400},
		{"rating without pool", "PUT", "/v1/admin/leaderboards/x", `{"stat":"rating","aggregate":"last"}`, 400},
		{"rating with modes", "PUT", "/v1/admin/leaderboards/x", `{"stat":"rating","aggregate":"last","pool":"team","modes":["team"]}`, 400},
		{"bad mode", "PUT", "/v1/admin/leaderboards/x", `{"stat":"laps","aggregate":"sum","modes":["a,b"]}`, 400},
		{"mode twice", "PUT", "/v1/admin/leaderboards/x", `{"stat":"laps","aggregate":"sum","modes":["race","race"]}`, 400},
		{"too many modes", "PUT", "/v1/admin/leaderboards/x", `{"stat":"laps","aggregate":"sum","modes":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}`, 400},
		{"modes not a list", "PUT", "/v1/admin/leaderboards/x", `{"stat":"laps","aggregate":"sum","modes":"race"}`, 400},
		{"old and new shapes", "PUT", "/v1/admin/leaderboards/x", `{"stat":"laps","aggregate":"sum","operator":"best","metric":"damage"}`, 400},
		{"end no season", "POST", "/v1/admin/leaderboards/damage/seasons", `{}`, 400},
		{"end wrong season", "POST", "/v1/admin/leaderboards/damage/seasons", `{"season":7}`, 409},
		{"end unknown board", "POST", "/v1/admin/leaderboards/nothing/seasons", `{"season":1}`, 404},
	}
	for _, tt := range admin {
		resp, body := do(t, tt.method, e.url+tt.path, tt.body, auth...)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, resp.StatusCode, body, tt.want)
		} else if tt.want == 200 {
			spec.check(t, "Leaderboard", body)
		}
	}
	_, body := do(t, "GET", e.url+"/v1/leaderboards/lap/entries", "")
	if !strings.Contains(string(body), `"entries":[]`) {
		t.Errorf("GET lap entries = %s, want an empty page", body)
	}
	_, body = do(t, "GET", e.url+"/v1/leaderboards", "")
	if !strings.Contains(string(body), `{"id":"lap","title":"Lap","order":"asc","stat":"best_lap_ms","aggregate":"min","modes":["race"],"season":1`) {
		t.Errorf("GET leaderboards = %s, want the lap board in the new shape", body)
	}

	ctx := context.Background()
	for i, p := range []string{"ada", "bob", "cat", "dan", "eve"} {
		m := leaderboard.Match{ID: "m-" + p, Mode: "duel", EndedAt: time.Unix(1_800_000_000+int64(i), 0), Players: []leaderboard.Result{
			{PlayerID: p, Name: p, Team: 1, Placement: 1, Stats: map[string]float64{"damage": float64(100 * (i + 1))}},
			{PlayerID: "z" + p, Name: "z" + p, Team: 2, Placement: 2},
		}}
		if _, err := e.store.ApplyOutcome(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := do(t, "GET", e.url+"/v1/leaderboards/damage/players/cat/around?n=1", "")
	if resp.StatusCode != 200 {
		t.Fatalf("around = %d %s", resp.StatusCode, body)
	}
	spec.check(t, "EntryPage", body)
	if got := entryNames(t, body); got != "2:dan 3:cat 4:bob" {
		t.Errorf("around cat = %q, want 2:dan 3:cat 4:bob", got)
	}

	resp, body = do(t, "POST", e.url+"/v1/admin/leaderboards/damage/seasons", `{"season":1}`, auth...)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"season":2`) {
		t.Fatalf("end season = %d %s", resp.StatusCode, body)
	}
	_, body = do(t, "GET", e.url+"/v1/leaderboards/damage/seasons", "")
	spec.check(t, "SeasonList", body)
	_, body = do(t, "GET", e.url+"/v1/leaderboards/damage/seasons/1/entries?limit=2", "")
	spec.check(t, "EntryPage", body)
	if got := entryNames(t, body); got != "1:eve 2:dan" {
		t.Errorf("season 1 = %q, want 1:eve 2:dan", got)
	}
	_, body = do(t, "GET", e.url+"/v1/leaderboards/damage/entries", "")
	if got := entryNames(t, body); got != "" {
		t.Errorf("season 2 = %q, want empty", got)
	}
}

// TestRatingPools: the admin API maps a mode to a pool once; the public
// API lists the mapping.
func TestRatingPools(t *testing.T) {
	e := start(t)
	spec := loadSpec(t)
	auth := []string{"Authorization", "Bearer " + adminKey, "Content-Type", "application/json"}
	for _, tt := range []struct {
		name, path, body string
		hdr              []string
		want             int
	}{
		{"map", "/v1/admin/rating-pools/team4", `{"pool":"team"}`, auth, 200},
		{"same again", "/v1/admin/rating-pools/team4", `{"pool":"team"}`, auth, 200},
		{"move", "/v1/admin/rating-pools/team4", `{"pool":"team4"}`, auth, 409},
		{"no pool", "/v1/admin/rating-pools/x", `{}`, auth, 400},
		{"bad pool", "/v1/admin/rating-pools/x", `{"pool":"a pool"}`, auth, 400},
		{"bad mode", "/v1/admin/rating-pools/a%20mode", `{"pool":"a"}`, auth, 400},
		{"long pool", "/v1/admin/rating-pools/x", `{"pool":"` + strings.Repeat("p", 33) + `"}`, auth, 400},
		{"pool not a string", "/v1/admin/rating-pools/x", `{"pool":1}`, auth, 400},
		{"no token", "/v1/admin/rating-pools/x", `{"pool":"a"}`, nil, 401},
	} {
		resp, body := do(t, "PUT", e.url+tt.path, tt.body, tt.hdr...)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: PUT %s = %d %s, want %d", tt.name, tt.path, resp.StatusCode, body, tt.want)
		} else if tt.want == 200 {
			spec.check(t, "RatingPool", body)
		}
	}
	resp, body := do(t, "GET", e.url+"/v1/rating-pools", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"team4":"team"`) {
		t.Errorf("GET /v1/rating-pools = %d %s, want team4 in pool team", resp.StatusCode, body)
	}
	spec.check(t, "RatingPools", body)
}

func entryNames(t *testing.T, body []byte) string {
	t.Helper()
	var page struct {
		Entries []struct {
			Rank int64
			Name string
		}
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range page.Entries {
		out = append(out, fmt.Sprintf("%d:%s", e.Rank, e.Name))
	}
	return strings.Join(out, " ")
}

func TestConditionalGet(t *testing.T) {
	e := start(t)
	for _, path := range []string{"/v1/leaderboards", "/v1/leaderboards/wins/entries", "/openapi.json", "/docs"} {
		resp, _ := do(t, "GET", e.url+path, "")
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
			t.Errorf("GET %s = %d, ETag %q, Cache-Control %q", path, resp.StatusCode, etag, resp.Header.Get("Cache-Control"))
			continue
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			resp, body := do(t, "GET", e.url+path, "", "If-None-Match", inm)
			if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag {
				t.Errorf("GET %s If-None-Match %s = %d (%d bytes), want 304 and no body", path, inm, resp.StatusCode, len(body))
			}
		}
		if resp, _ := do(t, "GET", e.url+path, "", "If-None-Match", `"stale"`); resp.StatusCode != 200 {
			t.Errorf("GET %s with a stale ETag = %d, want 200", path, resp.StatusCode)
		}
	}
}

func TestRateLimit(t *testing.T) {
	e := startWith(t, httpapi.Config{RatePerSecond: 0.001, RateBurst: 3})
	for i := range 3 {
		if resp, body := do(t, "GET", e.url+"/v1/leaderboards", ""); resp.StatusCode != 200 {
			t.Fatalf("request %d = %d %s, want 200 within the burst", i, resp.StatusCode, body)
		}
	}
	resp, body := do(t, "GET", e.url+"/v1/leaderboards", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("request past the burst = %d, Retry-After %q, %s; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, _ := do(t, "GET", e.url+"/healthz", ""); resp.StatusCode != 200 {
		t.Errorf("/healthz while limited = %d, want 200", resp.StatusCode)
	}
}
