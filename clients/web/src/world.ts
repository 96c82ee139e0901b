// Worlds built from delta snapshots, as in the Go SDK's world.go.
import type { Snapshot } from "./gen/skirmish/v1/realtime_pb";

export interface Entity { id: number; kind: number; fields: number[] }

export interface World {
  tick: number;
  lastInputSeq: number;
  entities: Map<number, Entity>;
}

export class UnknownBaseError extends Error {}

// apply builds the world snapshot s describes: a full snapshot
// (baseTick 0) stands alone, a delta changes base, the world of baseTick.
// The wire form is documented in gameserver/snapshot: entities travel as
// parallel arrays; one listed with a kind is sent whole, one without
// changes the fields in its mask by the values given (differences).
export function apply(base: World | undefined, s: Snapshot): World {
  const w: World = { tick: s.tick, lastInputSeq: s.lastInputSeq, entities: new Map() };
  if (s.baseTick !== 0) {
    if (!base || base.tick !== s.baseTick) throw new UnknownBaseError(`snapshot ${s.tick}: unknown base ${s.baseTick}`);
    for (const [id, e] of base.entities) w.entities.set(id, e);
    for (const id of s.removed) w.entities.delete(id);
  }
  if ((s.kinds.length !== 0 && s.kinds.length !== s.ids.length) || s.masks.length !== s.ids.length) {
    throw new Error(`snapshot ${s.tick}: ${s.ids.length} ids, ${s.kinds.length} kinds, ${s.masks.length} masks`);
  }
  let v = 0;
  s.ids.forEach((id, n) => {
    const kind = s.kinds.length ? s.kinds[n] : 0;
    const prev = w.entities.get(id);
    if (kind === 0 && !prev) throw new Error(`changed entity ${id} is not in the base`);
    const fields = kind === 0 ? prev!.fields.slice() : [];
    let mask = s.masks[n];
    for (let i = 0; mask !== 0n; i++, mask >>= 1n) {
      if ((mask & 1n) === 0n) continue;
      if (v >= s.values.length) throw new Error(`entity ${id}: mask and values disagree`);
      while (fields.length <= i) fields.push(0);
      // Differences wrap like int32, as on the server.
      fields[i] = kind === 0 ? (fields[i] + s.values[v++]) | 0 : s.values[v++];
    }
    w.entities.set(id, { id, kind: kind || prev!.kind, fields });
  });
  if (v !== s.values.length) throw new Error(`snapshot ${s.tick}: ${s.values.length - v} values left over`);
  return w;
}

export function field(e: Entity | undefined, i: number): number {
  return e && i < e.fields.length ? e.fields[i] : 0;
}
