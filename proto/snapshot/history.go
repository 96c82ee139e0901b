package snapshot

// HistoryLen is how many recent snapshots a History keeps. A client whose
// newest acknowledgement is older than that gets a full snapshot.
const HistoryLen = 32

// History holds the recent snapshots sent to one client, so that the next
// one can be a delta against whichever the client acknowledged. The zero
// value is empty and ready.
type History struct {
	ticks  [HistoryLen]uint32
	worlds [HistoryLen][]Entity
}

// Put records the world sent at tick (tick > 0).
func (h *History) Put(tick uint32, world []Entity) {
	i := tick % HistoryLen
	h.ticks[i], h.worlds[i] = tick, world
}

// Get returns the world sent at tick, if it is still kept.
func (h *History) Get(tick uint32) ([]Entity, bool) {
	if tick == 0 {
		return nil, false
	}
	i := tick % HistoryLen
	if h.ticks[i] != tick {
		return nil, false
	}
	return h.worlds[i], true
}

// Reset forgets everything, e.g. when a player reconnects.
func (h *History) Reset() { *h = History{} }
