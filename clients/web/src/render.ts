// Canvas rendering of Arena: walls, players (the own one at its predicted
// position), projectiles, hit and elimination feedback, the match clock
// and scores, the kill feed and, on Tab, the scoreboard.
import { entity, field } from "@skirmish/sdk";
import type { Entity, World } from "@skirmish/sdk";
import * as A from "./arena";
import { Feedback } from "./feedback";

const TEAM_COLORS = ["#e6e6e6", "#4aa3ff", "#ff5c5c", "#5cd65c", "#ffc94a", "#c77dff", "#4ad9d9", "#ff8fd1", "#b3b3b3"];

// View is what a frame shows besides the entities.
export interface View {
  self: number; // own entity id
  myTeam: number;
  mode: string; // duel, ffa, team, team4
  me?: { x: number; y: number }; // predicted own position
  tickMs: number;
  newest?: World;
  feedback: Feedback;
  scoreboard: boolean;
  now: number;
  myName: string;
  // The other players by entity, from the room's roster.
  names: Map<number, PlayerName>;
  // ui scales text so that it stays readable on a small screen (1 on a
  // desktop, up to 3 on a phone).
  ui: number;
}

export const teamColor = (team: number) => TEAM_COLORS[team % TEAM_COLORS.length];

// PlayerName is how a player appears: the display name (with the end of
// the player id when two players share it), and whether the player is
// away (dropped, or gone for good).
export interface PlayerName { name: string; away: "" | "away" | "left" }

// label names a player entity from the viewer's side: by the name on the
// room's roster; a player the roster does not know yet (a moment before
// the roster arrives) by role.
export function label(v: View, ents: readonly Entity[], id: number): string {
  if (id === v.self) return v.myName ? `${v.myName} (you)` : "you";
  const n = v.names.get(id);
  if (n) return n.name;
  const e = ents.find((x) => x.id === id);
  if (v.mode === "duel") return "opponent";
  if (v.mode === "ffa") return `rival ${id - 1}`;
  return field(e, A.P_TEAM) === v.myTeam ? `ally ${id - 1}` : `enemy ${id - 1}`;
}

export function draw(ctx: CanvasRenderingContext2D, ents: Entity[], v: View) {
  const { self, me, now, feedback } = v;
  ctx.fillStyle = "#14161c";
  ctx.fillRect(0, 0, A.WIDTH, A.HEIGHT);
  ctx.strokeStyle = "#22262f";
  ctx.lineWidth = 1;
  for (let x = 0; x <= A.WIDTH; x += 100) { ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, A.HEIGHT); ctx.stroke(); }
  for (let y = 0; y <= A.HEIGHT; y += 100) { ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(A.WIDTH, y); ctx.stroke(); }
  ctx.fillStyle = "#5b6170";
  for (const w of A.WALLS) ctx.fillRect(w.x, w.y, w.w, w.h);

  for (const e of ents) {
    if (e.kind !== A.KIND_PROJECTILE) continue;
    ctx.fillStyle = teamColor(teamOf(ents, field(e, A.S_OWNER)));
    ctx.beginPath();
    ctx.arc(field(e, A.S_X) / 10, field(e, A.S_Y) / 10, A.PROJECTILE_RADIUS + 1, 0, Math.PI * 2);
    ctx.fill();
  }
  let ownDead = false, respawnAt = 0;
  for (const e of ents) {
    if (e.kind !== A.KIND_PLAYER) continue;
    const dead = field(e, A.P_HEALTH) <= 0;
    if (e.id === self && dead) { ownDead = true; respawnAt = field(e, A.P_RESPAWN_AT); }
    let x = field(e, A.P_X) / 10, y = field(e, A.P_Y) / 10;
    if (e.id === self && me && !dead) ({ x, y } = me);
    const hit = feedback.hits.find((h) => h.id === e.id && now - h.at < 120);
    ctx.globalAlpha = dead ? 0.25 : 1;
    ctx.fillStyle = hit ? "#fff" : teamColor(field(e, A.P_TEAM));
    ctx.beginPath();
    ctx.arc(x, y, A.PLAYER_RADIUS, 0, Math.PI * 2);
    ctx.fill();
    if (e.id === self) { ctx.strokeStyle = "#fff"; ctx.lineWidth = 3; ctx.stroke(); }
    const aim = (field(e, A.P_AIM) * 2 * Math.PI) / A.AIM_STEPS;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 4;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + Math.cos(aim) * (A.PLAYER_RADIUS + 10), y + Math.sin(aim) * (A.PLAYER_RADIUS + 10));
    ctx.stroke();
    // health bar
    ctx.fillStyle = "#300";
    ctx.fillRect(x - 22, y - 34, 44, 6);
    ctx.fillStyle = field(e, A.P_HEALTH) > 25 ? "#3d3" : "#f93";
    ctx.fillRect(x - 22, y - 34, (44 * field(e, A.P_HEALTH)) / A.MAX_HEALTH, 6);
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#ddd";
    ctx.font = `${Math.round(16 * v.ui)}px sans-serif`;
    ctx.textAlign = "center";
    const away = v.names.get(e.id)?.away;
    ctx.fillText(e.id === self ? "you" : label(v, ents, e.id) + (away ? ` (${away})` : ""), x, y + 40);
  }

  // Damage numbers float up from where a player was hit.
  ctx.font = `bold ${Math.round(22 * v.ui)}px sans-serif`;
  ctx.textAlign = "center";
  for (const h of feedback.hits) {
    const t = (now - h.at) / Feedback.hitMs;
    ctx.globalAlpha = Math.max(0, 1 - t);
    ctx.fillStyle = h.id === self ? "#ff5c5c" : "#ffd84a";
    ctx.fillText(`-${h.damage}`, h.x, h.y - 44 - t * 40);
  }
  ctx.globalAlpha = 1;

  // A red edge when the own player is hit.
  const since = now - feedback.ownHitAt;
  if (since < 300) {
    const g = ctx.createRadialGradient(A.WIDTH / 2, A.HEIGHT / 2, A.HEIGHT * 0.35, A.WIDTH / 2, A.HEIGHT / 2, A.WIDTH * 0.6);
    g.addColorStop(0, "rgba(255,0,0,0)");
    g.addColorStop(1, `rgba(255,0,0,${0.45 * (1 - since / 300)})`);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, A.WIDTH, A.HEIGHT);
  }

  const m = ents.find((e) => e.kind === A.KIND_MATCH) ?? (v.newest && entity(v.newest, 1));
  const tick = v.newest?.tick ?? 0;
  if (m) drawHUD(ctx, m, ents, v, tick);
  drawFeed(ctx, ents, v);

  if (ownDead) {
    const left = Math.max(0, Math.ceil(((respawnAt - tick) * v.tickMs) / 1000));
    banner(ctx, v, "ELIMINATED", left > 0 ? `back in ${left}` : "", "#ff5c5c");
  } else if (now - feedback.lastKillAt < 1200) {
    banner(ctx, v, "ELIMINATION", "", "#ffd84a");
  }
  if (v.scoreboard) drawScoreboard(ctx, ents, v);
}

