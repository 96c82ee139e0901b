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
export function apply(base: World | undefined, s: Snapshot): World {
  const w: World = { tick: s.tick, lastInputSeq: s.lastInputSeq, entities: new Map() };
  if (s.baseTick !== 0) {
    if (!base || base.tick !== s.baseTick) throw new UnknownBaseError(`snapshot ${s.tick}: unknown base ${s.baseTick}`);
    for (const [id, e] of base.entities) w.entities.set(id, e);
    for (const id of s.removed) w.entities.delete(id);
  }
  for (const pe of s.entities) {
    const prev = w.entities.get(pe.id);
    const fields = prev ? prev.fields.slice() : [];
    let mask = pe.mask, k = 0;
    for (let i = 0; mask !== 0n; i++, mask >>= 1n) {
      if ((mask & 1n) === 0n) continue;
      if (k >= pe.values.length) throw new Error(`entity ${pe.id}: mask and values disagree`);
      while (fields.length <= i) fields.push(0);
      fields[i] = pe.values[k++];
    }
    if (k !== pe.values.length) throw new Error(`entity ${pe.id}: mask and values disagree`);
    w.entities.set(pe.id, { id: pe.id, kind: pe.kind || prev?.kind || 0, fields });
  }
  return w;
}

export function field(e: Entity | undefined, i: number): number {
  return e && i < e.fields.length ? e.fields[i] : 0;
}
