// A player's connection to the room of a match: join with the assignment's
// token, send inputs stamped with sequence numbers (each carrying the ack
// of the newest world held), rebuild worlds from delta snapshots, and see
// the outcome. Rejoin connects again after a drop, with the same token.
import { create } from "@bufbuild/protobuf";
import { ArenaInputSchema, ClientMessageSchema, ErrorCode } from "./gen/skirmish/v1/realtime_pb.js";
import type { GameEvent, Input, RosterEntry, ServerMessage, Snapshot, Welcome } from "./gen/skirmish/v1/realtime_pb.js";
import type { Assignment } from "./gen/skirmish/v1/matchmaker_pb.js";
import type { MatchOutcome } from "./gen/skirmish/v1/outcome_pb.js";
import { apply, UnknownBaseError } from "./codec.js";
import type { World } from "./codec.js";
import { connect } from "./transport.js";
import type { ConnectOptions, Link } from "./transport.js";
import { backoffWait, sleep } from "./retry.js";
import { isRefusal } from "./events.js";
import type { Backoff } from "./retry.js";

/** Recent worlds kept as possible bases for deltas (as the server keeps). */
export const HISTORY = 32;
/** With no input sent for this long, snapshots are acked on their own. */
const ACK_ALONE_MS = 100;

export interface JoinOptions extends ConnectOptions {
  /** Give up the handshake after this many ms; default 5000. */
  timeoutMs?: number;
  /** Called for every world applied, with the frame's size in bytes. */
  onSnapshot?: (w: World, bytes: number) => void;
  /** Called for every message the server sends, after the SDK handled it. */
  onMessage?: (m: ServerMessage) => void;
  /** Called with the whole roster each time it changes after the Welcome (see Game.roster). */
  onRoster?: (roster: RosterEntry[]) => void;
  /** Called for every game event, in the order the game emitted them (see events.ts). */
  onEvent?: (e: GameEvent) => void;
  /** The newest game event held from an earlier connection (rejoin sets it): the server resends those after it. */
  lastEventSeq?: bigint;
  /** Called when the server refused inputs and kept the connection open (isRefusal). */
  onRefused?: (e: ServerError) => void;
  /** Never acknowledge snapshots, so the server sends them full. */
  noAcks?: boolean;
  /** A clock in ms; default performance.now or Date.now. */
  now?: () => number;
  /**
   * Gets a new join token for the assignment: rejoin calls it once when
   * the gameserver refuses the token (it expired, as it does after a few
   * minutes). `(a) => matchmaker.refreshJoinToken(a)` fits.
   */
  refresh?: (a: Assignment) => Promise<Assignment>;
}

/** An error the gameserver reported. */
export class ServerError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(`server: ${ErrorCode[code] ?? code}: ${message}`);
    this.name = "ServerError";
  }
}

/** How a game's connection ended. */
export interface GameEnd {
  /** The outcome, when the match ended. */
  outcome?: MatchOutcome;
  /** Why it ended otherwise: a server error, or the connection's reason. */
  error?: Error;
  /** True when the connection dropped without a match end or close(): rejoin. */
  dropped: boolean;
}

const clock = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

export class Game {
  welcome!: Welcome;
  /** The newest world applied, undefined before the first snapshot. */
  world?: World;
  outcome?: MatchOutcome;
  /** Snapshots received, including ones that could not be applied. */
  snapshots = 0;
  /** Deltas against a world no longer held (the server sends a full one next). */
  dropped = 0;
  /**
   * RATE_LIMITED errors received: the server dropped inputs sent faster
   * than its limit and said so (at most once a second); the connection
   * stays open, so they do not end the game.
   */
  rateLimited = 0;
  /** The seq of the newest game event received on this connection (0: none). */
  eventSeq = 0n;
  /** Resolves once when the connection ends. */
  readonly ended: Promise<GameEnd>;
  /**
   * Who is in the match: one entry a seat (this player included) with its
   * entity (0 until that player first joined), player id, display name,
   * team and presence (waiting, connected, dropped, left). It comes with
   * the Welcome and is replaced whole when someone joins, returns, drops
   * or leaves; players gone for good stay on it, so their names remain
   * known.
   */
  roster: RosterEntry[] = [];

