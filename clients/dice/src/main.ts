// The Liar's Dice page: guest sign-in, matchmaking for mode "dice", then
// the table, all through the TypeScript SDK (@skirmish/sdk). The world
// comes from per-viewer snapshots (the server shows each player only their
// own dice while bidding, and every die during a reveal); what happened
// comes from the game's events (bids, reveals, players out); moves are
// custom inputs of 3 bytes, applied in order by the server. The layout of
// entities, events and moves is gameserver/liarsdice's.
import { Game, Leaderboard, Matchmaker, entity, eventJSON, field } from "@skirmish/sdk";
import type { GameEvent, MatchOutcome, ServerError, Session, World } from "@skirmish/sdk";

interface PageConfig {
  matchmaker_url: string;
  leaderboard_url: string;
  webtransport_cert_hashes?: number[][];
}

interface SeatInfo { seat: number; player_id: string; name: string }
interface SeatsEvent { seats: SeatInfo[]; you: number }
interface RoundEvent { round: number; starter: number; dice: number[] }
interface BidEvent { seat: number; quantity: number; face: number; auto?: boolean }
interface RevealEvent { caller: number; bidder: number; quantity: number; face: number; count: number; loser: number; dice: number[][]; auto?: boolean }
interface OutEvent { seat: number; placement: number; left?: boolean }
interface RefusedEvent { reason: string }

// Entities (gameserver/liarsdice).
const TABLE_ID = 1;
const KIND_PLAYER = 2, KIND_DIE = 3;
const T_ROUND = 0, T_PHASE = 1, T_TURN = 2, T_QTY = 3, T_FACE = 4, T_BIDDER = 5, T_DEADLINE = 6, T_IN_PLAY = 7;
const P_SEAT = 0, P_DICE = 1, P_OUT = 2;
const BIDDING = 1;
const OP_BID = 1, OP_CALL = 2;
const FACES = ["", "⚀", "⚁", "⚂", "⚃", "⚄", "⚅"];

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let cfg: PageConfig;
let session: Session | undefined;
let game: Game | undefined;
let seats: SeatInfo[] = [];
let mySeat = -1;
let tickRate = 10;
// sent is the table state (round, bid) the player answered, so a move goes
// once per turn; a refusal clears it.
let sent = "";
let lastTurnKey = "";

/** What the browser test reads: the page's state as data. */
const hook = {
  screen: "loading",
  matchId: "",
  seat: -1,
  round: 0,
  phase: 0,
  turn: -1,
  myTurn: false,
  bid: { quantity: 0, face: 0, bidder: -1 },
  inPlay: 0,
  myDice: [] as number[],
  othersDiceSeenWhileBidding: 0,
  events: 0,
  eventTypes: {} as Record<string, number>,
  lastSeq: 0,
  refused: 0,
  reveals: 0,
  placement: 0,
  players: 0,
  error: "",
};
(window as unknown as { __dice: typeof hook }).__dice = hook;

function show(screen: string) {
  hook.screen = screen;
  document.body.dataset.screen = screen;
}

function fail(msg: string) {
  hook.error = msg;
  $("error").textContent = msg;
}

const nameOf = (seat: number) => seats[seat]?.name || `Seat ${seat + 1}`;
const dice = (faces: number[]) => faces.map((f) => FACES[f] ?? "?").join("");

function log(text: string, cls = "") {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  const ol = $("log");
  ol.prepend(li);
  while (ol.children.length > 60) ol.lastChild?.remove();
}

