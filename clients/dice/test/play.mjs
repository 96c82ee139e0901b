// Two browsers play one match of Liar's Dice to the end through the page's
// own controls: a desktop page and a phone-sized page sign in, matchmake
// into one table, and on each turn bid (the page suggests the smallest
// raise on the face held most) or call liar on a bid above a third of the
// dice in play. Neither page may ever see the other's dice while bidding;
// both must receive the game's events numbered without a gap, see at least
// one reveal, and reach the end with placements 1 and 2; the match then
// shows in the leaderboard's history as a "dice" match. No page may log a
// console error or fail a request. Run by cmd/skirmish/dice_browser_test.go
// with BASE_URL (the gameserver), TRANSPORT (auto|webtransport|websocket)
// and ARTIFACTS (a directory for screenshots). Prints one JSON line.
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

const base = process.env.BASE_URL;
const transport = process.env.TRANSPORT || "auto";
const artifacts = process.env.ARTIFACTS || mkdtempSync(join(tmpdir(), "skirmish-dice-"));
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const shot = (p, name) => p.screenshot({ path: join(artifacts, `dice-${transport}-${name}.png`) });
const hook = (p) => p.evaluate(() => JSON.parse(JSON.stringify(window.__dice)));
const problems = [];
const fail = async (pages, msg) => {
  for (const [i, p] of pages.entries()) await shot(p, `failure-${i}`).catch(() => {});
  throw new Error(msg);
};

try {
  const names = ["dora-" + transport.slice(0, 2), "eli-" + transport.slice(0, 2)];
  const devices = [
    { viewport: { width: 1100, height: 800 } },
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
    await p.goto(`${base}/dice/?transport=${transport}&name=${name}`);
    await p.waitForSelector("body[data-screen=lobby]");
    pages.push(p);
  }
  const overflow = await pages[1].evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) await fail(pages, `the 390 px lobby is ${overflow} px too wide`);
  await shot(pages[1], "0-phone-lobby");

  await Promise.all(pages.map((p) => p.click("#play")));
  for (const p of pages) {
    await p.waitForFunction(() => window.__dice.screen === "game" && window.__dice.round > 0 && window.__dice.seat >= 0,
      null, { timeout: 40000 }).catch(async () => fail(pages, `never reached the table: ${JSON.stringify(await hook(p))}`));
  }
  const first = await Promise.all(pages.map(hook));
  if (first[0].matchId !== first[1].matchId) await fail(pages, "the two browsers are at different tables");
  if (first[0].seat === first[1].seat) await fail(pages, "both browsers hold the same seat");

  // Play: whoever's turn it is moves through the page's controls.
  const deadline = Date.now() + 150_000;
  let moves = 0, calls = 0, shotTaken = false;
  for (;;) {
    if (Date.now() > deadline) await fail(pages, `no end in time: ${JSON.stringify(await Promise.all(pages.map(hook)))}`);
    const hs = await Promise.all(pages.map(hook));
    if (hs.every((h) => h.screen === "over")) break;
    for (const [i, p] of pages.entries()) {
      const h = hs[i];
      if (h.error) await fail(pages, `page ${i} shows an error: ${h.error}`);
      if (h.screen !== "game" || !h.myTurn) continue;
      if (await p.$eval("#raise", (b) => b.disabled)) continue; // answered; waiting for the server
      if (!shotTaken && h.bid.quantity > 0) {
        await shot(p, `1-turn-${i}`);
        shotTaken = true;
      }
      if (h.bid.quantity > 0 && h.bid.quantity >= Math.max(1, Math.floor(h.inPlay / 3))) {
        await p.click("#call");
        calls++;
      } else {
        await p.click("#raise");
      }
      moves++;
    }
    await new Promise((r) => setTimeout(r, 60));
  }
  const hs = await Promise.all(pages.map(hook));
  await Promise.all(pages.map((p, i) => shot(p, `2-over-${i}`)));
  for (const [i, h] of hs.entries()) {
    if (h.othersDiceSeenWhileBidding !== 0) await fail(pages, `page ${i} saw another player's dice while bidding`);
    if (h.events === 0 || h.lastSeq !== h.events) await fail(pages, `page ${i}: ${h.events} events, last seq ${h.lastSeq}: a gap`);
    if (h.reveals === 0) await fail(pages, `page ${i} saw no reveal`);
    if (h.players !== 2) await fail(pages, `page ${i} shows ${h.players} players in the result`);
  }
  const placements = hs.map((h) => h.placement).sort();
  if (placements.join() !== "1,2") await fail(pages, `placements ${placements}, want 1 and 2`);
  const winner = hs.findIndex((h) => h.placement === 1);
  const result = await pages[winner].textContent("#result");
  if (!/win/i.test(result)) await fail(pages, `the winner's page says ${JSON.stringify(result)}`);

  // The outcome reaches the leaderboard's match history.
  const cfg = await (await fetch(`${base}/config.json`)).json();
  let match;
  for (const until = Date.now() + 30_000; Date.now() < until;) {
    const r = await fetch(`${cfg.leaderboard_url}/v1/matches/${hs[0].matchId}`);
    if (r.ok) { match = await r.json(); break; }
    await new Promise((res) => setTimeout(res, 250));
  }
  if (!match || match.mode !== "dice" || match.players.length !== 2) await fail(pages, `match history: ${JSON.stringify(match)}`);

  if (problems.length > 0) throw new Error(problems.join("\n"));
  console.log(JSON.stringify({ transport, matchId: hs[0].matchId, moves, calls, rounds: hs[0].round, events: hs.map((h) => h.events) }));
} finally {
  await browser.close();
}
