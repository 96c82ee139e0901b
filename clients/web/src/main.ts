// The Skirmish Arena browser client: sign in as a guest, search a match
// over Connect, play it over WebTransport (or WebSocket), see the result,
// browse the leaderboard.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { MatchmakerService, TicketState } from "./gen/skirmish/v1/matchmaker_pb";
import type { Assignment } from "./gen/skirmish/v1/matchmaker_pb";
import { ClientMessageSchema } from "./gen/skirmish/v1/realtime_pb";
import type { ServerMessage } from "./gen/skirmish/v1/realtime_pb";
import type { MatchOutcome } from "./gen/skirmish/v1/outcome_pb";
import { connectWebSocket, connectWebTransport } from "./transport";
import type { Link } from "./transport";
import { Netcode } from "./netcode";
import { draw, label } from "./render";
import type { View } from "./render";
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

interface Session { player_id: string; name: string; token: string }

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

// Retrying: a server that answers 429 (or is busy) says when to come
// back with Retry-After; without it, wait 1, 2, 4, 8 ... s. Every wait
// gets up to a quarter more at random, so that many players behind one
// address do not all come back at the same instant.
const MAX_TRIES = 8;
const sleep = (ms: number, abort?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  abort?.addEventListener("abort", () => { clearTimeout(t); reject(new Error("cancelled")); }, { once: true });
});

function backoffMs(attempt: number, retryAfter: string | null): number {
  const told = retryAfter === null ? NaN : Number(retryAfter);
  const base = Number.isFinite(told) && told >= 0 ? told * 1000 : Math.min(30_000, 1000 * 2 ** attempt);
  return base * (1 + Math.random() * 0.25);
}

async function waitToRetry(what: string, attempt: number, retryAfter: string | null, abort?: AbortSignal) {
  const ms = backoffMs(attempt, retryAfter);
  hook.retries++;
  $("status").textContent = `${what}: the server is busy, trying again in ${Math.ceil(ms / 1000)} s…`;
  await sleep(ms, abort);
  $("status").textContent = "";
}

async function signIn(name: string, abort?: AbortSignal): Promise<Session> {
  if (session && session.name === name) return session;
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(cfg.leaderboard_url + "/v1/auth/guest", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }), signal: abort,
    });
    if ((r.status === 429 || r.status === 503) && attempt < MAX_TRIES) {
      await waitToRetry("sign in", attempt, r.headers.get("Retry-After"), abort);
      continue;
    }
    if (!r.ok) throw new Error(`sign in: ${r.status} ${await r.text()}`);
    session = (await r.json()) as Session;
    hook.playerId = session.player_id;
    return session;
  }
}

// retryConnect calls fn again after a matchmaker's "slow down"
// (RESOURCE_EXHAUSTED, HTTP 429) or UNAVAILABLE, honouring a Retry-After
// in the error's metadata when there is one.
async function retryConnect<T>(what: string, fn: () => Promise<T>, abort: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const ce = ConnectError.from(e);
      if ((ce.code !== Code.ResourceExhausted && ce.code !== Code.Unavailable) || attempt >= MAX_TRIES || abort.aborted) throw e;
      await waitToRetry(what, attempt, ce.metadata.get("retry-after"), abort);
    }
  }
}

async function search(mode: string, s: Session, abort: AbortSignal): Promise<Assignment> {
  const transport = createConnectTransport({
    baseUrl: cfg.matchmaker_url,
    useBinaryFormat: true,
    interceptors: [(next) => async (req) => { req.header.set("authorization", "Bearer " + s.token); return next(req); }],
  });
  const mm = createClient(MatchmakerService, transport);
  const started = performance.now();
  $("estimate").textContent = "";
  const timer = setInterval(() => {
    $("wait").textContent = ((performance.now() - started) / 1000).toFixed(1) + " s";
  }, 100);
  try {
    const { ticket } = await retryConnect("matchmaking", () => mm.createTicket({ mode }, { signal: abort }), abort);
    if (!ticket) throw new Error("no ticket");
    for await (const res of mm.watchTicket({ ticketId: ticket.id }, { signal: abort })) {
      const t = res.ticket;
      if (!t) continue;
      $("estimate").textContent = estimateText(t.estimatedWait ? Number(t.estimatedWait.seconds) + t.estimatedWait.nanos / 1e9 : 0,
        (performance.now() - started) / 1000);
      if (t.state === TicketState.MATCHED && t.assignment) return t.assignment;
      if (t.state !== TicketState.SEARCHING) throw new Error(`ticket ${TicketState[t.state]} ${t.failureReason}`);
    }
    throw new Error("the matchmaker ended the watch before a match");
  } finally {
    clearInterval(timer);
  }
}

