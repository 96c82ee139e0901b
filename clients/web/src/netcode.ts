// Netcode on top of the SDK's worlds (which the SDK rebuilds from delta
// snapshots and acknowledges): prediction and reconciliation of the own
// player, interpolation of everything else.
import { entity, field } from "@skirmish/sdk";
import type { Entity, World } from "@skirmish/sdk";
import * as A from "./arena";

export interface PendingInput { seq: number; moveX: number; moveY: number }

export interface NetStats {
  snapshots: number; // received, including ones that could not be applied
  dropped: number; // deltas against a world no longer held
  lastTick: number;
  rttMs: number;
}

export class Netcode {
  newest?: World;
  // Recent worlds by tick, for interpolation.
  private timeline: World[] = [];
  private offset?: number; // performance.now() - tick*tickMs, smoothed
  pending: PendingInput[] = [];
  predicted?: { x: number; y: number };
  private smoothErr = { x: 0, y: 0 };
  stats: NetStats = { snapshots: 0, dropped: 0, lastTick: 0, rttMs: 0 };

  constructor(
    readonly entityId: number,
    readonly tickMs: number,
    readonly interpDelayMs: number,
  ) {}

  // onWorld takes each world newer than the one before (Game's onSnapshot).
  onWorld(w: World, now: number) {
    if (this.newest && w.tick <= this.newest.tick) return;
    this.newest = w;
    this.stats.lastTick = w.tick;
    const o = now - w.tick * this.tickMs;
    if (this.offset === undefined || Math.abs(o - this.offset) > 250) this.offset = o;
    else this.offset += (o - this.offset) * 0.05;
    const tl = this.timeline;
    tl.push(w);
    const keep = Math.ceil((this.interpDelayMs + 500) / this.tickMs);
    if (tl.length > keep) tl.splice(0, tl.length - keep);
    this.reconcile(w);
  }

  // reconcile: the server's position of the own player at the newest
  // world, plus every input it has not applied yet, replayed.
  private reconcile(w: World) {
    const me = entity(w, this.entityId);
    this.pending = this.pending.filter((p) => p.seq > w.lastInputSeq);
    if (!me) return;
    if (field(me, A.P_HEALTH) <= 0) { this.predicted = undefined; this.smoothErr = { x: 0, y: 0 }; return; }
    let pos = { x: field(me, A.P_X) / 10, y: field(me, A.P_Y) / 10 };
    for (const p of this.pending) pos = A.step(pos, p, this.tickMs / 1000);
    if (this.predicted) {
      // Show a correction over a few frames rather than as a jump.
      this.smoothErr.x += this.predicted.x - pos.x;
      this.smoothErr.y += this.predicted.y - pos.y;
      if (Math.hypot(this.smoothErr.x, this.smoothErr.y) > 100) this.smoothErr = { x: 0, y: 0 };
    }
    this.predicted = pos;
  }

  // input applies one input, sent with sequence number seq, locally
  // (prediction) and records it for reconciliation.
  input(seq: number, moveX: number, moveY: number) {
    this.pending.push({ seq, moveX, moveY });
    if (this.pending.length > 120) this.pending.shift();
    if (this.predicted) this.predicted = A.step(this.predicted, { moveX, moveY }, this.tickMs / 1000);
  }

  // resume forgets inputs of a connection that ended: a rejoined
  // connection numbers its inputs afresh.
  resume() { this.pending = []; }

  ownPosition(): { x: number; y: number } | undefined {
    if (!this.predicted) return undefined;
    this.smoothErr.x *= 0.85; this.smoothErr.y *= 0.85;
    return { x: this.predicted.x + this.smoothErr.x, y: this.predicted.y + this.smoothErr.y };
  }

  // interpolated returns the entities at now - interpDelay, positions
  // blended between the two worlds around that time.
  interpolated(now: number): Entity[] {
    const tl = this.timeline;
    if (tl.length === 0 || this.offset === undefined) return [];
    const t = (now - this.interpDelayMs - this.offset) / this.tickMs;
    let a = tl[0], b = tl[0];
    for (let i = 0; i < tl.length; i++) {
      if (tl[i].tick <= t) { a = tl[i]; b = tl[i + 1] ?? tl[i]; }
    }
    if (t < tl[0].tick) { a = b = tl[0]; }
    const f = b.tick > a.tick ? Math.min(1, Math.max(0, (t - a.tick) / (b.tick - a.tick))) : 0;
    const out: Entity[] = [];
    for (const eb of b.entities) {
      if (eb.kind === A.KIND_PROJECTILE) {
        // Fixed fields from spawn: place it at the interpolated tick.
        const p = A.projectileAt(eb.fields, t, 1000 / this.tickMs);
        if (!p) continue;
        const fields = eb.fields.slice();
        fields[A.S_X] = p.x * 10; fields[A.S_Y] = p.y * 10;
        out.push({ id: eb.id, kind: eb.kind, fields });
        continue;
      }
      const ea = entity(a, eb.id);
      if (!ea || ea.kind === A.KIND_MATCH) { out.push(eb); continue; }
      const fields = eb.fields.slice();
      // Blend x and y (fields 0 and 1 of players) unless
      // the entity jumped (a respawn).
      const dx = field(eb, 0) - field(ea, 0), dy = field(eb, 1) - field(ea, 1);
      if (Math.hypot(dx, dy) < 2000) {
        fields[0] = field(ea, 0) + dx * f;
        fields[1] = field(ea, 1) + dy * f;
      }
      out.push({ id: eb.id, kind: eb.kind, fields });
    }
    return out;
  }
}
