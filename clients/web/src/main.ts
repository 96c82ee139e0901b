// The Skirmish Arena browser client: sign in as a guest, search a match
// over Connect, play it over WebTransport (or WebSocket), see the result,
// browse the leaderboard.
import { Game, HttpError, Leaderboard, Matchmaker, Presence } from "@skirmish/sdk";
import type { Assignment, Backoff, Entry, MatchOutcome, RosterEntry, Session } from "@skirmish/sdk";
import { Netcode } from "./netcode";
import { draw, label } from "./render";
import type { PlayerName, View } from "./render";
import * as A from "./arena";
import { Feedback } from "./feedback";
import { TouchControls } from "./touch";

interface PageConfig {
  matchmaker_url: string;
  leaderboard_url: string;
  websocket_url?: string;
  webtransport_url?: string;
  webtransport_cert_hashes?: number[][];
  interp_delay_ms?: number;
}

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// State the browser tests read.
const hook = {
  screen: "lobby",
  transport: "",
  playerId: "",
  entityId: 0,
  matchId: "",
  me: undefined as { x: number; y: number } | undefined,
  others: [] as { id: number; x: number; y: number }[],
  net: undefined as unknown,
  bytesPerSecond: 0,
  error: "",
  mode: "",
  team: 0,
  retries: 0, // sign-in and matchmaking calls retried after a 429 or busy answer
  rejoins: 0, // connections joined again after a drop
  roster: [] as { entityId: number; playerId: string; name: string; team: number; presence: string }[],
  labels: [] as { id: number; text: string }[], // what the last frame wrote under each player
  feed: [] as string[], // the kill feed's lines
  hits: 0, // hits seen this match (any player losing health)
  scoreboard: false,
  // The field, for a test that plans a path round the walls.
  field: { width: A.WIDTH, height: A.HEIGHT, playerRadius: A.PLAYER_RADIUS, walls: A.WALLS },
};
(window as unknown as { __skirmish: typeof hook }).__skirmish = hook;

function show(screen: string) {
  hook.screen = screen;
  document.body.dataset.screen = screen;
  for (const el of document.querySelectorAll<HTMLElement>("section[data-screen]")) el.hidden = el.dataset.screen !== screen;
}

function fail(msg: string) {
  hook.error = msg;
  $("error").textContent = msg;
}

let cfg: PageConfig;
let session: Session | undefined;
let leaderboard: Leaderboard;

// Retrying (the SDK's): a server that answers 429 or is busy says when to
// come back with Retry-After; without it, exponential backoff with
// jitter, so that many players behind one address do not all come back
// at the same instant. The player sees the wait.
function backoff(what: string): Backoff {
  return {
    attempts: 9,
    onRetry: (_attempt, ms) => {
      hook.retries++;
      $("status").textContent = `${what}: the server is busy, trying again in ${Math.ceil(ms / 1000)} s…`;
    },
  };
}

async function signIn(name: string, abort?: AbortSignal): Promise<Session> {
  if (session && session.name === name) return session;
  try {
    session = await leaderboard.signInGuest(name, abort);
  } finally {
    $("status").textContent = "";
  }
  hook.playerId = session.player_id;
  return session;
}

async function search(mode: string, s: Session, abort: AbortSignal): Promise<Assignment> {
  const mm = new Matchmaker({ baseUrl: cfg.matchmaker_url, session: s, backoff: backoff("matchmaking") });
  const started = performance.now();
  $("estimate").textContent = "";
  const timer = setInterval(() => {
    $("wait").textContent = ((performance.now() - started) / 1000).toFixed(1) + " s";
  }, 100);
  try {
    return await mm.findMatch(mode, {
      signal: abort,
      onUpdate: (t) => {
        $("status").textContent = "";
        $("estimate").textContent = estimateText(t.estimatedWait ? Number(t.estimatedWait.seconds) + t.estimatedWait.nanos / 1e9 : 0,
          (performance.now() - started) / 1000);
      },
    });
  } finally {
    clearInterval(timer);
    $("status").textContent = "";
  }
}

// estimateText says how long the search should take: the matchmaker's
// estimate when it has one, else nothing beyond the time already waited.
function estimateText(estimate: number, waited: number): string {
  if (estimate >= 1) return `· usually about ${Math.round(estimate)} s`;
  if (waited >= 10) return "· few players are searching for this mode right now";
  return "";
}

