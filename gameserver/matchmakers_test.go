package gameserver

import (
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	skirmishv1 "github.com/skirmishgg/skirmish/proto/skirmish/v1"
)

// TestHeartbeatsReachAnyReplica: with a list of matchmaker addresses the
// gameserver's heartbeats reach the replicas, and keep coming when one of
// them goes away.
func TestHeartbeatsReachAnyReplica(t *testing.T) {
	keys := newKeys(t)
	type replica struct {
		reg  *registry
		addr string
		stop func()
	}
	var replicas []*replica
	for range 2 {
		reg := &registry{keys: keys, heartbeats: make(chan *skirmishv1.Gameserver, 1),
			deregisters: make(chan string, 1), reports: make(chan *skirmishv1.ReportRoomRequest, 64)}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		g := grpc.NewServer()
		skirmishv1.RegisterGameserverRegistryServiceServer(g, reg)
		var wg sync.WaitGroup
		wg.Go(func() { g.Serve(ln) })
		var once sync.Once
		stop := func() { once.Do(func() { g.Stop(); wg.Wait() }) }
		t.Cleanup(stop)
		replicas = append(replicas, &replica{reg, ln.Addr().String(), stop})
	}
	startServerKeys(t, Config{MatchmakerAddr: replicas[0].addr + "," + replicas[1].addr}, keys)
	for i, r := range replicas {
		select {
		case <-r.reg.heartbeats:
		case <-time.After(wait):
			t.Fatalf("no heartbeat reached replica %d", i)
		}
	}
	replicas[0].stop()
	for range 3 { // several heartbeats in a row, all to the one left
		select {
		case <-replicas[1].reg.heartbeats:
		case <-time.After(wait):
			t.Fatal("heartbeats stopped when a replica went away")
		}
	}
}