  private link!: Link;
  private seq = 0;
  private lastInputAt = -Infinity;
  private readonly history = new Array<World | undefined>(HISTORY);
  private closing = false;
  private end?: GameEnd;
  private resolveEnd!: (e: GameEnd) => void;
  private handshake?: { resolve: (w: Welcome) => void; reject: (e: Error) => void };
  private readonly now: () => number;

  private constructor(readonly assignment: Assignment, readonly opts: JoinOptions) {
    this.ended = new Promise((r) => { this.resolveEnd = r; });
    this.now = opts.now ?? clock;
  }

  /** join connects to the assignment's gameserver and resolves once welcomed. */
  static async join(a: Assignment, opts: JoinOptions = {}): Promise<Game> {
    const g = new Game(a, opts);
    const welcomed = new Promise<Welcome>((resolve, reject) => { g.handshake = { resolve, reject }; });
    g.link = await connect(a, {
      onMessage: (m, n) => g.onMessage(m, n),
      onClose: (reason, normal) => g.onClose(reason, normal),
    }, opts);
    g.eventSeq = opts.lastEventSeq ?? 0n;
    g.link.send(create(ClientMessageSchema, { msg: { case: "join", value: { token: a.joinToken, lastEventSeq: g.eventSeq } } }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      g.welcome = await Promise.race([welcomed, new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("join: no welcome in time")), opts.timeoutMs ?? 5000);
      })]);
    } catch (e) {
      g.closing = true;
      g.link.close();
      throw e;
    } finally {
      clearTimeout(timer);
      g.handshake = undefined;
    }
    return g;
  }

  get transport() { return this.link.kind; }

  /** player returns the roster entry of the player whose entity is entityId, if any. */
  player(entityId: number): RosterEntry | undefined {
    return entityId === 0 ? undefined : this.roster.find((p) => p.entityId === entityId);
  }
  get bytesIn() { return this.link.bytesIn; }

  /** sendInput stamps in with the next sequence number, sends it, and returns the number. */
  sendInput(game: Input["game"]): number {
    this.seq++;
    const ackTick = this.world && !this.opts.noAcks ? this.world.tick : 0;
    this.link.send(create(ClientMessageSchema, { msg: { case: "inputs", value: { ackTick, inputs: [{ seq: this.seq, game }] } } }));
    this.lastInputAt = this.now();
    return this.seq;
  }

  /** sendArena sends one input of Arena, the reference game. */
  sendArena(moveX: number, moveY: number, aim: number, fire: boolean): number {
    return this.sendInput({ case: "arena", value: create(ArenaInputSchema, { moveX, moveY, aim, fire }) });
  }

  /** sendCustom sends one input of a game that defines its own bytes. */
  sendCustom(payload: Uint8Array): number {
    return this.sendInput({ case: "custom", value: payload });
  }

  ping(): void {
    this.link.sendUnreliable(create(ClientMessageSchema, { msg: { case: "ping", value: { clientTimeUs: BigInt(Math.round(Date.now() * 1000)) } } }));
  }

  /** leave gives up the seat for good and closes the connection. */
  leave(): void {
    this.link.send(create(ClientMessageSchema, { msg: { case: "leave", value: {} } }));
    this.close();
  }

  /** close closes the connection; the seat stays reserved for the server's grace period. */
  close(): void {
    this.closing = true;
    this.link.close();
  }

  /** rejoin closes this connection and joins the same room again; see rejoin. */
  rejoin(backoff?: Backoff, signal?: AbortSignal): Promise<Game> {
    this.close();
    return rejoin(this.assignment, { ...this.opts, lastEventSeq: this.eventSeq }, backoff, signal);
  }

  private onMessage(m: ServerMessage, bytes: number) {
    switch (m.msg.case) {
      case "welcome":
        this.roster = m.msg.value.roster;
        this.handshake?.resolve(m.msg.value);
        break;
      case "roster":
        this.roster = m.msg.value.players;
        this.opts.onRoster?.(this.roster);
        break;
      case "error": {
        const err = new ServerError(m.msg.value.code, m.msg.value.message);
        if (this.handshake) this.handshake.reject(err);
        else if (m.msg.value.code === ErrorCode.RATE_LIMITED) this.rateLimited++; // inputs dropped; the match goes on
        else if (isRefusal(err.code)) this.opts.onRefused?.(err);
        else this.finish({ error: err, dropped: false });
        break;
      }
      case "snapshot":
        if (!this.handshake) this.onSnapshot(m.msg.value, bytes);
        break;
      case "event":
        this.eventSeq = m.msg.value.seq;
        this.opts.onEvent?.(m.msg.value);
        break;
      case "matchEnd":
        this.outcome = m.msg.value.outcome;
        break;
    }
    this.opts.onMessage?.(m);
  }

  private onSnapshot(s: Snapshot, bytes: number) {
    this.snapshots++;
    let w: World;
    try {
      w = apply(s.baseTick ? this.history[s.baseTick % HISTORY] : undefined, s);
    } catch (e) {
      if (e instanceof UnknownBaseError) { this.dropped++; return; }
      // A snapshot that does not fit: the connection cannot be trusted.
      this.finish({ error: e as Error, dropped: false });
      this.closing = true;
      this.link.close();
      return;
    }
    const old = this.history[w.tick % HISTORY];
    if (!old || old.tick <= w.tick) this.history[w.tick % HISTORY] = w;
    // A datagram that arrived late may serve as a base, but the world
    // does not go back in time.
    if (this.world && w.tick <= this.world.tick) return;
    this.world = w;
    if (!this.opts.noAcks && this.now() - this.lastInputAt > ACK_ALONE_MS) {
      this.link.sendUnreliable(create(ClientMessageSchema, { msg: { case: "ack", value: { tick: w.tick } } }));
    }
    this.opts.onSnapshot?.(w, bytes);
  }

  private onClose(reason: string, normal: boolean) {
    if (this.handshake) {
      this.handshake.reject(new Error(`join: connection closed: ${reason}`));
      return;
    }
    if (this.outcome) return this.finish({ outcome: this.outcome, dropped: false });
    if (this.closing || normal) return this.finish({ dropped: false, error: this.closing ? undefined : new Error(reason) });
    this.finish({ error: new Error(`connection lost: ${reason}`), dropped: true });
  }

  private finish(e: GameEnd) {
    if (this.end) return;
    this.end = e;
    this.resolveEnd(e);
  }
}

