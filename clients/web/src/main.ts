// The Skirmish Arena browser client: sign in as a guest, search a match
// over Connect, play it over WebTransport (or WebSocket), see the result,
// browse the leaderboard.
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { MatchmakerService, TicketState } from "./gen/skirmish/v1/matchmaker_pb";
import type { Assignment } from "./gen/skirmish/v1/matchmaker_pb";
import { ClientMessageSchema } from "./gen/skirmish/v1/realtime_pb";
import type { ServerMessage } from "./gen/skirmish/v1/realtime_pb";
import type { MatchOutcome } from "./gen/skirmish/v1/outcome_pb";
import { connectWebSocket, connectWebTransport } from "./transport";
import type { Link } from "./transport";
import { Netcode } from "./netcode";
import { draw } from "./render";

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

async function signIn(name: string): Promise<Session> {
  if (session && session.name === name) return session;
  const r = await fetch(cfg.leaderboard_url + "/v1/auth/guest", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }),
  });
  if (!r.ok) throw new Error(`sign in: ${r.status} ${await r.text()}`);
  session = (await r.json()) as Session;
  hook.playerId = session.player_id;
  return session;
}

async function search(mode: string, s: Session, abort: AbortSignal): Promise<Assignment> {
  const transport = createConnectTransport({
    baseUrl: cfg.matchmaker_url,
    useBinaryFormat: true,
    interceptors: [(next) => async (req) => { req.header.set("authorization", "Bearer " + s.token); return next(req); }],
  });
  const mm = createClient(MatchmakerService, transport);
  const started = performance.now();
  const timer = setInterval(() => {
    $("wait").textContent = ((performance.now() - started) / 1000).toFixed(1) + " s";
  }, 100);
  try {
    const { ticket } = await mm.createTicket({ mode }, { signal: abort });
    if (!ticket) throw new Error("no ticket");
    for await (const res of mm.watchTicket({ ticketId: ticket.id }, { signal: abort })) {
      const t = res.ticket;
      if (!t) continue;
      if (t.estimatedWait) $("estimate").textContent = `estimated ${Number(t.estimatedWait.seconds)} s`;
      if (t.state === TicketState.MATCHED && t.assignment) return t.assignment;
      if (t.state !== TicketState.SEARCHING) throw new Error(`ticket ${TicketState[t.state]} ${t.failureReason}`);
    }
    throw new Error("the matchmaker ended the watch before a match");
  } finally {
    clearInterval(timer);
  }
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
addEventListener("keydown", (e) => keys.add(e.key.toLowerCase()));
addEventListener("keyup", (e) => keys.delete(e.key.toLowerCase()));

async function play(a: Assignment): Promise<MatchOutcome | undefined> {
  show("game");
  const canvas = $<HTMLCanvasElement>("canvas");
  const ctx = canvas.getContext("2d")!;
  canvas.onmousemove = (e) => {
    const r = canvas.getBoundingClientRect();
    mouse = { ...mouse, x: ((e.clientX - r.left) / r.width) * 1600, y: ((e.clientY - r.top) / r.height) * 900 };
  };
  canvas.onmousedown = () => { mouse.down = true; };
  canvas.onmouseup = () => { mouse.down = false; };

  let net: Netcode | undefined;
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
  function startInputs(rate: number) {
    inputTimer = setInterval(() => {
      if (!net) return;
      const k = (...names: string[]) => names.some((n) => keys.has(n));
      const mx = (k("d", "arrowright") ? 1 : 0) - (k("a", "arrowleft") ? 1 : 0);
      const my = (k("s", "arrowdown") ? 1 : 0) - (k("w", "arrowup") ? 1 : 0);
      const me = net.ownPosition() ?? { x: 800, y: 450 };
      const aim = Math.atan2(mouse.y - me.y, mouse.x - me.x);
      seq++;
      net.input(seq, mx, my, performance.now());
      link.send(create(ClientMessageSchema, { msg: { case: "inputs", value: { ackTick: net.ackTick(), inputs: [
        { seq, game: { case: "arena", value: { moveX: mx, moveY: my, aim, fire: mouse.down || k(" ") } } },
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
    if (net) {
      const now = performance.now();
      const ents = net.interpolated(now);
      const me = net.ownPosition();
      hook.me = me;
      hook.others = ents.filter((e) => e.kind === 1 && e.id !== net!.entityId).map((e) => ({ id: e.id, x: e.fields[0] / 10, y: e.fields[1] / 10 }));
      draw(ctx, ents, net.entityId, me, net.tickMs, net.newest);
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
  const tied = o.players.filter((p) => p.placement === 1).length > 1;
  $("results-title").textContent = !mine ? "Match over" : mine.placement !== 1 ? `Placed ${mine.placement}` : tied ? "Draw" : "Victory";
  for (const p of [...o.players].sort((x, y) => x.placement - y.placement)) {
    const tr = document.createElement("tr");
    for (const v of [p.placement, p.name, p.eliminations, p.deaths, p.damage]) {
      const td = document.createElement("td"); td.textContent = String(v); tr.append(td);
    }
    if (p.playerId === session?.player_id) tr.className = "me";
    body.append(tr);
  }
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
      for (const v of [e.rank, e.name, e.score]) { const td = document.createElement("td"); td.textContent = String(v); tr.append(td); }
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
        $("board-me").textContent = `You (${me.name}) are #${me.rank} with ${me.score}`;
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
    const s = await signIn(name);
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
  $("play").onclick = start;
  $("again").onclick = start;
  for (const b of document.querySelectorAll<HTMLButtonElement>("button.to-board")) b.onclick = showBoard;
  $("board-id").onchange = showBoard;
  $("board-refresh").onclick = showBoard;
  $("board-back").onclick = () => show("lobby");
  show("lobby");
}

main().catch((e) => fail(String(e)));