function onEvent(e: GameEvent) {
  hook.events++;
  hook.lastSeq = Number(e.seq);
  hook.eventTypes[e.type] = (hook.eventTypes[e.type] ?? 0) + 1;
  switch (e.type) {
    case "seats": {
      const s = eventJSON<SeatsEvent>(e);
      seats = s.seats;
      break;
    }
    case "round": {
      const r = eventJSON<RoundEvent>(e);
      log(`Round ${r.round}: ${nameOf(r.starter)} starts. Dice on the table: ${r.dice.reduce((a, b) => a + b, 0)}.`);
      break;
    }
    case "bid": {
      const b = eventJSON<BidEvent>(e);
      log(`${nameOf(b.seat)} bids ${b.quantity} × ${FACES[b.face]}${b.auto ? " (out of time)" : ""}`, b.seat === mySeat ? "mine" : "");
      break;
    }
    case "reveal": {
      const r = eventJSON<RevealEvent>(e);
      hook.reveals++;
      const lost = r.loser === r.bidder ? "the bid was a lie" : "the bid stands";
      log(`${nameOf(r.caller)} calls liar on ${nameOf(r.bidder)}'s ${r.quantity} × ${FACES[r.face]}: there are ${r.count}, ${lost}. ` +
        `${r.loser === mySeat ? "You lose" : nameOf(r.loser) + " loses"} a die.`, "reveal");
      break;
    }
    case "out": {
      const o = eventJSON<OutEvent>(e);
      log(`${o.seat === mySeat ? "You are" : nameOf(o.seat) + " is"} out${o.left ? " (left)" : ""}: place ${o.placement}.`);
      break;
    }
    case "refused": {
      hook.refused++;
      sent = "";
      log(`Not allowed: ${eventJSON<RefusedEvent>(e).reason}`, "mine");
      break;
    }
  }
}

function onRefused(err: ServerError) {
  hook.refused++;
  sent = "";
  log(`The server refused the move: ${err.message}`, "mine");
}

function render(w: World) {
  const t = entity(w, TABLE_ID);
  const round = field(t, T_ROUND), phase = field(t, T_PHASE), turn = field(t, T_TURN);
  const qty = field(t, T_QTY), face = field(t, T_FACE), bidder = field(t, T_BIDDER);
  const inPlay = field(t, T_IN_PLAY);
  const secs = Math.max(0, Math.ceil((field(t, T_DEADLINE) - w.tick) / tickRate));
  const shown = new Map<number, number[]>();
  for (const e of w.entities) {
    if (e.kind !== KIND_DIE) continue;
    const seat = Math.floor((e.id - 100) / 8);
    shown.set(seat, [...(shown.get(seat) ?? []), e.fields[0]]);
  }
  const myTurn = phase === BIDDING && turn === mySeat;
  Object.assign(hook, { round, phase, turn, myTurn, bid: { quantity: qty, face, bidder }, inPlay, myDice: shown.get(mySeat) ?? [] });
  if (phase === BIDDING) {
    for (const seat of shown.keys()) {
      if (seat === mySeat) continue;
      hook.othersDiceSeenWhileBidding++;
      hook.error ||= `saw the dice of seat ${seat} while bidding: tick ${w.tick}, my seat ${mySeat}, round ${round}`;
    }
  }

  const ol = $("seats");
  const items: HTMLLIElement[] = [];
  for (const e of w.entities) {
    if (e.kind !== KIND_PLAYER) continue;
    const seat = e.fields[P_SEAT], n = e.fields[P_DICE], out = e.fields[P_OUT] === 1;
    const li = document.createElement("li");
    li.className = [seat === mySeat ? "me" : "", out ? "out" : "", phase === BIDDING && seat === turn ? "turn" : ""].join(" ").trim();
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = nameOf(seat);
    const cup = document.createElement("div");
    cup.className = "cup";
    cup.textContent = out ? "out" : `${n} ${n === 1 ? "die" : "dice"}${bidder === seat && qty ? ` · bid ${qty} × ${FACES[face]}` : ""}`;
    li.append(name, cup);
    const faces = shown.get(seat);
    if (faces && phase !== BIDDING) {
      const d = document.createElement("div");
      d.className = "dice";
      d.textContent = dice(faces);
      li.append(d);
    }
    items.push(li);
  }
  ol.replaceChildren(...items);
  $("mine").textContent = dice(shown.get(mySeat) ?? []);

  let status: string;
  if (phase !== BIDDING) status = "Dice on the table…";
  else if (myTurn) status = `<span class="you">Your turn</span> · ${secs} s · ${qty ? `beat ${qty} × ${FACES[face]} or call liar` : "open the bidding"}`;
  else status = `${escapeHTML(nameOf(turn))} is thinking… ${secs} s${qty ? ` · bid: ${qty} × ${FACES[face]}` : ""}`;
  $("status").innerHTML = status + ` <small>· round ${round} · ${inPlay} dice in play</small>`;

  const key = `${round}/${qty}/${face}`;
  const canMove = myTurn && sent !== key;
  $<HTMLButtonElement>("raise").disabled = !canMove;
  $<HTMLButtonElement>("call").disabled = !canMove || qty === 0;
  const qtyInput = $<HTMLInputElement>("qty");
  qtyInput.max = String(inPlay);
  if (myTurn && lastTurnKey !== key) {
    // A new turn: suggest the smallest raise on the face held most.
    lastTurnKey = key;
    const mine = shown.get(mySeat) ?? [];
    const best = [1, 2, 3, 4, 5, 6].reduce((b, f) => (count(mine, f) >= count(mine, b) ? f : b), 1);
    $<HTMLSelectElement>("face").value = String(best);
    qtyInput.value = String(best > face ? Math.max(qty, 1) : qty + 1);
  }
}

