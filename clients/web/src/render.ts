// Canvas rendering of Arena: walls, players (the own one at its predicted
// position), projectiles and the match clock and scores.
import * as A from "./arena";
import { field } from "./world";
import type { Entity, World } from "./world";

const TEAM_COLORS = ["#e6e6e6", "#4aa3ff", "#ff5c5c", "#5cd65c", "#ffc94a", "#c77dff", "#4ad9d9", "#ff8fd1", "#b3b3b3"];

export function draw(ctx: CanvasRenderingContext2D, ents: Entity[], self: number, me: { x: number; y: number } | undefined, tickMs: number, newest?: World) {
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
    ctx.fillStyle = TEAM_COLORS[teamOf(ents, field(e, A.S_OWNER)) % TEAM_COLORS.length];
    ctx.beginPath();
    ctx.arc(field(e, A.S_X) / 10, field(e, A.S_Y) / 10, A.PROJECTILE_RADIUS + 1, 0, Math.PI * 2);
    ctx.fill();
  }
  for (const e of ents) {
    if (e.kind !== A.KIND_PLAYER) continue;
    const dead = field(e, A.P_HEALTH) <= 0;
    let x = field(e, A.P_X) / 10, y = field(e, A.P_Y) / 10;
    if (e.id === self && me && !dead) ({ x, y } = me);
    const color = TEAM_COLORS[field(e, A.P_TEAM) % TEAM_COLORS.length];
    ctx.globalAlpha = dead ? 0.25 : 1;
    ctx.fillStyle = color;
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
    ctx.fillStyle = "#3d3";
    ctx.fillRect(x - 22, y - 34, (44 * field(e, A.P_HEALTH)) / A.MAX_HEALTH, 6);
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#ddd";
    ctx.font = "16px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(e.id === self ? "you" : `P${e.id - 1}`, x, y + 40);
  }

  const m = ents.find((e) => e.kind === A.KIND_MATCH) ?? newest?.entities.get(1);
  if (m) {
    const left = Math.max(0, (field(m, A.M_END_TICK) - (newest?.tick ?? 0)) * tickMs) / 1000;
    const scores = m.fields.slice(A.M_SCORES).map((s, i) => `T${i + 1} ${s}`).join("   ");
    ctx.fillStyle = "#fff";
    ctx.font = "bold 28px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(`${Math.floor(left / 60)}:${String(Math.floor(left % 60)).padStart(2, "0")}   ${scores}   (to ${field(m, A.M_SCORE_LIMIT)})`, A.WIDTH / 2, 36);
  }
}

function teamOf(ents: Entity[], id: number): number {
  const p = ents.find((e) => e.id === id);
  return p ? field(p, A.P_TEAM) : 0;
}
