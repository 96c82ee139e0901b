package room

import (
	"context"
	"testing"
)

// TestPushSnapshotCopies: the room builds every snapshot frame in one
// buffer it reuses, so a frame the queue keeps must be its own copy, both
// when it is queued and when it replaces one still waiting.
func TestPushSnapshotCopies(t *testing.T) {
	o := newOutbound()
	buf := []byte("tick 1")
	if behind, direct := o.pushSnapshot(buf); behind != 0 || direct {
		t.Fatalf("pushSnapshot = %d, %v; want queued", behind, direct)
	}
	copy(buf, "tick 2")
	if behind, _ := o.pushSnapshot(buf); behind != 1 {
		t.Fatalf("the second snapshot replaced %d; want 1", behind)
	}
	copy(buf, "tick X") // the room's next frame, built in the same buffer
	b, err := o.take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(b.frames) != 1 || string(b.frames[0]) != "tick 2" {
		t.Fatalf("took %q; want the second snapshot, as pushed", b.frames)
	}
}