const count = (faces: number[], f: number) => faces.filter((x) => x === f).length;
const escapeHTML = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function move(payload: number[]) {
  const w = game?.world;
  if (!game || !w) return;
  const t = entity(w, TABLE_ID);
  sent = `${field(t, T_ROUND)}/${field(t, T_QTY)}/${field(t, T_FACE)}`;
  game.sendCustom(new Uint8Array(payload));
  render(w);
}

function showOver(o: MatchOutcome) {
  const players = [...o.players].sort((a, b) => a.placement - b.placement);
  const me = players.find((p) => p.playerId === session?.player_id);
  hook.placement = me?.placement ?? 0;
  hook.players = players.length;
  $("result").textContent = me?.placement === 1 ? "You win!" : `You placed ${me?.placement ?? "?"} of ${players.length}`;
  const rows = players.map((p) => {
    const tr = document.createElement("tr");
    for (const v of [p.placement, p.name || p.playerId, p.stats["dice_left"] ?? 0, p.stats["bluffs_called"] ?? 0, p.stats["bids_upheld"] ?? 0]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.append(td);
    }
    return tr;
  });
  $("standings").querySelector("tbody")!.replaceChildren(...rows);
  show("over");
}

async function start() {
  $("error").textContent = "";
  hook.error = "";
  try {
    const name = $<HTMLInputElement>("name").value.trim() || "player";
    show("searching");
    const began = Date.now();
    const timer = setInterval(() => { $("waited").textContent = `${Math.round((Date.now() - began) / 1000)} s`; }, 500);
    try {
      session ??= await new Leaderboard(cfg.leaderboard_url).signInGuest(name);
      const mm = new Matchmaker({ baseUrl: cfg.matchmaker_url, session });
      const a = await mm.findMatch("dice");
      $("log").replaceChildren();
      sent = lastTurnKey = "";
      game = await Game.join(a, {
        transport: (params.get("transport") as "websocket" | "webtransport" | null) ?? "auto",
        certHashes: (cfg.webtransport_cert_hashes ?? []).map((h) => new Uint8Array(h)),
        onSnapshot: render,
        onEvent,
        onRefused,
      });
    } finally {
      clearInterval(timer);
    }
    hook.matchId = game.welcome.matchId;
    // Player entities are 10 + seat. The seat comes from the welcome, not
    // the "seats" event: over WebTransport snapshots travel as datagrams
    // and may overtake the events on the reliable stream.
    mySeat = hook.seat = game.welcome.entityId - 10;
    tickRate = game.welcome.tickRateHz || 10;
    show("game");
    for (;;) {
      const end = await game.ended;
      if (end.outcome) return showOver(end.outcome);
      if (!end.dropped) throw end.error ?? new Error("the connection closed");
      log("Connection lost: rejoining…");
      game = await game.rejoin();
    }
  } catch (e) {
    fail(String(e));
    show("lobby");
  }
}

async function main() {
  cfg = (await (await fetch("../config.json")).json()) as PageConfig;
  if (params.get("name")) $<HTMLInputElement>("name").value = params.get("name")!;
  $("play").onclick = start;
  $("again").onclick = start;
  $("bid").onsubmit = (ev) => {
    ev.preventDefault();
    move([OP_BID, Number($<HTMLInputElement>("qty").value), Number($<HTMLSelectElement>("face").value)]);
  };
  $("call").onclick = () => move([OP_CALL, 0, 0]);
  show("lobby");
}

main().catch((e) => fail(String(e)));