// names maps the other players' entities to how they appear: the roster's
// display name, with the end of the player id when two share a name.
function names(roster: RosterEntry[], self: number): Map<number, PlayerName> {
  const count = new Map<string, number>();
  for (const p of roster) count.set(p.name, (count.get(p.name) ?? 0) + 1);
  const out = new Map<number, PlayerName>();
  for (const p of roster) {
    if (p.entityId === 0 || p.entityId === self) continue;
    const name = (p.name || "player") + ((count.get(p.name) ?? 0) > 1 ? ` #${p.playerId.slice(-4)}` : "");
    const away = p.presence === Presence.LEFT ? "left" : p.presence === Presence.DROPPED ? "away" : "";
    out.set(p.entityId, { name, away });
  }
  return out;
}

// Input state from the keyboard and mouse.
const keys = new Set<string>();
let mouse = { x: 800, y: 450, down: false };
addEventListener("keydown", (e) => {
  if (e.key === "Tab" && hook.screen === "game") { e.preventDefault(); hook.scoreboard = true; }
  keys.add(e.key.toLowerCase());
});
addEventListener("keyup", (e) => {
  if (e.key === "Tab") hook.scoreboard = false;
  keys.delete(e.key.toLowerCase());
});
let touch: TouchControls;

async function play(a: Assignment): Promise<MatchOutcome | undefined> {
  show("game");
  const canvas = $<HTMLCanvasElement>("canvas");
  const ctx = canvas.getContext("2d")!;
  canvas.onmousemove = (e) => {
    const r = canvas.getBoundingClientRect();
    mouse = { ...mouse, x: ((e.clientX - r.left) / r.width) * 1600, y: ((e.clientY - r.top) / r.height) * 900 };
  };
  canvas.onmousedown = () => { mouse.down = true; };
  // On a touch screen, a tap on the score bar shows or hides the scoreboard.
  canvas.onpointerdown = (e) => {
    if (e.pointerType !== "touch") return;
    const r = canvas.getBoundingClientRect();
    if (e.clientY - r.top < r.height * 0.2) hook.scoreboard = !hook.scoreboard;
  };
  canvas.onmouseup = () => { mouse.down = false; };

  // The SDK connects (WebTransport, else WebSocket, or as ?transport=
  // says), joins, rebuilds worlds from delta snapshots and acknowledges
  // them; this page predicts, interpolates and draws.
  ctx.fillStyle = "#14161c";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#aaa";
  ctx.font = "bold 40px sans-serif";
  ctx.textAlign = "center";
  ctx.fillText("Match found: joining…", canvas.width / 2, canvas.height / 2);
  let net: Netcode | undefined;
  let playerNames = new Map<number, PlayerName>();
  const want = params.get("transport");
  const certHashes = a.webtransportCertHashes.length > 0 ? [] : (cfg.webtransport_cert_hashes ?? []).map((h) => new Uint8Array(h));
  const showRoster = (roster: RosterEntry[], self: number) => {
    playerNames = names(roster, self);
    hook.roster = roster.map((p) => ({ entityId: p.entityId, playerId: p.playerId, name: p.name, team: p.team, presence: Presence[p.presence] }));
  };
  let game = await Game.join(a, {
    transport: want === "websocket" || want === "webtransport" ? want : "auto",
    websocketUrl: a.websocketUrl ? undefined : cfg.websocket_url,
    webtransportUrl: a.webtransportUrl ? undefined : cfg.webtransport_url,
    certHashes,
    onFallback: (e) => console.warn("WebTransport unavailable, falling back to WebSocket:", e),
    onSnapshot: (w) => net?.onWorld(w, performance.now()),
    onRoster: (r) => showRoster(r, hook.entityId),
    // A rejoin after the join token expired (long matches) gets a new one
    // for the same seat from the matchmaker, with the session.
    refresh: (old) => new Matchmaker({ baseUrl: cfg.matchmaker_url, session: session!, backoff: backoff("matchmaking") }).refreshJoinToken(old),
    onMessage: (m) => {
      if (m.msg.case === "pong" && net) net.stats.rttMs = Date.now() - Number(m.msg.value.clientTimeUs) / 1000;
    },
  });
  const w = game.welcome;
  hook.entityId = w.entityId;
  hook.matchId = w.matchId;
  hook.mode = w.mode;
  hook.team = w.team;
  showRoster(game.roster, w.entityId);
  const feedback = new Feedback(w.entityId);
  const rate = w.tickRateHz || 30;
  net = new Netcode(w.entityId, 1000 / rate, Number(params.get("interp") ?? cfg.interp_delay_ms ?? 100));
  hook.net = net.stats;
  hook.transport = game.transport;
  $("transport").textContent = game.transport;

  let touchAim: number | undefined;
  const inputTimer = setInterval(() => {
    if (!net) return;
    const k = (...names: string[]) => names.some((n) => keys.has(n));
    const mx = (k("d", "arrowright") ? 1 : 0) - (k("a", "arrowleft") ? 1 : 0);
    const my = (k("s", "arrowdown") ? 1 : 0) - (k("w", "arrowup") ? 1 : 0);
    const t = touch.read();
    const moveX = mx || t.moveX, moveY = my || t.moveY;
    const me = net.ownPosition() ?? { x: 800, y: 450 };
    if (t.aim !== undefined) touchAim = t.aim;
    const aim = touch.active && touchAim !== undefined ? touchAim : Math.atan2(mouse.y - me.y, mouse.x - me.x);
    try {
      net.input(game.sendArena(moveX, moveY, aim, mouse.down || k(" ") || t.fire), moveX, moveY);
    } catch { /* between connections */ }
  }, 1000 / rate);
  const pinger = setInterval(() => { try { game.ping(); } catch { /* between connections */ } }, 1000);
  let lastBytes = 0, lastAt = performance.now();
  const meter = setInterval(() => {
    const now = performance.now();
    hook.bytesPerSecond = (Math.max(0, game.bytesIn - lastBytes) * 1000) / (now - lastAt);
    lastBytes = game.bytesIn; lastAt = now;
    net!.stats.snapshots = game.snapshots;
    net!.stats.dropped = game.dropped;
    $("rate").textContent = `${(hook.bytesPerSecond / 1024).toFixed(1)} KiB/s`;
    $("rtt").textContent = `${net!.stats.rttMs.toFixed(0)} ms`;
  }, 1000);
  let raf = 0;
  const frame = () => {
    const now = performance.now();
    const ents = net!.interpolated(now);
    const me = net!.ownPosition();
    hook.me = me;
    hook.others = ents.filter((e) => e.kind === A.KIND_PLAYER && e.id !== net!.entityId).map((e) => ({ id: e.id, x: e.fields[0] / 10, y: e.fields[1] / 10 }));
    feedback.update(net!.newest, now);
    hook.hits = feedback.totalHits;
    feedback.expire(now);
    const view: View = {
      self: net!.entityId, myTeam: hook.team, mode: hook.mode, me, tickMs: net!.tickMs, newest: net!.newest,
      feedback, scoreboard: hook.scoreboard, now, myName: session?.name ?? "", names: playerNames,
      ui: Math.min(3, Math.max(1, 700 / (canvas.clientWidth || 1600))),
    };
    hook.labels = ents.filter((e) => e.kind === A.KIND_PLAYER && e.id !== net!.entityId).map((e) => ({ id: e.id, text: label(view, ents, e.id) }));
    hook.feed = feedback.feed.map((e) => `${e.killer !== undefined ? label(view, ents, e.killer) : "?"} eliminated ${label(view, ents, e.victim)}`);
    draw(ctx, ents, view);
    raf = requestAnimationFrame(frame);
  };
  raf = requestAnimationFrame(frame);
  try {
    for (;;) {
      const end = await game.ended;
      if (end.outcome) return end.outcome;
      if (!end.dropped) {
        if (end.error) fail(String(end.error.message));
        return undefined;
      }
      // The connection dropped: the server keeps the seat for a while, so
      // join again with the same token, or a refreshed one once it has
      // expired (the SDK retries with backoff).
      $("status").textContent = "connection lost: rejoining…";
      try {
        game = await game.rejoin();
      } catch (e) {
        fail(`connection lost: ${String(e)}`);
        return undefined;
      } finally {
        $("status").textContent = "";
      }
      hook.rejoins++;
      net!.resume();
      showRoster(game.roster, hook.entityId);
      hook.transport = game.transport;
      $("transport").textContent = game.transport;
    }
  } finally {
    clearInterval(inputTimer); clearInterval(pinger); clearInterval(meter); cancelAnimationFrame(raf);
    game.close();
  }
}

