// A client of the leaderboard service's REST API
// (leaderboard/httpapi/openapi.json, served at /openapi.json): guest
// sign-in, boards, ranks and match history. Answers 429 and 503 are
// retried after the server's Retry-After, with jitter.
import { retry } from "./retry.js";
import type { Backoff, Retryable } from "./retry.js";
import { parseRetryAfter } from "./retry.js";

/** A signed-in player; token is what the matchmaker takes. */
export interface Session {
  player_id: string;
  name: string;
  token: string;
  expires_at: string;
}

export interface Board {
  id: string;
  title: string;
  order: "desc" | "asc";
  /** The stat ranked: one the game reports, or wins, losses, matches, rating. */
  stat: string;
  aggregate: "sum" | "max" | "min" | "last";
  /** The modes counted; empty: every mode. */
  modes: string[];
  /** The rating pool counted; absent: every pool. */
  pool?: string;
  reset?: string;
  season: number;
  season_started?: string;
}

export interface Entry {
  rank: number;
  player_id: string;
  name: string;
  score: number;
  updated_at: string;
}

export interface EntryPage {
  leaderboard: string;
  entries: Entry[];
  next_cursor?: string;
}

/** A player's rating in one rating pool. */
export interface PoolRating {
  rating: number;
  sigma: number;
  matches: number;
}

/** A player's profile: the common counters, the sums of the game's stats, ratings by pool. */
export interface Player {
  id: string;
  name: string;
  created_at: string;
  /** @deprecated the rating of the pool played most; read ratings. */
  rating: number;
  ratings: Record<string, PoolRating>;
  matches: number;
  wins: number;
  losses: number;
  draws: number;
  stats: Record<string, number>;
  [field: string]: unknown;
}

export interface Result {
  player_id: string;
  name: string;
  team: number;
  placement: number;
  standing: "won" | "lost" | "drew" | "void";
  /** The game's stats for the player in this match, by name. */
  stats: Record<string, number>;
  left: boolean;
  rating_before: number;
  rating_after: number;
  [field: string]: unknown;
}

export interface PlayerMatch {
  match_id: string;
  mode: string;
  started_at?: string;
  ended_at: string;
  result: Result;
}

export interface MatchPage {
  player_id: string;
  matches: PlayerMatch[];
  next_cursor?: string;
}

export interface Team { team: number; score: number; placement: number }

/** A recorded match with every player's result. */
export interface Match {
  id: string;
  mode: string;
  region: string;
  room_id: string;
  gameserver_id: string;
  started_at?: string;
  ended_at: string;
  end_reason: string;
  recorded_at: string;
  teams: Team[];
  players: Result[];
}

/** An HTTP answer other than the one the call expects. */
export class HttpError extends Error implements Partial<Retryable> {
  readonly retryable?: true;
  constructor(
    readonly op: string,
    readonly status: number,
    readonly detail: string,
    /** The server's Retry-After in ms; 0 when it sent none. */
    readonly retryAfterMs: number,
  ) {
    super(`${op}: ${status}${detail ? ": " + detail : ""}`);
    this.name = "HttpError";
    if (status === 429 || status === 503) this.retryable = true;
  }
  /** notFound: the board, player, entry or match does not exist. */
  get notFound(): boolean { return this.status === 404; }
}

export interface LeaderboardOptions {
  /** fetch to call; default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Retrying of 429/503; attempts 1 turns it off. */
  backoff?: Backoff;
}

const MAX_RESPONSE = 1 << 20;

export class Leaderboard {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  /** baseURL is e.g. http://127.0.0.1:7820 or https://lb.example.com. */
  constructor(baseURL: string, private readonly opts: LeaderboardOptions = {}) {
    let u: URL;
    try { u = new URL(baseURL); } catch { throw new Error(`leaderboard URL ${JSON.stringify(baseURL)}: want http(s)://host[:port]`); }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new Error(`leaderboard URL ${JSON.stringify(baseURL)}: want http(s)://host[:port]`);
    }
    this.base = baseURL.replace(/\/+$/, "");
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** signInGuest creates a guest player named name (1 to 24 characters). */
  async signInGuest(name: string, signal?: AbortSignal): Promise<Session> {
    const s = await this.call<Session>("sign in", "POST", "/v1/auth/guest", { name }, signal);
    if (!s.token || !s.player_id) throw new Error("sign in: response has no token or player id");
    return s;
  }

