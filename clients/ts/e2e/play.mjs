// Two players play one duel through a running Skirmish with this SDK:
// guest sign-in and the leaderboard over REST, matchmaking over Connect,
// the match over WebSocket (Node has no WebTransport, so "auto" picks
// WebSocket). One player closes its connection mid-match and rejoins; the
// gameserver refuses its join token, and rejoin gets a new one from the
// matchmaker (refreshJoinToken) as it does for an expired token. Run by cmd/skirmish/ts_sdk_test.go with LEADERBOARD_URL and
// MATCHMAKER_URL; prints one JSON line with what it saw, exits non-zero on
// any failure.
import { Game, Leaderboard, Matchmaker, Presence, TicketEndedError, TicketState, rejoin } from "../dist/index.js";

const lbURL = process.env.LEADERBOARD_URL;
const mmURL = process.env.MATCHMAKER_URL;
if (!lbURL || !mmURL) throw new Error("LEADERBOARD_URL and MATCHMAKER_URL are required");
const deadline = AbortSignal.timeout(60_000);

// Count the leaderboard's refusals: the test runs it with a limit of one
// request a second, so the SDK must wait out Retry-After to get anywhere.
let refused = 0;
const counting = async (...args) => {
  const r = await fetch(...args);
  if (r.status === 429) refused++;
  return r;
};
const lb = new Leaderboard(lbURL, { fetch: counting });

// Node has no WebTransport. Stand in for a browser whose WebTransport
// cannot reach the server (UDP blocked): the session never becomes
// ready, so "auto" must fall back to WebSocket.
let fallbacks = 0;
globalThis.WebTransport = class {
  constructor() {
    this.ready = Promise.reject(new Error("UDP blocked"));
    this.ready.catch(() => {});
    this.closed = new Promise(() => {});
  }
  close() {}
};
const joinOpts = { transport: "auto", onFallback: () => { fallbacks++; } };
const names = ["ts-ada", "ts-bob"];
const sessions = await Promise.all(names.map((n) => lb.signInGuest(n, deadline)));

// A ticket cancelled before it is matched ends the wait with
// TicketEndedError.
{
  const mm = new Matchmaker({ baseUrl: mmURL, session: sessions[0] });
  const t = await mm.createTicket("ffa", { signal: deadline });
  if (t.state !== TicketState.SEARCHING) throw new Error(`new ticket is ${TicketState[t.state]}`);
  await mm.cancelTicket(t.id);
  const ended = await mm.awaitMatch(t.id, { signal: deadline }).then(() => false, (e) => e instanceof TicketEndedError && e.ticket?.state === TicketState.CANCELLED);
  if (!ended) throw new Error("awaiting a cancelled ticket did not end with TicketEndedError");
}