function showResults(o: MatchOutcome | undefined) {
  show("results");
  const body = $("results-body");
  body.replaceChildren();
  if (!o) { $("results-title").textContent = "The match ended without a result"; return; }
  const mine = o.players.find((p) => p.playerId === session?.player_id);
  $("results-title").textContent = resultTitle(o, mine?.playerId);
  document.body.dataset.result = !mine ? "" : mine.placement === 1 ? "win" : "loss";
  for (const p of [...o.players].sort((x, y) => x.placement - y.placement || y.eliminations - x.eliminations)) {
    const tr = document.createElement("tr");
    tr.append(cell(String(p.placement)), nameCell(p.name, p.playerId), cell(String(p.team)),
      cell(String(p.eliminations)), cell(String(p.deaths)), cell(String(Math.round(p.damage))));
    if (p.playerId === session?.player_id) tr.className = "me";
    body.append(tr);
  }
}

// resultTitle is the result from the player's side: Victory or Defeat (a
// Draw when several share first place); in a free for all with more than
// two players, the place.
function resultTitle(o: MatchOutcome, me: string | undefined): string {
  const mine = o.players.find((p) => p.playerId === me);
  if (!mine) return "Match over";
  const first = o.players.filter((p) => p.placement === 1);
  const sidesFirst = new Set(first.map((p) => p.team)).size;
  if (mine.placement === 1) return sidesFirst > 1 ? "Draw" : "Victory";
  const sides = new Set(o.players.map((p) => p.team)).size;
  if (o.mode === "ffa" && sides > 2) return `Defeat · ${ordinal(mine.placement)} of ${sides}`;
  return "Defeat";
}

