package agones_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/skirmishgg/skirmish/gameserver/agones"
	"github.com/skirmishgg/skirmish/gameserver/agones/agonestest"
)

// TestClient calls every endpoint the driver uses against the stand-in
// and checks the answers and errors of the observed contract.
func TestClient(t *testing.T) {
	sc := agonestest.Start(agonestest.Config{Counters: map[string]int64{"rooms": 10}, HealthDisabled: true})
	t.Cleanup(sc.Close)
	c := agones.NewClient(sc.URL(), nil)
	ctx := context.Background()

	gs, err := c.GameServer(ctx)
	if err != nil {
		t.Fatalf("GameServer: %v", err)
	}
	if gs.Status.State != agones.StateScheduled || gs.Status.Address != "203.0.113.7" || gs.Port("ws") != 7042 || gs.Port("wt") != 7043 {
		t.Errorf("GameServer = %+v, want Scheduled at 203.0.113.7 with ports ws 7042, wt 7043", gs.Status)
	}
	if ct := gs.Status.Counters["rooms"]; ct.Capacity != 10 {
		t.Errorf("rooms counter in status = %+v, want capacity 10 (sent as a string)", ct)
	}
	if _, err := gs.HostPort("nope"); err == nil {
		t.Error("HostPort(nope) = nil error, want an error naming the ports")
	}

	tests := []struct {
		name     string
		call     func() error
		status   int    // 0: success
		prefix   string // message prefix of the error
		notFound bool
	}{
		{"health", func() error { return c.Health(ctx) }, 0, "", false},
		{"ready", func() error { return c.Ready(ctx) }, 0, "", false},
		{"allocate", func() error { return c.Allocate(ctx) }, 0, "", false},
		{"label", func() error { return c.SetLabel(ctx, "rooms", "3") }, 0, "", false},
		{"label key not a qualified name", func() error { return c.SetLabel(ctx, "Bad Key!", "3") }, 400, "invalid", false},
		{"counter count", func() error { _, err := c.SetCounter(ctx, "rooms", 4); return err }, 0, "", false},
		{"counter over capacity", func() error { _, err := c.SetCounter(ctx, "rooms", 11); return err }, 500, "out of range.", false},
		{"counter capacity", func() error { _, err := c.SetCounterCapacity(ctx, "rooms", 20); return err }, 0, "", false},
		{"undeclared counter", func() error { _, err := c.SetCounter(ctx, "players", 1); return err }, 500, "not found.", true},
		{"shutdown", func() error { return c.Shutdown(ctx) }, 0, "", false},
	}
	for _, tt := range tests {
		err := tt.call()
		if tt.status == 0 {
			if err != nil {
				t.Errorf("%s: %v, want success", tt.name, err)
			}
			continue
		}
		var ae *agones.APIError
		if !errors.As(err, &ae) || ae.Status != tt.status || !strings.HasPrefix(ae.Message, tt.prefix) {
			t.Errorf("%s: error %v, want HTTP %d with message %q...", tt.name, err, tt.status, tt.prefix)
		}
		if agones.IsNotFound(err) != tt.notFound {
			t.Errorf("%s: IsNotFound = %v, want %v", tt.name, !tt.notFound, tt.notFound)
		}
	}
	if n, capacity, _ := sc.Counter("rooms"); n != 4 || capacity != 20 {
		t.Errorf("rooms counter = %d of %d, want 4 of 20", n, capacity)
	}
	if sc.Label("rooms") != "3" {
		t.Errorf("label agones.dev/sdk-rooms = %q, want 3", sc.Label("rooms"))
	}
	if sc.State() != agones.StateShutdown {
		t.Errorf("state %q, want Shutdown", sc.State())
	}
	// Shutdown is final: a later Ready answers 200 and is dropped.
	if err := c.Ready(ctx); err != nil || sc.State() != agones.StateShutdown {
		t.Errorf("Ready after Shutdown: %v, state %q; want 200 and Shutdown kept", err, sc.State())
	}
}

// TestStandInContract checks the stand-in against the answers the real
// sidecar gave (docs/scaling.md, "Agones"): statuses and error codes.
func TestStandInContract(t *testing.T) {
	sc := agonestest.Start(agonestest.Config{Counters: map[string]int64{"rooms": 10}, HealthDisabled: true})
	t.Cleanup(sc.Close)
	tests := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/gameserver", "", 200, `"object_meta"`},
		{"POST", "/health", "", 400, ""},
		{"POST", "/health", "garbage", 400, `"code":3`},
		{"POST", "/health", "{}", 200, "{}"},
		{"POST", "/ready", "", 200, "{}"},
		{"POST", "/ready", "not json", 400, `"code":3`},
		{"GET", "/ready", "", 501, `"code":12`},
		{"POST", "/gameserver", "{}", 501, `"code":12`},
		{"GET", "/nope", "", 404, `"code":5`},
		{"GET", "/v1beta1/counters/rooms", "", 200, `"capacity": "10"`},
		{"PATCH", "/v1beta1/counters/rooms", `{"countDiff":"2"}`, 200, `"count": "2"`},
		{"PATCH", "/v1beta1/counters/rooms", `{"count_diff":-1}`, 200, `"count": "2"`}, // unknown field dropped
		{"PATCH", "/v1beta1/counters/rooms", `{"count":25}`, 500, "out of range."},
		{"GET", "/v1beta1/counters/nope", "", 500, "not found. nope Counter not found"},
		{"PUT", "/metadata/label", `{"key":"mode","value":"ranked"}`, 200, "{}"},
		{"POST", "/reserve", `{"seconds":"5"}`, 200, "{}"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, sc.URL()+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.contains) {
			t.Errorf("%s %s %q = %d %s, want %d containing %s", tt.method, tt.path, tt.body, resp.StatusCode, body, tt.status, tt.contains)
		}
	}
	if sc.Label("mode") != "ranked" {
		t.Errorf("label = %q, want ranked under agones.dev/sdk-mode", sc.Label("mode"))
	}
}

// TestWatch reads the stream: the current state first, then one event per
// state call, none for health pings.
func TestWatch(t *testing.T) {
	sc := agonestest.Start(agonestest.Config{HealthDisabled: true})
	t.Cleanup(sc.Close)
	c := agones.NewClient(sc.URL(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	states := make(chan string, 16)
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, func(gs *agones.GameServer) { states <- gs.Status.State }) }()
	next := func() string {
		select {
		case s := <-states:
			return s
		case <-ctx.Done():
			t.Fatal("no watch event")
			return ""
		}
	}
	if s := next(); s != agones.StateScheduled {
		t.Fatalf("first event %q, want the current state Scheduled", s)
	}
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Allocate(ctx); err != nil {
		t.Fatal(err)
	}
	if s := next(); s != agones.StateAllocated {
		t.Fatalf("event after health and allocate %q, want Allocated (health sends none)", s)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Watch after cancel = %v, want context.Canceled", err)
	}
}
