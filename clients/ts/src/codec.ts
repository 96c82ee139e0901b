// The snapshot codec, client side: rebuild the world a snapshot describes.
// It is the TypeScript twin of proto/snapshot's Apply (Go), and both are
// held to the same bytes by the golden vectors in
// proto/snapshot/testdata/golden.
//
// Wire form (skirmish.v1.Snapshot): base_tick 0 means full. Listed
// entities travel as parallel arrays: ids[i], kinds[i], masks[i] (bit f set
// when field f is present) and values, the present fields of every listed
// entity one after another. An entity listed with a kind is sent whole
// (added, or changed in kind or field count); one listed with kind 0 keeps
// its kind and only its changed fields are present, each as the difference
// from its base value, wrapping like int32. removed holds the ids gone
// since base_tick. ids and removed are in increasing order. kinds is empty
// when every listed entity keeps its kind.
import type { Snapshot } from "./gen/skirmish/v1/realtime_pb.js";

/** The most fields an entity may have (the mask is 64 bits). */
export const MAX_FIELDS = 64;

/** One game object as the player sees it: its fields' meaning is the game's. */
export interface Entity {
  readonly id: number;
  readonly kind: number;
  readonly fields: readonly number[];
}

/**
 * The world at one server tick as one player sees it. Worlds are never
 * changed once built; entities are sorted by id and unchanged ones are
 * shared with older worlds.
 */
export interface World {
  readonly tick: number;
  /** The newest of the player's inputs the server had applied at tick. */
  readonly lastInputSeq: number;
  readonly entities: readonly Entity[];
}

/** A snapshot that does not fit the world it is applied to. */
export class BadSnapshotError extends Error {
  constructor(message: string) {
    super("bad snapshot: " + message);
    this.name = "BadSnapshotError";
  }
}

/**
 * A delta against a world the client does not hold: wait for the next
 * full snapshot (the server sends one when acks stop advancing).
 */
export class UnknownBaseError extends Error {
  constructor(tick: number, baseTick: number) {
    super(`snapshot ${tick}: delta against an unknown snapshot ${baseTick}`);
    this.name = "UnknownBaseError";
  }
}

function popcount64(m: bigint): number {
  let n = 0;
  for (; m !== 0n; m &= m - 1n) n++;
  return n;
}

function bitLength64(m: bigint): number {
  let n = 0;
  for (; m !== 0n; m >>= 1n) n++;
  return n;
}

/**
 * apply builds the world that snapshot s describes. A full snapshot
 * (baseTick 0) ignores base; a delta needs base to be the world of
 * s.baseTick, else it throws UnknownBaseError. A snapshot that does not fit
 * throws BadSnapshotError; base is never changed.
 */
export function apply(base: World | undefined, s: Snapshot): World {
  let from: readonly Entity[] = [];
  if (s.baseTick !== 0) {
    if (!base || base.tick !== s.baseTick) throw new UnknownBaseError(s.tick, s.baseTick);
    from = base.entities;
  }
  const { ids, kinds, masks, values, removed } = s;
  // The checks run in the Go codec's order, so both refuse a bad
  // snapshot with the same words.
  for (let i = 1; i < removed.length; i++) {
    if (removed[i] < removed[i - 1]) throw new BadSnapshotError("removed ids not in increasing order");
  }
  if ((kinds.length !== ids.length && kinds.length !== 0) || masks.length !== ids.length) {
    throw new BadSnapshotError(`${ids.length} ids, ${kinds.length} kinds, ${masks.length} masks`);
  }
  const out: Entity[] = [];
  let r = 0; // next removed id
  const gone = (id: number) => {
    while (r < removed.length && removed[r] < id) r++;
    return r < removed.length && removed[r] === id;
  };
  let b = 0; // next entity of from
  const carry = (below: number) => {
    for (; b < from.length && from[b].id < below; b++) {
      if (!gone(from[b].id)) out.push(from[b]);
    }
  };
  let v = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const mask = masks[i];
    const n = popcount64(mask);
    if (v + n > values.length) throw new BadSnapshotError(`entity ${id} needs ${n} values, ${values.length - v} left`);
    if (i > 0 && id <= ids[i - 1]) throw new BadSnapshotError(`ids not in increasing order at ${id}`);
    const kind = kinds.length > 0 ? kinds[i] : 0;
    const vals = values.slice(v, v + n);
    v += n;
    carry(id);
    let prev: Entity | undefined;
    if (b < from.length && from[b].id === id) {
      if (!gone(id)) prev = from[b];
      b++;
    }
    if (kind !== 0) {
      if ((mask & (mask + 1n)) !== 0n) throw new BadSnapshotError(`entity ${id} sent whole with gaps in its mask`);
      out.push({ id, kind, fields: vals });
      continue;
    }
    if (!prev) throw new BadSnapshotError(`changed entity ${id} is not in the base`);
    const width = bitLength64(mask);
    if (width > prev.fields.length) throw new BadSnapshotError(`entity ${id} has no field ${width - 1}`);
    const fields = prev.fields.slice();
    let m = mask;
    for (const d of vals) {
      const f = bitLength64(m & -m) - 1; // the lowest set bit
      fields[f] = (fields[f] + d) | 0; // differences wrap like int32
      m &= m - 1n;
    }
    out.push({ id, kind: prev.kind, fields });
  }
  if (v !== values.length) throw new BadSnapshotError(`${values.length - v} values left over`);
  carry(Infinity);
  return { tick: s.tick, lastInputSeq: s.lastInputSeq, entities: out };
}

/** entity returns the entity of w with the given id (binary search). */
export function entity(w: World, id: number): Entity | undefined {
  let lo = 0, hi = w.entities.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = w.entities[mid];
    if (e.id === id) return e;
    if (e.id < id) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

/** field returns field i of e, or 0 when e is missing or has no such field. */
export function field(e: Entity | undefined, i: number): number {
  return e && i >= 0 && i < e.fields.length ? e.fields[i] : 0;
}
