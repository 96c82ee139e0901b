// Two browsers play one match: a desktop page and a phone-sized page with
// touch controls. They matchmake into one room, each moves (keyboard on
// the desktop, the virtual stick on the phone) and sees the other move,
// each names the other (from the room's roster), the desktop player
// hunts the phone player until a hit lands, the
// scoreboard opens on Tab, the match ends with a victory, a defeat or a
// draw, and both find the result on the leaderboard page, ratings
// rounded and names told apart by an id suffix. No page may log a console
// error or fail a request. Run by cmd/skirmish/browser_test.go with
//   BASE_URL (the gameserver's page), TRANSPORT (webtransport|websocket),
//   ARTIFACTS (a directory for screenshots).
// Prints one JSON line with what the browsers measured.
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

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
const shot = (p, name) => p.screenshot({ path: join(artifacts, `${transport}-${name}.png`) });
const fail = async (pages, msg) => {
  for (const [i, p] of pages.entries()) await shot(p, `failure-${i}`).catch(() => {});
  throw new Error(msg);
};
const hook = (p) => p.evaluate(() => JSON.parse(JSON.stringify(window.__skirmish)));
const problems = [];

try {
  const names = ["alice-" + transport.slice(0, 2), "bob-" + transport.slice(0, 2)];
  const devices = [
    { viewport: { width: 1280, height: 860 } },
    { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  ];
  const pages = [];
  for (const [i, name] of names.entries()) {
    const ctx = await browser.newContext(devices[i]);
    const p = await ctx.newPage();
    p.on("console", (m) => {
      if (m.type() === "error") problems.push(`[${name}] console error: ${m.text()}`);
      if (m.type() === "error" || m.type() === "warning") console.error(`[${name}] ${m.text()}`);
    });
    p.on("pageerror", (e) => problems.push(`[${name}] page error: ${e.message}`));
    p.on("response", (r) => { if (r.status() >= 400) problems.push(`[${name}] ${r.status()} ${r.url()}`); });
    await p.goto(`${base}/?transport=${transport}&name=${name}&mode=duel`);
    await p.waitForSelector("body[data-screen=lobby]");
    pages.push(p);
  }
  const phone = pages[1];
  // The phone-sized lobby fits its width: nothing scrolls sideways.
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) await fail(pages, `the 390 px lobby is ${overflow} px too wide`);
  await shot(phone, "0-phone-lobby");
  if (!(await phone.evaluate(() => document.body.classList.contains("touch")))) await fail(pages, "the phone page shows no touch controls");
  const modes = await pages[0].$$eval("#mode option", (os) => os.map((o) => o.value));
  for (const m of ["duel", "ffa", "team", "team4"]) if (!modes.includes(m)) await fail(pages, `the lobby does not offer ${m}: ${modes}`);

  await Promise.all(pages.map((p) => p.click("#play")));
  await pages[0].waitForSelector("body[data-screen=searching], body[data-screen=game]", { timeout: 10000 });
  await shot(pages[0], "0-searching");
  for (const p of pages) {
    await p.waitForFunction(() => window.__skirmish.screen === "game" && window.__skirmish.others.length > 0 && window.__skirmish.me,
      null, { timeout: 20000 }).catch(async () => fail(pages, `never saw the other player: ${JSON.stringify(await hook(p))}`));
  }
  const hooks = await Promise.all(pages.map(hook));
  for (const h of hooks) {
    if (h.transport !== transport) await fail(pages, `connected over ${h.transport}, want ${transport}`);
  }
  if (hooks[0].matchId !== hooks[1].matchId) await fail(pages, "the two browsers are in different matches");
  // Each page names the other player, from the room's roster, under the
  // other player's circle (and so in the kill feed and the scoreboard).
  for (const [i, p] of pages.entries()) {
    const other = names[1 - i];
    await p.waitForFunction((other) => window.__skirmish.labels.some((l) => l.text === other) &&
      window.__skirmish.roster.some((r) => r.name === other && r.presence === "CONNECTED"), other, { timeout: 5000 })
      .catch(async () => fail(pages, `page ${i} does not show ${other}: ${JSON.stringify(await hook(p))}`));
  }

  // Each player in turn moves; the other must see it. The desktop holds a
  // key, the phone holds its left stick.
  const stick = async (p, dx, dy) => {
    const box = await p.locator("#stick-move").boundingBox();
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    await p.dispatchEvent("#stick-move", "pointerdown", { pointerId: 7, pointerType: "touch", clientX: cx, clientY: cy, bubbles: true });
    await p.dispatchEvent("#stick-move", "pointermove", { pointerId: 7, pointerType: "touch", clientX: cx + dx, clientY: cy + dy, bubbles: true });
    return () => p.dispatchEvent("#stick-move", "pointerup", { pointerId: 7, pointerType: "touch", clientX: cx + dx, clientY: cy + dy, bubbles: true });
  };
  const moves = [
    { mover: 0, start: async () => { const k = hooks[0].me.x < 800 ? "d" : "a"; await pages[0].keyboard.down(k); return () => pages[0].keyboard.up(k); } },
    { mover: 1, start: async () => stick(pages[1], 0, hooks[1].me.y < 450 ? 60 : -60) },
  ];
  for (const { mover, start } of moves) {
    const watcher = 1 - mover;
    const id = (await hook(pages[mover])).entityId;
    const before = (await hook(pages[watcher])).others.find((o) => o.id === id);
    const stop = await start();
    await pages[watcher].waitForFunction(({ id, x, y }) => {
      const o = window.__skirmish.others.find((o) => o.id === id);
      return o && Math.hypot(o.x - x, o.y - y) > 60;
    }, { id, x: before.x, y: before.y }, { timeout: 5000 }).catch(async () => fail(pages, `player ${mover} moved but player ${watcher} did not see it`));
    await stop();
  }
  await shot(pages[0], "1-playing");
  await shot(phone, "1-phone-playing");

  // The desktop player walks at the phone player, aiming and firing, until
  // a hit shows (a damage number and a flash); both pages count it. It
  // follows a shortest path round the walls (breadth-first over 10 px
  // cells) to a cell within 200 px of the target with a clear line of
  // fire: walking straight at the target runs into walls and, on a loaded
  // machine, used up the match before a hit landed.
  const canvas = await pages[0].locator("#canvas").boundingBox();
  const { field } = await hook(pages[0]);
  const route = planner(field);
  const deadline = Date.now() + 30000;
  const trail = [];
  let held = "";
  await pages[0].mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
  await pages[0].mouse.down();
  for (;;) {
    const h = await hook(pages[0]);
    if (h.hits > 0) break;
    if (h.me && (trail.length === 0 || Date.now() - trail[trail.length - 1].t > 1000)) trail.push({ t: Date.now(), x: Math.round(h.me.x), y: Math.round(h.me.y), key: held });
    if (Date.now() > deadline || h.screen !== "game") {
      await pages[0].mouse.up();
      await fail(pages, `no hit landed: ${JSON.stringify(h)}; the hunter's trail, a point a second: ${JSON.stringify(trail.map(({ x, y, key }) => [x, y, key]))}`);
    }
    const o = h.others[0];
    if (h.me && o) {
      await pages[0].mouse.move(canvas.x + (o.x / field.width) * canvas.width, canvas.y + (o.y / field.height) * canvas.height);
      const key = route(h.me, o);
      if (key !== held) { if (held) await pages[0].keyboard.up(held); if (key) await pages[0].keyboard.down(key); held = key; }
    }
    await pages[0].waitForTimeout(50);
  }
  await shot(pages[0], "2-hit");
  await pages[0].keyboard.down("Tab");
  await pages[0].waitForFunction(() => window.__skirmish.scoreboard, null, { timeout: 5000 })
    .catch(async () => fail(pages, `Tab did not open the scoreboard: ${JSON.stringify(await hook(pages[0]))}`));
  await shot(pages[0], "3-scoreboard");
  await pages[0].keyboard.up("Tab");
  if (held) await pages[0].keyboard.up(held);
  await pages[0].mouse.up();
  const measured = await Promise.all(pages.map(hook));
  for (const [i, h] of measured.entries()) {
    const bad = h.feed.filter((l) => !l.includes(names[0]) && !l.includes(names[1]));
    if (bad.length) await fail(pages, `page ${i}'s kill feed does not name the players: ${JSON.stringify(h.feed)}`);
  }

  for (const p of pages) {
    await p.waitForSelector("body[data-screen=results]", { timeout: 40000 }).catch(async () => fail(pages, "no results screen"));
  }
  await shot(pages[0], "4-results");
  await shot(phone, "4-phone-results");
  const titles = await Promise.all(pages.map((p) => p.textContent("#results-title")));
  const ok = (titles[0] === "Draw" && titles[1] === "Draw") || (titles.includes("Victory") && titles.includes("Defeat"));
  if (!ok) await fail(pages, `results titles ${JSON.stringify(titles)}: want Victory and Defeat, or Draw twice`);

  // The leaderboard page finds both players once the stats worker applied
  // the outcome; ratings are whole numbers, names carry an id suffix.
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
    const top = await p.textContent("#board-top");
    if (/\d\.\d/.test(top)) await fail(pages, `ratings are not rounded: ${top}`);
    if (!new RegExp(`${names[i]} #\\w{4}`).test(top)) await fail(pages, `no id suffix after ${names[i]}: ${top}`);
  }
  await shot(pages[0], "5-leaderboard");
  await shot(phone, "5-phone-leaderboard");

  // The leaderboard's /docs shows, for every operation, an example request
  // and, where it takes one, its body with an example.
  const lb = (await (await fetch(`${base}/config.json`)).json()).leaderboard_url;
  await pages[0].goto(`${lb}/docs`);
  await pages[0].waitForSelector("pre.example.curl");
  const docs = await pages[0].evaluate(() => ({
    ops: document.querySelectorAll(".op").length,
    curls: document.querySelectorAll("pre.example.curl").length,
    bodies: [...document.querySelectorAll("pre.example.request")].map((e) => e.textContent),
  }));
  if (docs.ops === 0 || docs.curls !== docs.ops) await fail(pages, `/docs: ${docs.curls} example requests for ${docs.ops} operations`);
  if (!docs.bodies.some((b) => b.includes('"name"'))) await fail(pages, `/docs shows no guest sign-in body: ${JSON.stringify(docs.bodies)}`);
  if (docs.bodies.length < 3) await fail(pages, `/docs shows ${docs.bodies.length} request bodies, want the guest sign-in and both admin ones`);
  await pages[0].evaluate(() => document.querySelectorAll("details").forEach((d) => { d.open = true; }));
  await shot(pages[0], "6-docs");
  if (problems.length) await fail(pages, `console errors or failed requests:\n${problems.join("\n")}`);
  console.log(JSON.stringify({
    transport, artifacts, titles,
    players: measured.map((h) => ({ bytesPerSecond: Math.round(h.bytesPerSecond), rttMs: h.net?.rttMs, snapshots: h.net?.snapshots, dropped: h.net?.dropped, hits: h.hits, labels: h.labels.map((l) => l.text), feed: h.feed })),
  }));
} finally {
  await browser.close();
}

