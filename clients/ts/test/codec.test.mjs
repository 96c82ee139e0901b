// The golden vectors of proto/snapshot (written by the Go codec) decoded
// and applied by this SDK: every world must come out as the Go codec
// built it, and every bad snapshot must be refused with the Go codec's
// words. Regenerate them with `go test ./proto/snapshot -run Golden -update`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { apply, entity, field, BadSnapshotError, UnknownBaseError, ServerMessageSchema } from "../dist/index.js";

const dir = fileURLToPath(new URL("../../../proto/snapshot/testdata/golden/", import.meta.url));
const { cases } = JSON.parse(readFileSync(dir + "vectors.json", "utf8"));

const plain = (w) => ({
  tick: w.tick,
  last_input_seq: w.lastInputSeq,
  entities: w.entities.map((e) => ({ id: e.id, kind: e.kind, fields: [...e.fields] })),
});

test("golden vectors exist", () => {
  assert.ok(cases.length >= 10, `only ${cases.length} cases in ${dir}vectors.json`);
});

for (const c of cases) {
  test(`golden ${c.name}`, () => {
    const worlds = [];
    c.steps.forEach((step, i) => {
      const msg = fromBinary(ServerMessageSchema, readFileSync(dir + step.file));
      assert.equal(msg.msg.case, "snapshot", `${step.file} holds ${msg.msg.case}`);
      const base = step.base >= 0 ? worlds[step.base] : undefined;
      const baseCopy = base && structuredClone(plain(base));
      if (step.error) {
        assert.throws(() => apply(base, msg.msg.value), (e) => {
          if (step.error === "delta against an unknown snapshot") return e instanceof UnknownBaseError;
          return e instanceof BadSnapshotError && e.message === step.error;
        }, `step ${i} (${step.file}) must be refused: ${step.error}`);
      } else {
        const w = apply(base, msg.msg.value);
        assert.deepEqual(plain(w), step.want, `step ${i} (${step.file})`);
        worlds[i] = w;
      }
      if (base) assert.deepEqual(plain(base), baseCopy, `step ${i} changed its base`);
    });
  });
}

test("entity and field read a world", () => {
  const w = { tick: 1, lastInputSeq: 0, entities: [{ id: 2, kind: 1, fields: [5, 6] }, { id: 9, kind: 3, fields: [] }] };
  assert.equal(entity(w, 9)?.kind, 3);
  assert.equal(entity(w, 3), undefined);
  assert.equal(field(entity(w, 2), 1), 6);
  assert.equal(field(entity(w, 2), 2), 0);
  assert.equal(field(undefined, 0), 0);
});