function banner(ctx: CanvasRenderingContext2D, v: View, title: string, sub: string, color: string) {
  ctx.save();
  ctx.translate(A.WIDTH / 2, A.HEIGHT / 2);
  ctx.scale(v.ui, v.ui);
  ctx.translate(-A.WIDTH / 2, -A.HEIGHT / 2);
  ctx.fillStyle = "rgba(0,0,0,0.45)";
  ctx.fillRect(0, A.HEIGHT / 2 - 70, A.WIDTH, 130);
  ctx.textAlign = "center";
  ctx.fillStyle = color;
  ctx.font = "bold 64px sans-serif";
  ctx.fillText(title, A.WIDTH / 2, A.HEIGHT / 2 + 5);
  if (sub) {
    ctx.fillStyle = "#eee";
    ctx.font = "28px sans-serif";
    ctx.fillText(sub, A.WIDTH / 2, A.HEIGHT / 2 + 45);
  }
  ctx.restore();
}

// drawHUD shows the clock and the score from the player's side: own team
// (or own score in a free for all) against the best other.
function drawHUD(ctx: CanvasRenderingContext2D, m: Entity, ents: Entity[], v: View, tick: number) {
  const left = Math.max(0, (field(m, A.M_END_TICK) - tick) * v.tickMs) / 1000;
  const scores = m.fields.slice(A.M_SCORES);
  // Teams are numbered from 1; their scores follow in that order.
  const mine = scores[v.myTeam - 1] ?? 0;
  let best = 0;
  scores.forEach((s, i) => { if (i !== v.myTeam - 1 && s > best) best = s; });
  const clock = `${Math.floor(left / 60)}:${String(Math.floor(left % 60)).padStart(2, "0")}`;
  // In a duel the other side is one player: name them.
  const opponent = v.mode === "duel" ? [...v.names.values()][0]?.name : undefined;
  const them = v.mode === "duel" ? clip(opponent ?? "Opponent", 14) : v.mode === "ffa" ? "Leader" : "Enemy";
  const us = v.mode === "ffa" || v.mode === "duel" ? "You" : "Your team";
  ctx.save();
  ctx.translate(A.WIDTH / 2, 0);
  ctx.scale(v.ui, v.ui);
  ctx.translate(-A.WIDTH / 2, 0);
  ctx.textAlign = "center";
  ctx.fillStyle = "rgba(0,0,0,0.5)";
  ctx.fillRect(A.WIDTH / 2 - 330, 6, 660, 44);
  ctx.font = "bold 28px sans-serif";
  ctx.fillStyle = teamColor(v.myTeam);
  ctx.textAlign = "right";
  ctx.fillText(`${us} ${mine}`, A.WIDTH / 2 - 70, 38);
  ctx.fillStyle = "#fff";
  ctx.textAlign = "center";
  ctx.fillText(clock, A.WIDTH / 2, 38);
  ctx.fillStyle = "#ff8a8a";
  ctx.textAlign = "left";
  ctx.fillText(`${best} ${them}`, A.WIDTH / 2 + 70, 38);
  ctx.fillStyle = "#aaa";
  ctx.font = "16px sans-serif";
  ctx.textAlign = "center";
  ctx.fillText(`first to ${field(m, A.M_SCORE_LIMIT)}${v.ui > 1 ? "" : " · Tab: scoreboard"}`, A.WIDTH / 2, 70);
  ctx.restore();
  void ents;
}

