package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skirmishgg/skirmish/internal/auth"
	"github.com/skirmishgg/skirmish/internal/metrics"
	"github.com/skirmishgg/skirmish/internal/testenv"
	"github.com/skirmishgg/skirmish/leaderboard"
	"github.com/skirmishgg/skirmish/leaderboard/httpapi"
	"github.com/skirmishgg/skirmish/leaderboard/postgres"
	"github.com/skirmishgg/skirmish/leaderboard/sqlite"
)

type env struct {
	url   string
	store leaderboard.Store
	keys  *auth.Keys
}

// start runs a server on a loopback port over a fresh SQLite store and
// stops it when the test ends.
func start(t *testing.T) env { return startWith(t, httpapi.Config{AdminKey: adminKey}) }

const adminKey = "test-admin-key"

func startWith(t *testing.T, cfg httpapi.Config) env {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lb.db"))
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, cfg, store)
}

// startPostgres runs a server as start does, over a PostgreSQL store in a
// fresh database (testenv.Postgres).
func startPostgres(t *testing.T) env {
	t.Helper()
	store, err := postgres.Open(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, httpapi.Config{AdminKey: adminKey}, store)
}

// startOn runs a server over store, which it closes when the test ends.
func startOn(t *testing.T, cfg httpapi.Config, store interface {
	leaderboard.Store
	Close() error
}) env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	keys, err := auth.FromMaster(make([]byte, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(cfg, store, keys, metrics.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
		store.Close()
	})
	return env{url: "http://" + ln.Addr().String(), store: store, keys: keys}
}

func do(t *testing.T, method, url, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestBadRequests(t *testing.T) {
	e := start(t)
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"limit zero", "GET", "/v1/leaderboards/wins/entries?limit=0", "", 400},
		{"limit too big", "GET", "/v1/leaderboards/wins/entries?limit=101", "", 400},
		{"limit not a number", "GET", "/v1/leaderboards/wins/entries?limit=ten", "", 400},
		{"bad cursor", "GET", "/v1/leaderboards/wins/entries?cursor=nope", "", 400},
		{"bad match cursor", "GET", "/v1/players/x/matches?cursor=%25%25", "", 400},
		{"unknown board", "GET", "/v1/leaderboards/nothing/entries", "", 404},
		{"unknown board rank", "GET", "/v1/leaderboards/nothing/players/x", "", 404},
		{"unknown player", "GET", "/v1/players/nobody", "", 404},
		{"unknown player matches", "GET", "/v1/players/nobody/matches", "", 404},
		{"unknown match", "GET", "/v1/matches/m404", "", 404},
		{"unknown path", "GET", "/v2/anything", "", 404},
		{"bad JSON", "POST", "/v1/auth/guest", `{"name":`, 400},
		{"empty body", "POST", "/v1/auth/guest", ``, 400},
		{"unknown field", "POST", "/v1/auth/guest", `{"nick":"ada"}`, 400},
		{"two values", "POST", "/v1/auth/guest", `{"name":"a"}{"name":"b"}`, 400},
		{"empty name", "POST", "/v1/auth/guest", `{"name":""}`, 400},
		{"name too long", "POST", "/v1/auth/guest", `{"name":"abcdefghijklmnopqrstuvwxy"}`, 400},
		{"body too large", "POST", "/v1/auth/guest", `{"name":"` + strings.Repeat("a", 5000) + `"}`, 413},
		{"wrong method", "DELETE", "/v1/leaderboards", "", 405},
		{"GET on sign-in", "GET", "/v1/auth/guest", "", 405},
		{"around n too big", "GET", "/v1/leaderboards/wins/players/x/around?n=51", "", 400},
		{"around n negative", "GET", "/v1/leaderboards/wins/players/x/around?n=-1", "", 400},
		{"around unknown player", "GET", "/v1/leaderboards/wins/players/nobody/around", "", 404},
		{"around unknown board", "GET", "/v1/leaderboards/nothing/players/x/around", "", 404},
		{"season not a number", "GET", "/v1/leaderboards/wins/seasons/one/entries", "", 400},
		{"season zero", "GET", "/v1/leaderboards/wins/seasons/0/entries", "", 400},
		{"season not ended", "GET", "/v1/leaderboards/wins/seasons/1/entries", "", 404},
		{"seasons of unknown board", "GET", "/v1/leaderboards/nothing/seasons", "", 404},
		{"admin without token", "PUT", "/v1/admin/leaderboards/b", `{}`, 401},
		{"admin wrong token", "POST", "/v1/admin/leaderboards/wins/seasons", `{"season":1}`, 401},
		{"POST on a public board", "POST", "/v1/leaderboards/wins/entries", "", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{}
			if tt.name == "admin wrong token" {
				hdr = []string{"Authorization", "Bearer nope"}
			}
			resp, body := do(t, tt.method, e.url+tt.path, tt.body, hdr...)
			if resp.StatusCode != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, body, tt.want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			var p struct {
				Type, Title, Detail string
				Status              int
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Status != tt.want || p.Detail == "" || p.Title == "" {
				t.Errorf("problem = %s (%v), want status %d with title and detail", body, err, tt.want)
			}
		})
	}
}

