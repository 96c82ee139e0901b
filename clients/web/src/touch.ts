// Touch controls for phones: a virtual stick on the left moves, a fire
// stick on the right aims and fires while held. They appear on the first
// touch and report the same input as the keyboard and mouse.

export interface TouchInput { moveX: number; moveY: number; aim?: number; fire: boolean }

interface Stick { el: HTMLElement; knob: HTMLElement; pointer?: number; cx: number; cy: number; dx: number; dy: number }

const RADIUS = 50; // CSS pixels the knob travels
const DEAD = 0.2;

export class TouchControls {
  private move: Stick;
  private fire: Stick;
  active = false;

  constructor(root: HTMLElement) {
    this.move = this.stick(root.querySelector<HTMLElement>("#stick-move")!);
    this.fire = this.stick(root.querySelector<HTMLElement>("#stick-fire")!);
    const on = () => { this.active = true; document.body.classList.add("touch"); };
    if (matchMedia("(pointer: coarse)").matches) on();
    addEventListener("touchstart", on, { once: true, passive: true });
  }

  private stick(el: HTMLElement): Stick {
    const s: Stick = { el, knob: el.querySelector<HTMLElement>(".knob")!, cx: 0, cy: 0, dx: 0, dy: 0 };
    el.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      try { el.setPointerCapture(e.pointerId); } catch { /* a synthetic pointer has nothing to capture */ }
      const r = el.getBoundingClientRect();
      s.pointer = e.pointerId; s.cx = r.left + r.width / 2; s.cy = r.top + r.height / 2;
      this.moveKnob(s, e.clientX, e.clientY);
    });
    el.addEventListener("pointermove", (e) => { if (e.pointerId === s.pointer) this.moveKnob(s, e.clientX, e.clientY); });
    const release = (e: PointerEvent) => {
      if (e.pointerId !== s.pointer) return;
      s.pointer = undefined; s.dx = 0; s.dy = 0;
      s.knob.style.transform = "";
      el.classList.remove("held");
    };
    el.addEventListener("pointerup", release);
    el.addEventListener("pointercancel", release);
    return s;
  }

  private moveKnob(s: Stick, x: number, y: number) {
    let dx = (x - s.cx) / RADIUS, dy = (y - s.cy) / RADIUS;
    const l = Math.hypot(dx, dy);
    if (l > 1) { dx /= l; dy /= l; }
    s.dx = dx; s.dy = dy;
    s.knob.style.transform = `translate(${dx * RADIUS}px, ${dy * RADIUS}px)`;
    s.el.classList.add("held");
  }

  // read returns the sticks' input: move in [-1, 1] each way (nothing in
  // the dead zone), and the fire stick's angle while it is held.
  read(): TouchInput {
    const m = this.move, f = this.fire;
    const moving = Math.hypot(m.dx, m.dy) > DEAD;
    const firing = f.pointer !== undefined;
    const aimed = Math.hypot(f.dx, f.dy) > DEAD;
    return {
      moveX: moving ? m.dx : 0,
      moveY: moving ? m.dy : 0,
      aim: firing && aimed ? Math.atan2(f.dy, f.dx) : undefined,
      fire: firing,
    };
  }
}