const ordinal = (n: number) => n + (n % 10 === 1 && n % 100 !== 11 ? "st" : n % 10 === 2 && n % 100 !== 12 ? "nd" : n % 10 === 3 && n % 100 !== 13 ? "rd" : "th");

function cell(text: string): HTMLTableCellElement {
  const td = document.createElement("td"); td.textContent = text; return td;
}

// nameCell shows a player's name with the end of their id, so that two
// players of the same name (two "bot-3") can be told apart.
function nameCell(name: string, playerId: string): HTMLTableCellElement {
  const td = cell(name);
  const id = document.createElement("small");
  id.className = "pid";
  id.textContent = "#" + playerId.slice(-4);
  id.title = playerId;
  td.append(" ", id);
  return td;
}

// formatScore rounds a board score for display: ratings are kept with
// fractions, counts are whole.
function formatScore(score: number): string {
  return Math.round(score).toLocaleString("en-US");
}

async function showBoard() {
  show("board");
  const board = $<HTMLSelectElement>("board-id").value;
  const fill = (id: string, entries: Entry[]) => {
    const tb = $(id);
    tb.replaceChildren();
    for (const e of entries) {
      const tr = document.createElement("tr");
      tr.append(cell(String(e.rank)), nameCell(e.name, e.player_id), cell(formatScore(e.score)));
      if (e.player_id === session?.player_id) tr.className = "me";
      tb.append(tr);
    }
  };
  try {
    const top = await leaderboard.top(board, 10);
    fill("board-top", top.entries ?? []);
    $("board-me").textContent = "";
    fill("board-around", []);
    if (session) {
      const me = await leaderboard.rank(board, session.player_id).catch((e) => {
        if (e instanceof HttpError && e.notFound) return undefined;
        throw e;
      });
      if (me) {
        $("board-me").textContent = `You (${me.name} #${me.player_id.slice(-4)}) are #${me.rank} with ${formatScore(me.score)}`;
        fill("board-around", await leaderboard.around(board, session.player_id, 5));
      } else {
        $("board-me").textContent = "You are not on this board yet";
      }
    }
  } catch (e) {
    fail(String(e));
  }
}

async function start() {
  const name = $<HTMLInputElement>("name").value.trim() || "player";
  const mode = $<HTMLSelectElement>("mode").value;
  fail("");
  const abort = new AbortController();
  $("cancel").onclick = () => abort.abort();
  try {
    $("play").setAttribute("disabled", "");
    const s = await signIn(name, abort.signal).finally(() => $("play").removeAttribute("disabled"));
    show("searching");
    const a = await search(mode, s, abort.signal);
    const o = await play(a);
    showResults(o);
  } catch (e) {
    show("lobby");
    fail(abort.signal.aborted ? "" : String(e)); // Cancel: the SDK cancelled the ticket
  }
}

async function main() {
  cfg = (await (await fetch("config.json")).json()) as PageConfig;
  leaderboard = new Leaderboard(cfg.leaderboard_url, { backoff: backoff("sign in") });
  if (params.get("name")) $<HTMLInputElement>("name").value = params.get("name")!;
  if (params.get("mode")) $<HTMLSelectElement>("mode").value = params.get("mode")!;
  touch = new TouchControls(document.body);
  $("play").onclick = start;
  $("again").onclick = start;
  for (const b of document.querySelectorAll<HTMLButtonElement>("button.to-board")) b.onclick = showBoard;
  $("board-id").onchange = showBoard;
  $("board-refresh").onclick = showBoard;
  $("board-back").onclick = () => show("lobby");
  show("lobby");
}

main().catch((e) => fail(String(e)));
