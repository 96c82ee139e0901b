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
