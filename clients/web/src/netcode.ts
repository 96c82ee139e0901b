// Netcode: delta snapshots against acknowledged worlds (a lost or
// reordered datagram only costs its tick), prediction and reconciliation
// of the own player, interpolation of everything else.
import { create } from "@bufbuild/protobuf";
import type { Snapshot } from "./gen/skirmish/v1/realtime_pb";
import { ClientMessageSchema } from "./gen/skirmish/v1/realtime_pb";
import * as A from "./arena";
import { apply, field, UnknownBaseError } from "./world";
import type { Entity, World } from "./world";
import type { Link } from "./transport";

const HISTORY = 64;
const ACK_ALONE_MS = 100;

export interface PendingInput { seq: number; moveX: number; moveY: number }

export interface NetStats {
  snapshots: number;
  late: number; // datagrams older than the newest world
  dropped: number; // deltas against a world no longer held
  lastTick: number;
  rttMs: number;
}

export class Netcode {
  readonly history = new Map<number, World>();
  newest?: World;
  // arrival[i] = [tick, time] of recent snapshots, for interpolation.
  private timeline: { tick: number; world: World }[] = [];
  private offset?: number; // performance.now() - tick*tickMs, smoothed
  pending: PendingInput[] = [];
  predicted?: { x: number; y: number };
  private smoothErr = { x: 0, y: 0 };
  stats: NetStats = { snapshots: 0, late: 0, dropped: 0, lastTick: 0, rttMs: 0 };
  // When an input (which carries the ack) was last sent; snapshots get an
  // ack message of their own only when none went out for ACK_ALONE_MS.
  lastInputAt = -Infinity;

  constructor(
    readonly link: Link,
    readonly entityId: number,
    readonly tickMs: number,
    readonly interpDelayMs: number,
  ) {}

  onSnapshot(s: Snapshot, now: number) {
    this.stats.snapshots++;
    let w: World;
    try {
      w = apply(s.baseTick ? this.history.get(s.baseTick) : undefined, s);
    } catch (e) {
      if (e instanceof UnknownBaseError) { this.stats.dropped++; return; }
      throw e;
    }
    this.history.set(w.tick, w);
    if (this.history.size > HISTORY) {
      for (const t of this.history.keys()) { if (t < w.tick - HISTORY) this.history.delete(t); }
    }
    // Acknowledge the worlds held, so the server deltas against them: the
    // next input carries the ack (ackTick); without inputs, an ack alone.
    if (now - this.lastInputAt > ACK_ALONE_MS) {
      this.link.sendUnreliable(create(ClientMessageSchema, { msg: { case: "ack", value: { tick: w.tick } } }));
    }
    if (this.newest && w.tick <= this.newest.tick) { this.stats.late++; this.insertTimeline(w); return; }
    this.newest = w;
    this.stats.lastTick = w.tick;
    const o = now - w.tick * this.tickMs;
    if (this.offset === undefined || Math.abs(o - this.offset) > 250) this.offset = o;
    else this.offset += (o - this.offset) * 0.05;
    this.insertTimeline(w);
    this.reconcile(w);
  }

  private insertTimeline(w: World) {
    const tl = this.timeline;
    let i = tl.length;
    while (i > 0 && tl[i - 1].tick > w.tick) i--;
    if (i > 0 && tl[i - 1].tick === w.tick) return;
    tl.splice(i, 0, { tick: w.tick, world: w });
    const keep = Math.ceil((this.interpDelayMs + 500) / this.tickMs);
    if (tl.length > keep) tl.splice(0, tl.length - keep);
  }

  // reconcile: the server's position of the own player at the newest
  // world, plus every input it has not applied yet, replayed.
  private reconcile(w: World) {
    const me = w.entities.get(this.entityId);
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

  // ackTick is the tick to acknowledge in the next input: the newest
  // world held.
  ackTick(): number { return this.newest?.tick ?? 0; }

  // input applies one input locally (prediction) and records it; the
  // caller sends it with ackTick().
  input(seq: number, moveX: number, moveY: number, now: number) {
    this.lastInputAt = now;
    this.pending.push({ seq, moveX, moveY });
    if (this.pending.length > 120) this.pending.shift();
    if (this.predicted) this.predicted = A.step(this.predicted, { moveX, moveY }, this.tickMs / 1000);
  }

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
    for (const [id, eb] of b.world.entities) {
      if (eb.kind === A.KIND_PROJECTILE) {
        // Fixed fields from spawn: place it at the interpolated tick.
        const p = A.projectileAt(eb.fields, t, 1000 / this.tickMs);
        if (!p) continue;
        const fields = eb.fields.slice();
        fields[A.S_X] = p.x * 10; fields[A.S_Y] = p.y * 10;
        out.push({ id, kind: eb.kind, fields });
        continue;
      }
      const ea = a.world.entities.get(id);
      if (!ea || ea.kind === A.KIND_MATCH) { out.push(eb); continue; }
      const fields = eb.fields.slice();
      // Blend x and y (fields 0 and 1 of players) unless
      // the entity jumped (a respawn).
      const dx = field(eb, 0) - field(ea, 0), dy = field(eb, 1) - field(ea, 1);
      if (Math.hypot(dx, dy) < 2000) {
        fields[0] = field(ea, 0) + dx * f;
        fields[1] = field(ea, 1) + dy * f;
      }
      out.push({ id, kind: eb.kind, fields });
    }
    return out;
  }
}