// planner returns route(me, target): the key ("w", "a", "s", "d") that
// moves a player at me one step along a shortest path to where it can hit
// target, or "" once it is there. field is the page's hook.field.
function planner(field) {
  const cell = 10, cols = field.width / cell, rows = field.height / cell;
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const inWall = (x, y, r) => field.walls.some((w) => Math.hypot(x - clamp(x, w.x, w.x + w.w), y - clamp(y, w.y, w.y + w.h)) < r);
  // A cell is free when a player at its centre stays 8 px clear of walls
  // and edges, so moving between free cells never grazes a corner.
  const r = field.playerRadius + 8;
  const free = new Uint8Array(cols * rows);
  for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) {
    const x = (i + 0.5) * cell, y = (j + 0.5) * cell;
    free[j * cols + i] = x >= r && y >= r && x <= field.width - r && y <= field.height - r && !inWall(x, y, r) ? 1 : 0;
  }
  const clear = (a, b) => {
    const n = Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / 4);
    for (let k = 0; k <= n; k++) if (inWall(a.x + ((b.x - a.x) * k) / n, a.y + ((b.y - a.y) * k) / n, 6)) return false;
    return true;
  };
  const near = (p, t) => Math.hypot(t.x - p.x, t.y - p.y) < 200 && clear(p, t);
  const steps = [[1, 0, "d"], [-1, 0, "a"], [0, 1, "s"], [0, -1, "w"]];
  return (me, target) => {
    if (near(me, target)) return "";
    const at = (i, j) => j * cols + i;
    const si = clamp(Math.floor(me.x / cell), 0, cols - 1), sj = clamp(Math.floor(me.y / cell), 0, rows - 1);
    const first = new Array(cols * rows); // the key of the first step towards each reached cell
    first[at(si, sj)] = "";
    const queue = [[si, sj]];
    for (let q = 0; q < queue.length; q++) {
      const [i, j] = queue[q];
      if (q > 0 && near({ x: (i + 0.5) * cell, y: (j + 0.5) * cell }, target)) return first[at(i, j)];
      for (const [di, dj, key] of steps) {
        const ni = i + di, nj = j + dj;
        if (ni < 0 || nj < 0 || ni >= cols || nj >= rows || first[at(ni, nj)] !== undefined) continue;
        // A player pressed against a wall starts in a cell that is not
        // free: it may step through such cells until it reaches a free one.
        const x = (ni + 0.5) * cell, y = (nj + 0.5) * cell;
        if (!free[at(ni, nj)] && (free[at(i, j)] || inWall(x, y, field.playerRadius))) continue;
        first[at(ni, nj)] = q === 0 ? key : first[at(i, j)];
        queue.push([ni, nj]);
      }
    }
    return ""; // no free cell reaches the target: stand and fire
  };
}
