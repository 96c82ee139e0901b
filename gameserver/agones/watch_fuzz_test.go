package agones

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReadWatch: any bytes on the watch stream give GameServers or an
// error, never a panic; a well-formed stream ends with io.EOF.
func FuzzReadWatch(f *testing.F) {
	f.Add(`{"result":{"object_meta":{"name":"gs"},"status":{"state":"Ready","address":"10.0.0.1","ports":[{"name":"ws","port":7042}],"counters":{"rooms":{"count":"1","capacity":"10"}}}}}` + "\n")
	f.Add(`{"error":{"code":2,"message":"boom"}}` + "\n")
	f.Add("\n\n{}\n")
	f.Add(`{"result":{"status":{"counters":{"rooms":{"count":"x"}}}}}`)
	f.Fuzz(func(t *testing.T, stream string) {
		n := 0
		err := readWatch(strings.NewReader(stream), func(gs *GameServer) {
			if gs == nil {
				t.Fatal("nil GameServer")
			}
			n++
		})
		if err == nil {
			t.Fatal("readWatch returned nil, want io.EOF or an error")
		}
		if errors.Is(err, io.EOF) && n > strings.Count(stream, "\n")+1 {
			t.Fatalf("%d GameServers from %d lines", n, strings.Count(stream, "\n")+1)
		}
	})
}