async function play(session, i) {
  const mm = new Matchmaker({ baseUrl: mmURL, session });
  const states = [];
  const a = await mm.findMatch("duel", { signal: deadline, onUpdate: (t) => states.push(t.state) });
  if (!a.webtransportUrl) throw new Error("the assignment offers no WebTransport; the fallback goes untested");
  let game = await Game.join(a, joinOpts);
  const entityId = game.welcome.entityId;
  let rejoined;
  const tick = setInterval(() => {
    try { game.sendArena(Math.cos(i), Math.sin(i), 0, true); } catch { /* between connections */ }
  }, 33);
  try {
    if (i === 0) {
      await until(() => game.world !== undefined, "a first world");
      const snapshots = game.snapshots;
      // The refresh path a rejoin takes once the join token expired: a new
      // token for the same seat, from the matchmaker, with the session.
      const fresh = await mm.refreshJoinToken(a);
      if (!fresh.joinToken || fresh.roomId !== a.roomId || fresh.team !== a.team) throw new Error(`refreshJoinToken: ${JSON.stringify({ room: fresh.roomId, team: fresh.team })}`);
      // Rejoin with a token the gameserver refuses (as it refuses an
      // expired one): rejoin must get a new one through refresh, once.
      game.close();
      const end = await game.ended;
      if (end.dropped || end.error) throw new Error(`closing for rejoin ended as ${JSON.stringify(end)}`);
      let refreshes = 0;
      const refresh = async () => { refreshes++; return mm.refreshJoinToken(a); };
      game = await rejoin({ ...a, joinToken: a.joinToken.slice(0, -6) + "AAAAAA" }, { ...joinOpts, refresh }, { initialMs: 50 });
      if (refreshes !== 1) throw new Error(`rejoin with a refused token refreshed it ${refreshes} times, want 1`);
      rejoined = { resumed: game.welcome.resumed, sameEntity: game.welcome.entityId === entityId, snapshotsBefore: snapshots, refreshes };
      await until(() => game.world !== undefined, "a world after rejoining");
    }
    if (i === 1) {
      // Inputs sent faster than the server's limit are dropped with a
      // RATE_LIMITED error; the match goes on.
      await until(() => game.world !== undefined, "a first world");
      for (let n = 0; n < 100; n++) game.sendArena(0, 0, 0, false);
      await until(() => game.rateLimited > 0, "a RATE_LIMITED error after a burst of inputs");
      const tick = game.world.tick;
      let ended = false;
      game.ended.then(() => { ended = true; });
      await until(() => game.world.tick > tick + 5 || ended, "worlds after RATE_LIMITED");
      if (ended) throw new Error("RATE_LIMITED ended the game");
    }
    // The roster names the opponent, connected, with its entity.
    await until(() => game.roster.some((p) => p.name === names[1 - i] && p.entityId !== 0 && p.presence === Presence.CONNECTED), "the opponent on the roster");
    const them = game.roster.find((p) => p.name === names[1 - i]);
    const opponent = game.player(them.entityId)?.name;
    if (opponent !== names[1 - i] || game.player(game.welcome.entityId)?.name !== names[i]) {
      throw new Error(`player ${i}: roster ${JSON.stringify(game.roster.map((p) => [p.entityId, p.name, p.presence]))}`);
    }
    const end = await Promise.race([game.ended, new Promise((_, rej) => deadline.addEventListener("abort", () => rej(new Error("match did not end"))))]);
    if (!end.outcome) throw new Error(`player ${i}: connection ended without an outcome: ${end.error}`);
    return { matchId: end.outcome.matchId, players: end.outcome.players.length, transport: game.transport, sawSearching: states.length > 0, snapshots: game.snapshots, rejoined, opponent, rateLimited: game.rateLimited };
  } finally {
    clearInterval(tick);
  }
}

async function until(cond, what) {
  while (!cond()) {
    if (deadline.aborted) throw new Error(`waiting for ${what}: timed out`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const results = await Promise.all(sessions.map(play));
if (results[0].matchId !== results[1].matchId) throw new Error(`players saw matches ${results[0].matchId} and ${results[1].matchId}`);
if (!results[0].rejoined.resumed || !results[0].rejoined.sameEntity) throw new Error(`rejoin: ${JSON.stringify(results[0].rejoined)}`);

// The outcome reaches the leaderboard through the outbox, the queue and
// the stats worker: wait for the history to show it.
let history;
for (;;) {
  history = await lb.matches(sessions[0].player_id, 10, "", deadline);
  if (history.matches.length === 1) break;
  if (deadline.aborted) throw new Error("match history never showed the match");
  await new Promise((r) => setTimeout(r, 100));
}
if (history.matches[0].match_id !== results[0].matchId) throw new Error(`history shows ${history.matches[0].match_id}`);
const match = await lb.match(results[0].matchId, deadline);
if (match.players.length !== 2 || match.mode !== "duel") throw new Error(`match ${JSON.stringify(match)}`);
const player = await lb.player(sessions[0].player_id, deadline);
const boards = await lb.boards(deadline);
if (fallbacks < 3) throw new Error(`${fallbacks} fallbacks to WebSocket, want one per join (3)`);
console.log(JSON.stringify({ refused, fallbacks, results, history: history.matches[0].result.standing, matches: player.matches, boards: boards.map((b) => b.id) }));
