// Two browsers play one match: they matchmake into one room, each moves
// and sees the other move, the match ends, and both find the result on the
// leaderboard page. Run by cmd/skirmish/browser_test.go with
//   BASE_URL (the gameserver's page), TRANSPORT (webtransport|websocket),
//   ARTIFACTS (a directory for screenshots).
// Prints one JSON line with what the browsers measured.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { mkdtempSync } from "node:fs";

const base = process.env.BASE_URL;
const transport = process.env.TRANSPORT || "webtransport";
const artifacts = process.env.ARTIFACTS || mkdtempSync(join(tmpdir(), "skirmish-browser-"));
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const fail = async (pages, msg) => {
  for (const [i, p] of pages.entries()) await p.screenshot({ path: join(artifacts, `${transport}-failure-${i}.png`) }).catch(() => {});
  throw new Error(msg);
};
const hook = (p) => p.evaluate(() => JSON.parse(JSON.stringify(window.__skirmish)));

try {
  const names = ["alice-" + transport.slice(0, 2), "bob-" + transport.slice(0, 2)];
  const pages = [];
  for (const name of names) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await ctx.newPage();
    p.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.error(`[${name}] ${m.text()}`); });
    await p.goto(`${base}/?transport=${transport}&name=${name}&mode=duel`);
    await p.waitForSelector("body[data-screen=lobby]");
    pages.push(p);
  }
  await Promise.all(pages.map((p) => p.click("#play")));
  await pages[0].waitForSelector("body[data-screen=searching], body[data-screen=game]", { timeout: 10000 });
  await pages[0].screenshot({ path: join(artifacts, `${transport}-0-searching.png`) });
  for (const p of pages) {
    await p.waitForFunction(() => window.__skirmish.screen === "game" && window.__skirmish.others.length > 0 && window.__skirmish.me,
      null, { timeout: 20000 }).catch(async () => fail(pages, `never saw the other player: ${JSON.stringify(await hook(p))}`));
  }
  const hooks = await Promise.all(pages.map(hook));
  for (const h of hooks) {
    if (h.transport !== transport) await fail(pages, `connected over ${h.transport}, want ${transport}`);
  }
  if (hooks[0].matchId !== hooks[1].matchId) await fail(pages, "the two browsers are in different matches");

  // Each player in turn holds a key; the other must see it move.
  const moves = [{ mover: 0, key: hooks[0].me.x < 800 ? "d" : "a" }, { mover: 1, key: hooks[1].me.y < 450 ? "s" : "w" }];
  for (const { mover, key } of moves) {
    const watcher = 1 - mover;
    const id = (await hook(pages[mover])).entityId;
    const before = (await hook(pages[watcher])).others.find((o) => o.id === id);
    await pages[mover].keyboard.down(key);
    await pages[watcher].waitForFunction(({ id, x, y }) => {
      const o = window.__skirmish.others.find((o) => o.id === id);
      return o && Math.hypot(o.x - x, o.y - y) > 60;
    }, { id, x: before.x, y: before.y }, { timeout: 5000 }).catch(async () => fail(pages, `player ${mover} moved with ${key} but player ${watcher} did not see it`));
    await pages[mover].keyboard.up(key);
  }
  await pages[0].screenshot({ path: join(artifacts, `${transport}-1-playing.png`) });
  const measured = await Promise.all(pages.map(hook));

  for (const p of pages) {
    await p.waitForSelector("body[data-screen=results]", { timeout: 30000 }).catch(async () => fail(pages, "no results screen"));
  }
  await pages[0].screenshot({ path: join(artifacts, `${transport}-2-results.png`) });

  // The leaderboard page finds both players once the stats worker applied
  // the outcome.
  for (const [i, p] of pages.entries()) {
    await p.click("section[data-screen=results] button.to-board");
    await p.selectOption("#board-id", "rating");
    const deadline = Date.now() + 20000;
    for (;;) {
      const text = await p.textContent("#board-me");
      const top = await p.textContent("#board-top");
      if (text.includes("#") && top.includes(names[i])) break;
      if (Date.now() > deadline) await fail(pages, `leaderboard never showed ${names[i]}: ${text}`);
      await p.waitForTimeout(500);
      await p.click("#board-refresh");
    }
  }
  await pages[0].screenshot({ path: join(artifacts, `${transport}-3-leaderboard.png`) });
  console.log(JSON.stringify({
    transport, artifacts,
    players: measured.map((h) => ({ bytesPerSecond: Math.round(h.bytesPerSecond), rttMs: h.net?.rttMs, snapshots: h.net?.snapshots, late: h.net?.late, dropped: h.net?.dropped })),
  }));
} finally {
  await browser.close();
}
