// @skirmish/sdk: the TypeScript client SDK for Skirmish.
//
//   const lb = new Leaderboard("http://127.0.0.1:7820");
//   const session = await lb.signInGuest("Ada");
//   const mm = new Matchmaker({ baseUrl: "http://127.0.0.1:7810", session });
//   const a = await mm.findMatch("duel");
//   const game = await Game.join(a);          // WebTransport, else WebSocket
//   game.sendArena(1, 0, 0, false);           // inputs up...
//   game.world;                               // ...worlds down, rebuilt from deltas
//   const end = await game.ended;             // outcome, or dropped: game.rejoin()
export { apply, entity, field, BadSnapshotError, UnknownBaseError, MAX_FIELDS } from "./codec.js";
export type { Entity, World } from "./codec.js";
export { backoffWait, parseRetryAfter, retry } from "./retry.js";
export type { Backoff, RetryCheck, Retryable } from "./retry.js";
export { Leaderboard, HttpError } from "./leaderboard.js";
export type { Board, Entry, EntryPage, LeaderboardOptions, Match, MatchPage, Player, PlayerMatch, Result, Session, Team } from "./leaderboard.js";
export { Matchmaker, TicketEndedError, retryConnect } from "./matchmaker.js";
export type { FindOptions, MatchmakerOptions } from "./matchmaker.js";
export { connect, connectWebSocket, connectWebTransport, FrameReader, frame, MAX_FRAME } from "./transport.js";
export type { ConnectOptions, Link, LinkHandlers, TransportKind } from "./transport.js";
export { Game, ServerError, rejoin, HISTORY } from "./game.js";
export type { GameEnd, JoinOptions } from "./game.js";
export { isRefusal, eventJSON, missedEvents } from "./events.js";
export * from "./gen/skirmish/v1/realtime_pb.js";
export * from "./gen/skirmish/v1/matchmaker_pb.js";
export * from "./gen/skirmish/v1/outcome_pb.js";
