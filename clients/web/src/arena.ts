// Arena's rules and field as the client needs them for drawing and for
// predicting its own player. They mirror gameserver/arena (arena.go and
// field.go): keep them in step.

export const WIDTH = 1600;
export const HEIGHT = 900;
export const PLAYER_RADIUS = 20;
export const PLAYER_SPEED = 200;
export const PROJECTILE_RADIUS = 4;
export const MAX_HEALTH = 100;

export const KIND_PLAYER = 1;
export const KIND_PROJECTILE = 2;
export const KIND_MATCH = 3;

// Player fields (kind 1). Aim is in steps of 2*pi/AIM_STEPS; respawn is
// the tick an eliminated player is back at (0 while alive).
export const P_X = 0, P_Y = 1, P_AIM = 2, P_HEALTH = 3, P_TEAM = 4, P_ELIMS = 5, P_DEATHS = 6, P_RESPAWN_AT = 7;
export const AIM_STEPS = 64;
// Projectile fields (kind 2), all fixed at spawn: position at the spawn
// tick, velocity (units/s, *10), owner, spawn tick. See projectileAt.
export const S_X = 0, S_Y = 1, S_VX = 2, S_VY = 3, S_OWNER = 4, S_SPAWN_TICK = 5;
// Match fields (kind 3): the tick the match ends by time, the score limit,
// then team scores.
export const M_END_TICK = 0, M_SCORE_LIMIT = 1, M_SCORES = 2;

// projectileAt is where a projectile is at a (fractional) tick: it flies
// straight from its spawn; undefined once it would be inside a wall (the
// server removes it in a snapshot soon after).
export function projectileAt(f: readonly number[], tick: number, tickRate: number): { x: number; y: number } | undefined {
  const dt = Math.max(0, tick - (f[S_SPAWN_TICK] ?? 0)) / tickRate;
  const x = (f[S_X] ?? 0) / 10 + ((f[S_VX] ?? 0) / 10) * dt;
  const y = (f[S_Y] ?? 0) / 10 + ((f[S_VY] ?? 0) / 10) * dt;
  return blocked(x, y, PROJECTILE_RADIUS) ? undefined : { x, y };
}

export interface Rect { x: number; y: number; w: number; h: number }

export const WALLS: Rect[] = [
  { x: 300, y: 200, w: 40, h: 220 },
  { x: 1260, y: 480, w: 40, h: 220 },
  { x: 700, y: 430, w: 200, h: 40 },
  { x: 480, y: 660, w: 160, h: 40 },
  { x: 960, y: 200, w: 160, h: 40 },
];

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

export function blocked(x: number, y: number, r: number): boolean {
  if (x < r || y < r || x > WIDTH - r || y > HEIGHT - r) return true;
  for (const w of WALLS) {
    const dx = x - clamp(x, w.x, w.x + w.w);
    const dy = y - clamp(y, w.y, w.y + w.h);
    if (dx * dx + dy * dy < r * r) return true;
  }
  return false;
}

export interface Move { moveX: number; moveY: number }

// step moves a player one tick the way the server does (x, then y, each
// only when not blocked).
export function step(pos: { x: number; y: number }, m: Move, dt: number): { x: number; y: number } {
  let mx = m.moveX, my = m.moveY;
  const l = Math.hypot(mx, my);
  if (l > 1) { mx /= l; my /= l; }
  const s = PLAYER_SPEED * dt;
  let { x, y } = pos;
  const nx = x + mx * s;
  if (!blocked(nx, y, PLAYER_RADIUS)) x = nx;
  const ny = y + my * s;
  if (!blocked(x, ny, PLAYER_RADIUS)) y = ny;
  return { x, y };
}
