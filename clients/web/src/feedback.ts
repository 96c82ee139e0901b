// Game feedback from successive worlds: hits (health lost), eliminations
// (deaths and eliminations counted up in the same tick) for the kill feed,
// and the short-lived effects drawn over the arena.
import { entity, field } from "@skirmish/sdk";
import type { World } from "@skirmish/sdk";
import * as A from "./arena";

export interface Hit { id: number; x: number; y: number; damage: number; at: number }
export interface Elimination { killer?: number; victim: number; at: number }

const HIT_MS = 700;
const FEED_MS = 6000;
const FEED_MAX = 5;

export class Feedback {
  hits: Hit[] = [];
  feed: Elimination[] = [];
  // ownHitAt is when the own player last lost health (a red flash).
  ownHitAt = -Infinity;
  // lastKillAt is when the own player last eliminated someone (a banner).
  lastKillAt = -Infinity;
  // totalHits counts every hit seen this match.
  totalHits = 0;
  private seen?: World;

  constructor(readonly self: number) {}

  // update compares the newest world with the one seen before and records
  // what happened in between.
  update(w: World | undefined, now: number) {
    if (!w || (this.seen && w.tick <= this.seen.tick)) return;
    const prev = this.seen;
    this.seen = w;
    if (!prev) return;
    const killers: number[] = [], victims: number[] = [];
    for (const e of w.entities) {
      if (e.kind !== A.KIND_PLAYER) continue;
      const id = e.id;
      const p = entity(prev, id);
      if (!p) continue;
      const lost = field(p, A.P_HEALTH) - field(e, A.P_HEALTH);
      if (lost > 0) {
        this.hits.push({ id, x: field(p, A.P_X) / 10, y: field(p, A.P_Y) / 10, damage: lost, at: now });
        this.totalHits++;
        if (id === this.self) this.ownHitAt = now;
      }
      for (let n = field(e, A.P_ELIMS) - field(p, A.P_ELIMS); n > 0; n--) killers.push(id);
      for (let n = field(e, A.P_DEATHS) - field(p, A.P_DEATHS); n > 0; n--) victims.push(id);
    }
    // One elimination a tick is the rule; when several coincide, pair them
    // in order and leave the rest without a known killer.
    victims.forEach((victim, i) => {
      const killer = killers[i];
      this.feed.push({ killer, victim, at: now });
      if (killer === this.self) this.lastKillAt = now;
    });
    this.expire(now);
  }

  expire(now: number) {
    this.hits = this.hits.filter((h) => now - h.at < HIT_MS);
    this.feed = this.feed.filter((e) => now - e.at < FEED_MS).slice(-FEED_MAX);
  }

  static readonly hitMs = HIT_MS;
}
