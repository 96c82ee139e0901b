// Game events and input refusals (src/events.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { ErrorCode, GameEventSchema, eventJSON, isRefusal, missedEvents } from "../dist/index.js";

test("refusals of inputs keep the connection; other errors end it", () => {
  for (const c of [ErrorCode.INPUT_QUEUE_FULL, ErrorCode.INPUT_TOO_LARGE, ErrorCode.INPUT_RATE_LIMITED]) {
    assert.equal(isRefusal(c), true, ErrorCode[c]);
  }
  for (const c of [ErrorCode.RATE_LIMITED, ErrorCode.TOO_SLOW, ErrorCode.BAD_MESSAGE, ErrorCode.REPLACED]) {
    assert.equal(isRefusal(c), false, ErrorCode[c]);
  }
});

test("eventJSON decodes a JSON payload", () => {
  const e = create(GameEventSchema, { seq: 3n, type: "bid", payload: new TextEncoder().encode('{"seat":1,"quantity":3,"face":4}') });
  assert.deepEqual(eventJSON(e), { seat: 1, quantity: 3, face: 4 });
  assert.throws(() => eventJSON(create(GameEventSchema, { payload: new Uint8Array([0xff]) })));
});

test("missedEvents compares what the server sent with what arrived", () => {
  assert.equal(missedEvents(4n, 4n), false);
  assert.equal(missedEvents(3n, 4n), true);
  assert.equal(missedEvents(0n, 0n), false);
});