  async boards(signal?: AbortSignal): Promise<Board[]> {
    return (await this.call<{ leaderboards: Board[] }>("list boards", "GET", "/v1/leaderboards", undefined, signal)).leaderboards;
  }

  /** top returns up to limit (1-100; 0: the server's default) entries, best first, after cursor. */
  top(board: string, limit = 0, cursor = "", signal?: AbortSignal): Promise<EntryPage> {
    return this.call("top of " + board, "GET", `/v1/leaderboards/${enc(board)}/entries${page(limit, cursor)}`, undefined, signal);
  }

  /** rank returns the player's entry; an HttpError with notFound when there is none. */
  rank(board: string, playerId: string, signal?: AbortSignal): Promise<Entry> {
    return this.call("rank on " + board, "GET", `/v1/leaderboards/${enc(board)}/players/${enc(playerId)}`, undefined, signal);
  }

  /** around returns the player's entry with up to n (0-50) entries each side, best first. */
  async around(board: string, playerId: string, n = 5, signal?: AbortSignal): Promise<Entry[]> {
    const p = await this.call<EntryPage>("around on " + board, "GET",
      `/v1/leaderboards/${enc(board)}/players/${enc(playerId)}/around?n=${n}`, undefined, signal);
    return p.entries;
  }

  /** match returns a recorded match; an HttpError with notFound until the stats worker recorded it. */
  match(matchId: string, signal?: AbortSignal): Promise<Match> {
    return this.call("match", "GET", `/v1/matches/${enc(matchId)}`, undefined, signal);
  }

  player(playerId: string, signal?: AbortSignal): Promise<Player> {
    return this.call("player", "GET", `/v1/players/${enc(playerId)}`, undefined, signal);
  }

  /** matches returns up to limit of the player's matches, latest first, after cursor. */
  matches(playerId: string, limit = 0, cursor = "", signal?: AbortSignal): Promise<MatchPage> {
    return this.call("match history", "GET", `/v1/players/${enc(playerId)}/matches${page(limit, cursor)}`, undefined, signal);
  }

  private call<T>(op: string, method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return retry(async () => {
      const headers: Record<string, string> = { Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const r = await this.fetch(this.base + path, {
        method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await readLimited(r);
      if (!r.ok) {
        let detail = text.slice(0, 200).trim();
        try { const p = JSON.parse(text) as { detail?: string }; if (p.detail) detail = p.detail; } catch { /* not JSON */ }
        throw new HttpError(op, r.status, detail, parseRetryAfter(r.headers.get("Retry-After")));
      }
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new Error(`${op}: decode response: ${String(e)}`);
      }
    }, (err) => (err instanceof HttpError && err.retryable ? { retryable: true, retryAfterMs: err.retryAfterMs } : undefined),
    this.opts.backoff, signal);
  }
}

function enc(s: string): string { return encodeURIComponent(s); }

function page(limit: number, cursor: string): string {
  const q = new URLSearchParams();
  if (limit > 0) q.set("limit", String(limit));
  if (cursor) q.set("cursor", cursor);
  const s = q.toString();
  return s ? "?" + s : "";
}

async function readLimited(r: Response): Promise<string> {
  const len = Number(r.headers.get("Content-Length") ?? "0");
  if (len > MAX_RESPONSE) throw new Error(`response of ${len} bytes is over the ${MAX_RESPONSE}-byte bound`);
  const text = await r.text();
  if (text.length > MAX_RESPONSE) throw new Error(`response over the ${MAX_RESPONSE}-byte bound`);
  return text;
}