function drawFeed(ctx: CanvasRenderingContext2D, ents: Entity[], v: View) {
  ctx.save();
  ctx.translate(A.WIDTH, v.ui > 1 ? 80 * v.ui : 0);
  ctx.scale(v.ui, v.ui);
  ctx.translate(-A.WIDTH, 0);
  ctx.font = "20px sans-serif";
  ctx.textAlign = "right";
  v.feedback.feed.forEach((e, i) => {
    const y = 40 + i * 30;
    const victim = label(v, ents, e.victim);
    const text = e.killer !== undefined ? `${label(v, ents, e.killer)}  ✖  ${victim}` : `✖  ${victim}`;
    ctx.fillStyle = "rgba(0,0,0,0.5)";
    const w = ctx.measureText(text).width;
    ctx.fillRect(A.WIDTH - 24 - w, y - 22, w + 16, 30);
    ctx.fillStyle = e.killer === v.self ? "#ffd84a" : e.victim === v.self ? "#ff8a8a" : "#ddd";
    ctx.fillText(text, A.WIDTH - 16, y);
  });
  ctx.restore();
}

// drawScoreboard lists every player: eliminations, deaths, health.
function drawScoreboard(ctx: CanvasRenderingContext2D, ents: Entity[], v: View) {
  const players = ents.filter((e) => e.kind === A.KIND_PLAYER)
    .sort((a, b) => field(a, A.P_TEAM) - field(b, A.P_TEAM) || field(b, A.P_ELIMS) - field(a, A.P_ELIMS));
  const w = 760, h = 110 + players.length * 40;
  const x = (A.WIDTH - w) / 2, y = (A.HEIGHT - h) / 2;
  const k = Math.min(v.ui, 1.9);
  ctx.save();
  ctx.translate(A.WIDTH / 2, A.HEIGHT / 2);
  ctx.scale(k, k);
  ctx.translate(-A.WIDTH / 2, -A.HEIGHT / 2);
  ctx.fillStyle = "rgba(10,12,18,0.9)";
  ctx.fillRect(x, y, w, h);
  ctx.strokeStyle = "#444";
  ctx.strokeRect(x, y, w, h);
  ctx.fillStyle = "#fff";
  ctx.font = "bold 28px sans-serif";
  ctx.textAlign = "left";
  ctx.fillText("Scoreboard", x + 30, y + 45);
  ctx.font = "18px sans-serif";
  ctx.fillStyle = "#999";
  const cols = [x + 30, x + 420, x + 540, x + 660];
  ["Player", "Elims", "Deaths", "Health"].forEach((t, i) => ctx.fillText(t, cols[i], y + 85));
  players.forEach((p, i) => {
    const ry = y + 125 + i * 40;
    if (p.id === v.self) { ctx.fillStyle = "rgba(80,140,160,0.25)"; ctx.fillRect(x + 10, ry - 28, w - 20, 38); }
    ctx.fillStyle = teamColor(field(p, A.P_TEAM));
    ctx.font = "22px sans-serif";
    ctx.fillText(clip(label(v, ents, p.id), 26), cols[0], ry);
    const away = v.names.get(p.id)?.away;
    if (away) {
      ctx.fillStyle = "#888";
      ctx.font = "16px sans-serif";
      ctx.fillText(away, cols[1] - 70, ry);
      ctx.font = "22px sans-serif";
    }
    ctx.fillStyle = "#eee";
    ctx.fillText(String(field(p, A.P_ELIMS)), cols[1], ry);
    ctx.fillText(String(field(p, A.P_DEATHS)), cols[2], ry);
    ctx.fillText(String(Math.max(0, field(p, A.P_HEALTH))), cols[3], ry);
  });
  ctx.restore();
}

// clip shortens text to n characters with an ellipsis.
function clip(text: string, n: number): string {
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

function teamOf(ents: readonly Entity[], id: number): number {
  const p = ents.find((e) => e.id === id);
  return p ? field(p, A.P_TEAM) : 0;
}
