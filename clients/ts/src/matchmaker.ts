// Matchmaking over Connect (the matchmaker serves Connect, gRPC-Web and
// gRPC on one port): create a ticket, watch it until it is matched, cancel
// it. Parties: each member mints a party invite for the leader
// (createPartyInvite) and hands it over, never their session; the leader
// creates the ticket with the invites; each member awaits the same ticket
// id for its own assignment.
import { clone } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AssignmentSchema, MatchmakerService, TicketState } from "./gen/skirmish/v1/matchmaker_pb.js";
import type { Assignment, Ticket } from "./gen/skirmish/v1/matchmaker_pb.js";
import { retry } from "./retry.js";
import type { Backoff, RetryCheck } from "./retry.js";
import type { Session } from "./leaderboard.js";

export interface MatchmakerOptions {
  /** The matchmaker's URL, e.g. http://127.0.0.1:7810 (https in production). */
  baseUrl: string;
  /** Whose calls these are: the session from signInGuest. */
  session: Pick<Session, "token">;
  /** Retrying of calls refused with resource_exhausted or unavailable. */
  backoff?: Backoff;
  /** A Connect transport to use instead of one made from baseUrl. */
  transport?: Transport;
  /** fetch for the default transport; default globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface FindOptions {
  /**
   * Party invites of the other party members (each minted with
   * createPartyInvite for the caller's player id and this mode); they play
   * on the caller's team. Each invite is used up by the ticket.
   */
  partyInvites?: string[];
  /** Measured round trips by region name. */
  latenciesMs?: Record<string, number>;
  /** Called once with the created ticket: give its id to the party. */
  onTicket?: (t: Ticket) => void;
  /** Sees every state the ticket passes through. */
  onUpdate?: (t: Ticket) => void;
  /** Aborting cancels the search (and the ticket, best effort). */
  signal?: AbortSignal;
}

/** The ticket ended without a match: expired, cancelled or failed. */
export class TicketEndedError extends Error {
  constructor(readonly ticket: Ticket | undefined, message: string) {
    super(message);
    this.name = "TicketEndedError";
  }
}

export const retryConnect: RetryCheck = (err) => {
  const c = ConnectError.from(err);
  return c.code === Code.ResourceExhausted || c.code === Code.Unavailable ? { retryable: true, retryAfterMs: 0 } : undefined;
};

export class Matchmaker {
  readonly client: Client<typeof MatchmakerService>;
  private readonly backoff?: Backoff;

  constructor(opts: MatchmakerOptions) {
    const auth: Interceptor = (next) => async (req) => {
      req.header.set("authorization", "Bearer " + opts.session.token);
      return next(req);
    };
    const transport = opts.transport ?? createConnectTransport({
      baseUrl: opts.baseUrl,
      useBinaryFormat: true,
      interceptors: [auth],
      fetch: opts.fetch,
    });
    this.client = createClient(MatchmakerService, transport);
    this.backoff = opts.backoff;
  }

  /** createTicket starts a search; a player already searching gets already_exists. */
  async createTicket(mode: string, opts: FindOptions = {}): Promise<Ticket> {
    const res = await retry(() => this.client.createTicket({
      mode,
      latenciesMs: opts.latenciesMs ?? {},
      partyInvites: opts.partyInvites ?? [],
    }, { signal: opts.signal }), retryConnect, this.backoff, opts.signal);
    if (!res.ticket) throw new Error("create ticket: no ticket in the answer");
    return res.ticket;
  }

  /**
   * awaitMatch watches the ticket until it is matched and returns this
   * player's assignment; a watch refused or broken as unavailable is opened
   * again (the server sends the current state first, so nothing is missed).
   */
  awaitMatch(ticketId: string, opts: Pick<FindOptions, "onUpdate" | "signal"> = {}): Promise<Assignment> {
    return retry(async () => {
      for await (const res of this.client.watchTicket({ ticketId }, { signal: opts.signal })) {
        const t = res.ticket;
        if (!t) continue;
        opts.onUpdate?.(t);
        switch (t.state) {
          case TicketState.MATCHED:
            if (!t.assignment) throw new Error(`ticket ${ticketId}: matched without an assignment`);
            return t.assignment;
          case TicketState.EXPIRED:
          case TicketState.CANCELLED:
          case TicketState.FAILED:
            throw new TicketEndedError(t, `ticket ${ticketId} ${TicketState[t.state]} ${t.failureReason}`.trim());
        }
      }
      throw new TicketEndedError(undefined, `ticket ${ticketId}: the watch ended before a match`);
    }, retryConnect, this.backoff, opts.signal);
  }

  /** findMatch creates a ticket for mode and awaits its assignment. */
  async findMatch(mode: string, opts: FindOptions = {}): Promise<Assignment> {
    const t = await this.createTicket(mode, opts);
    opts.onTicket?.(t);
    try {
      return await this.awaitMatch(t.id, opts);
    } catch (e) {
      if (opts.signal?.aborted) {
        // The caller gave up: free the players' ticket slot.
        await this.cancelTicket(t.id).catch(() => {});
      }
      throw e;
    }
  }

  /**
   * createPartyInvite mints a party invite for this player: a short-lived
   * token (5 minutes by default) that lets the leader (leaderId) put this
   * player on one ticket of mode, once. Hand it to the leader; the session
   * token stays here.
   */
  async createPartyInvite(leaderId: string, mode: string, signal?: AbortSignal): Promise<string> {
    const res = await retry(() => this.client.createPartyInvite({ leaderId, mode }, { signal }), retryConnect, this.backoff, signal);
    return res.invite;
  }

  /**
   * refreshJoinToken returns a copy of the assignment with a new join
   * token for the same seat while its room still runs (failed_precondition
   * once the match has ended): for rejoining after the token expired.
   */
  async refreshJoinToken(a: Assignment, signal?: AbortSignal): Promise<Assignment> {
    const res = await retry(() => this.client.refreshJoinToken({ joinToken: a.joinToken }, { signal }), retryConnect, this.backoff, signal);
    const out = clone(AssignmentSchema, a);
    out.joinToken = res.joinToken;
    return out;
  }

  /** cancelTicket ends a search; any party member may. */
  async cancelTicket(ticketId: string): Promise<void> {
    await this.client.cancelTicket({ ticketId });
  }
}
