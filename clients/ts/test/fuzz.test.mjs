// A seeded fuzz of the decoder of untrusted bytes: golden frames with
// random bytes changed, cut or added, and snapshots with random arrays.
// apply must return a well-formed world or throw one of its own errors,
// never anything else, and never change its base.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, fromBinary } from "@bufbuild/protobuf";
import { apply, BadSnapshotError, UnknownBaseError, ServerMessageSchema, SnapshotSchema } from "../dist/index.js";

const dir = fileURLToPath(new URL("../../../proto/snapshot/testdata/golden/", import.meta.url));
const frames = readdirSync(dir).filter((f) => f.endsWith(".bin")).map((f) => readFileSync(dir + f));

// mulberry32: a small seeded generator, so a failure can be replayed.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const base = { tick: 1, lastInputSeq: 0, entities: [{ id: 1, kind: 1, fields: [5, 6] }, { id: 3, kind: 2, fields: [1, 2, 3] }] };
const baseJSON = JSON.stringify(base);

function check(s, what) {
  let w;
  try {
    w = apply(base, s); // a full snapshot ignores base; a delta needs base_tick 1
  } catch (e) {
    assert.ok(e instanceof BadSnapshotError || e instanceof UnknownBaseError, `${what}: apply threw ${e}`);
    return;
  }
  for (let i = 1; i < w.entities.length; i++) {
    assert.ok(w.entities[i - 1].id < w.entities[i].id, `${what}: ids out of order`);
  }
  for (const e of w.entities) {
    assert.ok(e.fields.every((f) => Number.isInteger(f) && f >= -(2 ** 31) && f < 2 ** 31), `${what}: field out of int32`);
  }
  assert.equal(JSON.stringify(base), baseJSON, `${what}: apply changed its base`);
}

test("mutated golden frames", () => {
  const r = rng(1);
  for (let n = 0; n < 20000; n++) {
    const f = Uint8Array.from(frames[Math.floor(r() * frames.length)]);
    const b = Array.from(f);
    for (let k = 1 + Math.floor(r() * 4); k > 0; k--) {
      const op = r(), at = Math.floor(r() * (b.length + 1));
      if (op < 0.6 && b.length) b[at % b.length] = Math.floor(r() * 256);
      else if (op < 0.8) b.splice(at, 1);
      else b.splice(at, 0, Math.floor(r() * 256));
    }
    let msg;
    try { msg = fromBinary(ServerMessageSchema, Uint8Array.from(b)); } catch { continue; }
    if (msg.msg.case === "snapshot") check(msg.msg.value, `mutation ${n}`);
  }
});

test("random snapshots", () => {
  const r = rng(2);
  const pick = (k) => Math.floor(r() * k);
  for (let n = 0; n < 20000; n++) {
    const ids = Array.from({ length: pick(5) }, () => pick(6));
    if (r() < 0.5) ids.sort((a, b) => a - b);
    const s = create(SnapshotSchema, {
      tick: 2,
      baseTick: pick(3),
      ids,
      kinds: r() < 0.5 ? [] : ids.map(() => pick(3)),
      masks: ids.map(() => BigInt(pick(16)) | (r() < 0.05 ? 1n << 63n : 0n)),
      values: Array.from({ length: pick(8) }, () => pick(2 ** 32) - 2 ** 31),
      removed: Array.from({ length: pick(3) }, () => pick(5)),
    });
    check(s, `random ${n}`);
  }
});