// estimateText says how long the search should take: the matchmaker's
// estimate when it has one, else nothing beyond the time already waited.
function estimateText(estimate: number, waited: number): string {
  if (estimate >= 1) return `· usually about ${Math.round(estimate)} s`;
  if (waited >= 10) return "· few players are searching for this mode right now";
  return "";
}

async function connect(a: Assignment, onMessage: (m: ServerMessage, n: number) => void, onClose: (r: string) => void): Promise<Link> {
  const want = params.get("transport") ?? "auto";
  const url = a.webtransportUrl || cfg.webtransport_url || "";
  const hashes = a.webtransportCertHashes.length > 0
    ? a.webtransportCertHashes.map((h) => Array.from(h))
    : (cfg.webtransport_cert_hashes ?? []);
  const h = { onMessage, onClose };
  if (want !== "websocket" && url && typeof WebTransport !== "undefined") {
    try {
      return await connectWebTransport(url, hashes, h);
    } catch (e) {
      if (want === "webtransport") throw e;
      console.warn("WebTransport unavailable, falling back to WebSocket:", e);
    }
  }
  return connectWebSocket(a.websocketUrl || cfg.websocket_url || "", h);
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

  let net: Netcode | undefined;
  let feedback: Feedback | undefined;
  let outcome: MatchOutcome | undefined;
  let finished!: (o: MatchOutcome | undefined) => void;
  const done = new Promise<MatchOutcome | undefined>((r) => { finished = r; });
  const interp = Number(params.get("interp") ?? cfg.interp_delay_ms ?? 100);
  let link!: Link;
  link = await connect(a, (m) => {
    switch (m.msg.case) {
      case "welcome": {
        const w = m.msg.value;
        hook.entityId = w.entityId;
        hook.matchId = w.matchId;
        hook.mode = w.mode;
        hook.team = w.team;
        feedback = new Feedback(w.entityId);
        net = new Netcode(link, w.entityId, 1000 / (w.tickRateHz || 30), interp);
        hook.net = net.stats;
        startInputs(w.tickRateHz || 30);
        break;
      }
      case "snapshot":
        net?.onSnapshot(m.msg.value, performance.now());
        break;
      case "pong":
        if (net) net.stats.rttMs = Date.now() - Number(m.msg.value.clientTimeUs) / 1000;
        break;
      case "matchEnd":
        outcome = m.msg.value.outcome;
        finished(outcome);
        break;
      case "error":
        fail(`server: ${m.msg.value.message}`);
        break;
    }
  }, (reason) => { if (!outcome) fail(`connection closed: ${reason}`); finished(outcome); });
  hook.transport = link.kind;
  $("transport").textContent = link.kind;
  link.send(create(ClientMessageSchema, { msg: { case: "join", value: { token: a.joinToken } } }));

  let inputTimer: ReturnType<typeof setInterval> | undefined;
  let seq = 0;
  let touchAim: number | undefined;
  function startInputs(rate: number) {
    inputTimer = setInterval(() => {
      if (!net) return;
      const k = (...names: string[]) => names.some((n) => keys.has(n));
      const mx = (k("d", "arrowright") ? 1 : 0) - (k("a", "arrowleft") ? 1 : 0);
      const my = (k("s", "arrowdown") ? 1 : 0) - (k("w", "arrowup") ? 1 : 0);
      const t = touch.read();
      const moveX = mx || t.moveX, moveY = my || t.moveY;
      const me = net.ownPosition() ?? { x: 800, y: 450 };
      if (t.aim !== undefined) touchAim = t.aim;
      const aim = touch.active && touchAim !== undefined ? touchAim : Math.atan2(mouse.y - me.y, mouse.x - me.x);
      seq++;
      net.input(seq, moveX, moveY, performance.now());
      link.send(create(ClientMessageSchema, { msg: { case: "inputs", value: { ackTick: net.ackTick(), inputs: [
        { seq, game: { case: "arena", value: { moveX, moveY, aim, fire: mouse.down || k(" ") || t.fire } } },
      ] } } }));
    }, 1000 / rate);
  }
  const pinger = setInterval(() => {
    link.sendUnreliable(create(ClientMessageSchema, { msg: { case: "ping", value: { clientTimeUs: BigInt(Date.now()) * 1000n } } }));
  }, 1000);
  let lastBytes = 0, lastAt = performance.now();
  const meter = setInterval(() => {
    const now = performance.now();
    hook.bytesPerSecond = ((link.bytesIn - lastBytes) * 1000) / (now - lastAt);
    lastBytes = link.bytesIn; lastAt = now;
    $("rate").textContent = `${(hook.bytesPerSecond / 1024).toFixed(1)} KiB/s`;
    $("rtt").textContent = net ? `${net.stats.rttMs.toFixed(0)} ms` : "";
  }, 1000);
  let raf = 0;
  const frame = () => {
    if (!net) {
      ctx.fillStyle = "#14161c";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = "#aaa";
      ctx.font = "bold 40px sans-serif";
      ctx.textAlign = "center";
      ctx.fillText("Match found: joining…", canvas.width / 2, canvas.height / 2);
    }
    if (net) {
      const now = performance.now();
      const ents = net.interpolated(now);
      const me = net.ownPosition();
      hook.me = me;
      hook.others = ents.filter((e) => e.kind === 1 && e.id !== net!.entityId).map((e) => ({ id: e.id, x: e.fields[0] / 10, y: e.fields[1] / 10 }));
      feedback!.update(net.newest, now);
      hook.hits = feedback!.totalHits;
      feedback!.expire(now);
      const view: View = {
        self: net.entityId, myTeam: hook.team, mode: hook.mode, me, tickMs: net.tickMs, newest: net.newest,
        feedback: feedback!, scoreboard: hook.scoreboard, now, myName: session?.name ?? "",
        ui: Math.min(3, Math.max(1, 700 / (canvas.clientWidth || 1600))),
      };
      hook.feed = feedback!.feed.map((e) => `${e.killer !== undefined ? label(view, ents, e.killer) : "?"} eliminated ${label(view, ents, e.victim)}`);
      draw(ctx, ents, view);
    }
    raf = requestAnimationFrame(frame);
  };
  raf = requestAnimationFrame(frame);
  const result = await done;
  clearInterval(inputTimer); clearInterval(pinger); clearInterval(meter); cancelAnimationFrame(raf);
  link.close();
  return result;
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

interface Entry { rank: number; player_id: string; name: string; score: number }

async function showBoard() {
  show("board");
  const board = $<HTMLSelectElement>("board-id").value;
  const get = async (path: string) => {
    const r = await fetch(cfg.leaderboard_url + path);
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return r.json();
  };
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
    const top = await get(`/v1/leaderboards/${board}/entries?limit=10`);
    fill("board-top", top.entries ?? []);
    $("board-me").textContent = "";
    fill("board-around", []);
    if (session) {
      const r = await fetch(`${cfg.leaderboard_url}/v1/leaderboards/${board}/players/${session.player_id}`);
      if (r.ok) {
        const me = (await r.json()) as Entry;
        $("board-me").textContent = `You (${me.name} #${me.player_id.slice(-4)}) are #${me.rank} with ${formatScore(me.score)}`;
        const around = await get(`/v1/leaderboards/${board}/entries?limit=${Math.min(me.rank + 5, 100)}`);
        fill("board-around", (around.entries ?? []).slice(Math.max(0, me.rank - 6)));
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
    fail(String(e));
  }
}

async function main() {
  cfg = (await (await fetch("config.json")).json()) as PageConfig;
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
