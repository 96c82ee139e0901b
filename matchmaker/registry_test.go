package matchmaker

import (
	"testing"
	"time"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

func TestRegistryReserve(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	servers := []*skirmishv1.Gameserver{
		{Id: "busy", Region: "eu", Capacity: 10, Players: 6},
		{Id: "idle", Region: "eu", Capacity: 10, Players: 1},
		{Id: "us", Region: "us", Capacity: 10},
		{Id: "draining", Region: "eu", Capacity: 10, Draining: true},
	}
	tests := []struct {
		name      string
		fillFirst bool
		region    string
		seats     int
		at        time.Time
		want      string
	}{
		{"least loaded", false, "", 2, now, "us"},
		{"least loaded in region", false, "eu", 2, now, "idle"},
		{"fill first in region", true, "eu", 2, now, "busy"},
		{"fill first skips a full one", true, "eu", 5, now, "idle"},
		{"other region when the region is full", false, "eu", 10, now, "us"},
		{"none has room", false, "", 11, now, ""},
		{"past the TTL", false, "", 2, now.Add(time.Minute), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRegistry(10*time.Second, tt.fillFirst)
			for _, gs := range servers {
				r.heartbeat(gs, now)
			}
			got := r.reserve(tt.region, tt.seats, tt.at, nil).GetId()
			if got != tt.want {
				t.Errorf("reserve(%q, %d) = %q, want %q", tt.region, tt.seats, got, tt.want)
			}
		})
	}
}

func TestRegistryPendingSeats(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r := newRegistry(time.Second, false)
	r.heartbeat(&skirmishv1.Gameserver{Id: "gs", Capacity: 4}, now)
	if r.reserve("", 4, now, nil) == nil {
		t.Fatal("reserve 4 of 4 failed")
	}
	if gs := r.reserve("", 1, now, nil); gs != nil {
		t.Fatalf("reserve beyond capacity = %v, want nil", gs.GetId())
	}
	r.release("gs", 4)
	if r.reserve("", 2, now, nil) == nil {
		t.Error("reserve after release failed")
	}
	if states, addrs, _ := r.sweep(now.Add(2 * time.Second)); len(states) != 0 || len(addrs) != 0 {
		t.Errorf("sweep after TTL = %v, %v, want none", states, addrs)
	}
	if r.deregister("gs") {
		t.Error("swept gameserver still deregistered")
	}
}