/** Refusals no retry can change: the token expired, the room is gone, no seat. */
function rejoinable(err: unknown): boolean {
  return !(err instanceof ServerError) || err.code === ErrorCode.RATE_LIMITED;
}

/**
 * rejoin joins the room of an assignment again after a drop, with the same
 * join token (the server keeps a dropped player's seat for its grace period
 * and answers with a Welcome and a full snapshot). Connection failures and
 * rate limiting are retried as backoff says; other server refusals are
 * thrown at once. The token lives as long as the matchmaker made it
 * (default 2 minutes): when the gameserver refuses it and opts.refresh is
 * set (to Matchmaker.refreshJoinToken), rejoin gets a new token for the
 * same seat once and joins with it, so a player can come back for as long
 * as the match runs.
 */
export async function rejoin(a: Assignment, opts: JoinOptions = {}, backoff?: Backoff, signal?: AbortSignal): Promise<Game> {
  const attempts = backoff?.attempts && backoff.attempts > 0 ? backoff.attempts : 10;
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await Game.join(a, opts);
    } catch (e) {
      if (e instanceof ServerError && e.code === ErrorCode.UNAUTHENTICATED && opts.refresh && !refreshed) {
        a = await opts.refresh(a);
        refreshed = true;
        continue;
      }
      if (!rejoinable(e) || attempt >= attempts || signal?.aborted) throw e;
      await sleep(backoffWait(backoff, attempt), signal);
    }
  }
}
