import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameReader, frame, MAX_FRAME } from "../dist/index.js";

test("frames survive any split of the stream", () => {
  const msgs = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(7), new Uint8Array(70000).fill(9)];
  const stream = new Uint8Array(msgs.reduce((n, m) => n + frame(m).length, 0));
  let at = 0;
  for (const m of msgs) { stream.set(frame(m), at); at += frame(m).length; }
  for (const chunk of [1, 2, 3, 7, 128, 100000]) {
    const r = new FrameReader();
    const got = [];
    for (let i = 0; i < stream.length; i += chunk) got.push(...r.push(stream.subarray(i, i + chunk)));
    assert.deepEqual(got.map((g) => g.length), msgs.map((m) => m.length), `chunks of ${chunk}`);
    assert.deepEqual(got[2], msgs[2]);
  }
});

test("a frame over the bound is an error, not a wait", () => {
  const r = new FrameReader();
  const head = frame(new Uint8Array(0));
  assert.equal(head.length, 1);
  const big = frame(new Uint8Array(MAX_FRAME + 1)).subarray(0, 3);
  assert.throws(() => r.push(big), /over the/);
  assert.throws(() => new FrameReader().push(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x01])), /varint/);
});