func TestSignInAndRead(t *testing.T) {
	e := start(t)
	spec := loadSpec(t)
	resp, body := do(t, "POST", e.url+"/v1/auth/guest", `{"name":"ada"}`, "Content-Type", "application/json")
	if resp.StatusCode != 201 {
		t.Fatalf("sign-in = %d %s", resp.StatusCode, body)
	}
	spec.check(t, "GuestResponse", body)
	var g struct{ PlayerID, Name, Token string }
	json.Unmarshal(body, &struct {
		PlayerID *string `json:"player_id"`
		Token    *string `json:"token"`
	}{&g.PlayerID, &g.Token})
	sess, err := e.keys.VerifySession(g.Token)
	if err != nil || sess.PlayerID != g.PlayerID || sess.Name != "ada" {
		t.Fatalf("VerifySession(token) = %+v, %v, want player %s named ada", sess, err, g.PlayerID)
	}

	ctx := context.Background()
	end := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, other := range []string{"bob", "cat", "dan"} {
		m := leaderboard.Match{ID: "m" + other, Mode: "duel", EndedAt: end.Add(time.Duration(i) * time.Minute), Players: []leaderboard.Result{
			{PlayerID: g.PlayerID, Name: "ada", Team: 1, Placement: 1, Stats: map[string]float64{"eliminations": 10}},
			{PlayerID: other, Name: other, Team: 2, Placement: 2, Stats: map[string]float64{"eliminations": float64(i)}},
		}}
		if _, err := e.store.ApplyOutcome(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	reads := []struct{ path, schema string }{
		{"/v1/leaderboards", "LeaderboardList"},
		{"/v1/leaderboards/eliminations/entries?limit=2", "EntryPage"},
		{"/v1/leaderboards/wins/players/" + g.PlayerID, "Entry"},
		{"/v1/players/" + g.PlayerID, "Player"},
		{"/v1/players/" + g.PlayerID + "/matches?limit=2", "PlayerMatchPage"},
		{"/v1/matches/mbob", "Match"},
	}
	for _, r := range reads {
		resp, body := do(t, "GET", e.url+r.path, "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s = %d %q %s", r.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			continue
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s: Access-Control-Allow-Origin = %q, want *", r.path, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		spec.check(t, r.schema, body)
	}

	// Page through the eliminations board: ada, then bob/cat/dan.
	var names []string
	next := ""
	for range 5 {
		_, body := do(t, "GET", e.url+"/v1/leaderboards/eliminations/entries?limit=2&cursor="+next, "")
		var page struct {
			Entries []struct {
				Rank int64
				Name string
			}
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, en := range page.Entries {
			names = append(names, en.Name)
			if en.Rank != int64(len(names)) {
				t.Errorf("entry %s has rank %d, want %d", en.Name, en.Rank, len(names))
			}
		}
		if next = page.NextCursor; next == "" {
			break
		}
	}
	if got := strings.Join(names, " "); got != "ada dan cat bob" {
		t.Errorf("eliminations pages = %q, want %q", got, "ada dan cat bob")
	}

	_, body = do(t, "GET", e.url+"/v1/players/"+g.PlayerID, "")
	var p struct{ Matches, Wins, Eliminations int64 }
	json.Unmarshal(body, &p)
	if p.Matches != 3 || p.Wins != 3 || p.Eliminations != 30 {
		t.Errorf("profile = %s, want 3 matches, 3 wins, 30 eliminations", body)
	}
}

func TestOperations(t *testing.T) {
	e := start(t)
	tests := []struct {
		method, path string
		hdr          []string
		want         int
		contains     string
	}{
		{"GET", "/healthz", nil, 200, "ok"},
		{"GET", "/readyz", nil, 200, "ok"},
		{"GET", "/openapi.json", nil, 200, `"openapi": "3.1.0"`},
		{"OPTIONS", "/v1/auth/guest", []string{"Origin", "https://game.example", "Access-Control-Request-Method", "POST"}, 204, ""},
		{"GET", "/metrics", nil, 404, "no such endpoint"}, // on the internal listener only
	}
	for _, tt := range tests {
		resp, body := do(t, tt.method, e.url+tt.path, "", tt.hdr...)
		if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.contains) {
			t.Errorf("%s %s = %d, body contains %q: %v; want %d", tt.method, tt.path, resp.StatusCode, tt.contains,
				strings.Contains(string(body), tt.contains), tt.want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	keys, err := auth.FromMaster(make([]byte, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lb.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, cfg := range []httpapi.Config{{SessionTTL: time.Second}, {DefaultLimit: 1000}} {
		if _, err := httpapi.New(cfg, store, keys, metrics.NewRegistry(), nil); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
}
