// Game-defined inputs and events.
//
// A game other than Arena takes inputs as opaque bytes (Game.sendCustom),
// at most welcome.maxInputPayload of them. welcome.inputPolicy says how the
// room applies them: LATEST_WINS (action games: under load the oldest
// waiting inputs are dropped) or ORDERED (turn-based games: every input
// accepted is applied in order; one the server cannot take is refused at
// once, and JoinOptions.onRefused hears of it while the connection stays
// open).
//
// A game sends events besides snapshots (a round's result, a card dealt):
// JoinOptions.onEvent receives them in order, numbered by seq from 1 for
// this player in this match. Game.rejoin() tells the server the newest
// event held (JoinOptions.lastEventSeq) and the server sends again the ones
// after it that it still holds (its newest 48), right after the Welcome;
// a seq that skips ahead shows that older ones were lost, and the player
// relies on the fresh snapshot and on what the game sends again.
import { ErrorCode } from "./gen/skirmish/v1/realtime_pb.js";
import type { GameEvent } from "./gen/skirmish/v1/realtime_pb.js";

/** isRefusal reports whether an error code refuses inputs and leaves the connection open. */
export function isRefusal(code: ErrorCode): boolean {
  return code === ErrorCode.INPUT_QUEUE_FULL || code === ErrorCode.INPUT_TOO_LARGE || code === ErrorCode.INPUT_RATE_LIMITED;
}

/** eventJSON decodes the payload of an event whose game sends JSON. */
export function eventJSON<T = unknown>(e: GameEvent): T {
  return JSON.parse(new TextDecoder().decode(e.payload)) as T;
}

/** missedEvents reports whether a rejoined game's server sent events the old connection never received. */
export function missedEvents(oldEventSeq: bigint, welcomeEventSeq: bigint): boolean {
  return welcomeEventSeq > oldEventSeq;
}
