import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffWait, parseRetryAfter, retry, HttpError, Leaderboard } from "../dist/index.js";

test("backoffWait grows with jitter, honours Retry-After, stays under max", () => {
  const b = { initialMs: 100, maxMs: 2000 };
  const cases = [
    [1, 0, 50, 100], [2, 0, 100, 200], [4, 0, 400, 800], [20, 0, 1000, 2000],
    [1, 1000, 1000, 1250], [1, 60000, 2000, 2000],
  ];
  for (const [attempt, after, lo, hi] of cases) {
    for (const r of [0, 0.5, 0.999999]) {
      const got = backoffWait(b, attempt, after, () => r);
      assert.ok(got >= lo && got <= hi, `backoffWait(${attempt}, ${after}) = ${got}, want within [${lo}, ${hi}]`);
    }
  }
});

test("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const cases = [
    ["", 0], [null, 0], ["3", 3000], [" 10 ", 10000], ["-1", 0], ["soon", 0],
    ["Thu, 01 Jan 2026 00:00:05 GMT", 5000], ["Wed, 31 Dec 2025 23:59:00 GMT", 0],
  ];
  for (const [h, want] of cases) assert.equal(parseRetryAfter(h, now), want, `parseRetryAfter(${JSON.stringify(h)})`);
});

test("retry stops at hard errors and after its attempts", async () => {
  let calls = 0;
  const hard = new Error("hard");
  const check = (e) => (e instanceof HttpError && e.retryable ? { retryable: true, retryAfterMs: e.retryAfterMs } : undefined);
  await assert.rejects(retry(async () => { calls++; throw hard; }, check), hard);
  assert.equal(calls, 1);
  calls = 0;
  const busy = new HttpError("x", 503, "", 0);
  await assert.rejects(retry(async () => { calls++; throw busy; }, check, { initialMs: 1, attempts: 3 }), busy);
  assert.equal(calls, 3);
  calls = 0;
  assert.equal(await retry(async () => { if (++calls < 3) throw busy; return "ok"; }, check, { initialMs: 1 }), "ok");
});

test("retry tells onRetry each wait: the attempt, the wait and the refusal", async () => {
  const seen = [];
  const busy = new HttpError("x", 429, "", 2);
  let calls = 0;
  const check = (e) => ({ retryable: true, retryAfterMs: e.retryAfterMs });
  const got = await retry(async () => { if (++calls < 3) throw busy; return "ok"; }, check,
    { initialMs: 1, onRetry: (attempt, ms, err) => seen.push([attempt, ms >= 2, err]) });
  assert.equal(got, "ok");
  assert.deepEqual(seen, [[1, true, busy], [2, true, busy]]);
});

test("retry gives up when aborted during a wait", async () => {
  const ac = new AbortController();
  const busy = new HttpError("x", 429, "", 60_000);
  const p = retry(async () => { throw busy; }, () => ({ retryable: true, retryAfterMs: 60_000 }), { maxMs: 120_000 }, ac.signal);
  setTimeout(() => ac.abort(new Error("stop")), 20);
  await assert.rejects(p, /stop/);
});

test("Leaderboard refuses URLs that are not http(s)", () => {
  for (const bad of ["", "127.0.0.1:7820", "ftp://x"]) {
    assert.throws(() => new Leaderboard(bad), /want http/, `new Leaderboard(${JSON.stringify(bad)})`);
  }
});
