package snapshot

// Entity is one object in a snapshot: an id unique within the match, a
// kind (above 0, the game's), and the kind's fields as quantized integers
// in an order the game documents. The gameserver builds them (a game's
// Snapshot returns them) and clients rebuild them with Apply; this type is
// shared by both sides so that neither imports the other.
type Entity struct {
	ID     uint32
	Kind   uint32
	Fields []int32
}

// Field returns field i, or 0 when the entity has no such field.
func (e Entity) Field(i int) int32 {
	if uint(i) >= uint(len(e.Fields)) { // i < 0 too
		return 0
	}
	return e.Fields[i]
}
