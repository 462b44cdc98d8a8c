"""The training curves while a run trains: drawn on a canvas in the browser, sent only the points it lacks.

Plotly redraws its whole SVG figure on every update (every tick label measured again, the margins worked out
again), and twice a second that took about a quarter of a core in Chromium: CPU the training process
needed (BENCHMARKS.md section 8). This chart keeps the points it was sent in the page (`window.__vaeCurves`,
per run) and is sent only the new ones; redrawing a canvas of a few thousand points takes about a millisecond.
It draws what `ui.figures.training_curves` draws, in the same colours.
While a run is paused or over, the page shows that Plotly figure instead, with its hover and zoom.

If the page ever lacks points the server thinks it sent (it reports what it has), the server sends again from there.
"""
import streamlit as st

from ui.figures import BETA_COLOR, MARKED_EPOCHS, MAX_BETA_LABELS

HEIGHT = 380  # px, as the Plotly figure

DRAWING_JS = r"""
const COLOR = {recon: "#1f77b4", loss: "#444444", kl: "#d62728", bkl: "#ff9896", beta: BETA_COLOR};
const FONT = '12px "Open Sans", verdana, arial, sans-serif', INK = "#2a3f5f", PLOT_BG = "#E5ECF6";
const LEGEND = [["recon", COLOR.recon, "line"], ["loss = recon + β·KL", COLOR.loss, "line"],
  ["KL", COLOR.kl, "line"], ["β·KL", COLOR.bkl, "line"], ["test recon", COLOR.recon, "epoch"],
  ["test −ELBO", COLOR.loss, "epoch"], ["test KL", COLOR.kl, "epoch"], ["β in force", COLOR.beta, "line"]];

function niceTicks(lo, hi, count) {  // round steps of 1, 2 or 5 times a power of ten
  const raw = (hi - lo) / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function label(v) {
  const a = Math.abs(v);
  return a >= 10000 ? (v / 1000).toFixed(0) + "k" : a >= 100 || Number.isInteger(v) ? v.toFixed(0) : +v.toPrecision(3) + "";
}

function yRange(series) {
  let lo = Infinity, hi = -Infinity;
  for (const s of series) for (const v of s) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) return [0, 1];
  const pad = Math.max((hi - lo) * 0.06, Math.abs(hi) * 1e-3, 1e-6);
  return [lo - pad, hi + pad];
}

function panel(ctx, box, xMax, yr, ticks, title) {
  const {x0, x1, y0, y1} = box;
  ctx.fillStyle = PLOT_BG; ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
  const px = (x) => x0 + (x1 - x0) * x / xMax, py = (y) => y1 - (y1 - y0) * (y - yr[0]) / (yr[1] - yr[0]);
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.fillStyle = INK; ctx.font = FONT;
  if (ticks) {
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const t of niceTicks(0, xMax, 5)) {
      ctx.beginPath(); ctx.moveTo(px(t), y0); ctx.lineTo(px(t), y1); ctx.stroke(); ctx.fillText(label(t), px(t), y1 + 4);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of niceTicks(yr[0], yr[1], 5)) {
      ctx.beginPath(); ctx.moveTo(x0, py(t)); ctx.lineTo(x1, py(t)); ctx.stroke(); ctx.fillText(label(t), x0 - 4, py(t));
    }
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top"; ctx.fillText("step", (x0 + x1) / 2, y1 + 20);
  ctx.font = '13px "Open Sans", verdana, arial, sans-serif'; ctx.textBaseline = "bottom";
  ctx.fillText(title, (x0 + x1) / 2, y0 - 8);
  ctx.font = FONT;
  return {px, py};
}

function line(ctx, map, xs, ys, color, opts = {}) {
  if (!xs.length) return;
  ctx.save();
  ctx.beginPath(); ctx.rect(map.box.x0, map.box.y0, map.box.x1 - map.box.x0, map.box.y1 - map.box.y0); ctx.clip();
  ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash(opts.dash ? [3, 3] : []);
  ctx.beginPath();
  xs.forEach((x, i) => {
    const X = map.px(x), Y = map.py(ys[i]);
    if (i === 0) ctx.moveTo(X, Y);
    else if (opts.steps) { ctx.lineTo(X, map.py(ys[i - 1])); ctx.lineTo(X, Y); }
    else ctx.lineTo(X, Y);
  });
  ctx.stroke();
  if (opts.markers) {
    ctx.fillStyle = color;
    xs.forEach((x, i) => {
      const X = map.px(x), Y = map.py(ys[i]);
      ctx.beginPath(); ctx.moveTo(X, Y - 4); ctx.lineTo(X + 4, Y); ctx.lineTo(X, Y + 4); ctx.lineTo(X - 4, Y); ctx.fill();
    });
  }
  ctx.restore();
}

function legend(ctx, width, top) {  // in rows, like Plotly's horizontal legend below the plots
  let x = 10, y = top;
  for (const [name, color, kind] of LEGEND) {
    const w = 34 + ctx.measureText(name).width + 18;
    if (x + w > width) { x = 10; y += 20; }
    ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash(kind === "epoch" ? [3, 3] : []);
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 28, y); ctx.stroke(); ctx.setLineDash([]);
    if (kind === "epoch") {
      ctx.fillStyle = color; ctx.beginPath();
      ctx.moveTo(x + 14, y - 4); ctx.lineTo(x + 18, y); ctx.lineTo(x + 14, y + 4); ctx.lineTo(x + 10, y); ctx.fill();
    }
    ctx.fillStyle = INK; ctx.textAlign = "left"; ctx.textBaseline = "middle"; ctx.fillText(name, x + 34, y);
    x += w;
  }
  return y;
}

function draw(canvas, run) {
  const width = canvas.parentElement.clientWidth || 800, dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(HEIGHT * dpr)) {
    canvas.width = Math.round(width * dpr); canvas.height = Math.round(HEIGHT * dpr);
    canvas.style.width = width + "px"; canvas.style.height = HEIGHT + "px";
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, HEIGHT);
  ctx.font = FONT;
  const rows = legend(ctx, width, -1000) + 1000;  // measured first: the plots end above however many rows it takes
  const bottom = HEIGHT - 44 - rows - 16;
  const steps = run.steps, epochs = run.epochs, ticks = steps.length > 0;
  const col = (rows, i) => rows.map((r) => r[i]);
  const x = col(steps, 0), ex = col(epochs, 0), xMax = Math.max(x[x.length - 1] || 0, 1);  // as Plotly: the steps so far
  const recon = col(steps, 1), loss = col(steps, 2), kl = col(steps, 3), beta = col(steps, 4);
  const bkl = steps.map((s) => s[4] * s[3]);
  const left = {x0: 50, x1: width * 0.46, y0: 34, y1: bottom};
  const right = {x0: width * 0.54 + 44, x1: width - 44, y0: 34, y1: bottom};
  const lr = yRange([recon, loss, col(epochs, 1), col(epochs, 2)]), rr = yRange([kl, bkl, col(epochs, 3)]);
  const leftTitle = `reconstruction (${run.likelihood}) and loss (nats/image)`;
  const L = Object.assign(panel(ctx, left, xMax, lr, ticks, leftTitle), {box: left});
  const R = Object.assign(panel(ctx, right, xMax, rr, ticks, "KL term (nats/image)"), {box: right});
  const marked = epochs.length <= MARKED_EPOCHS;
  line(ctx, L, x, recon, COLOR.recon); line(ctx, L, x, loss, COLOR.loss);
  line(ctx, L, ex, col(epochs, 1), COLOR.recon, {dash: true, markers: marked});
  line(ctx, L, ex, col(epochs, 2), COLOR.loss, {dash: true, markers: marked});
  line(ctx, R, x, kl, COLOR.kl); line(ctx, R, x, bkl, COLOR.bkl);
  line(ctx, R, ex, col(epochs, 3), COLOR.kl, {dash: true, markers: marked});
  const betaTop = 1.25 * Math.max(1e-3, ...beta);  // β on its own axis, at the right
  const B = {box: right, px: R.px, py: (v) => right.y1 - (right.y1 - right.y0) * v / betaTop};
  line(ctx, B, x, beta, COLOR.beta, {steps: true});
  ctx.fillStyle = COLOR.beta; ctx.textAlign = "left"; ctx.textBaseline = "middle";
  if (ticks) for (const t of niceTicks(0, betaTop, 3)) ctx.fillText(label(t), right.x1 + 4, B.py(t));
  ctx.textBaseline = "bottom"; ctx.fillText("β", right.x1 + 26, right.y0 - 8);
  ctx.strokeStyle = COLOR.beta; ctx.lineWidth = 1; ctx.setLineDash([2, 3]);  // where β was changed by hand
  run.betaChanges.forEach(([step, value], i) => {
    for (const M of [L, R]) {
      ctx.beginPath(); ctx.moveTo(M.px(step), M.box.y0); ctx.lineTo(M.px(step), M.box.y1); ctx.stroke();
    }
    if (i >= run.betaChanges.length - MAX_BETA_LABELS) {  // labels for the last few only, as the figure
      ctx.textAlign = "center"; ctx.fillText(`β→${+value.toPrecision(3)}`, R.px(step), right.y0 - 22);
    }
  });
  ctx.setLineDash([]);
  legend(ctx, width, bottom + 44 + 8);
  canvas.dataset.steps = steps.length; canvas.dataset.epochs = epochs.length; canvas.dataset.betaMarks = run.betaChanges.length;
}

export default function (component) {
  const {data, parentElement, setStateValue} = component;
  const store = window.__vaeCurves || (window.__vaeCurves = {});
  const run = store[data.run] || (store[data.run] = {steps: [], epochs: []});
  if (data.from_step > run.steps.length || data.from_epoch > run.epochs.length) {  // points it never got: ask again
    setStateValue("have", {run: data.run, steps: run.steps.length, epochs: run.epochs.length, at: Date.now()});
  } else {  // new points (or again some it has: the same run's points are the same, keep one copy)
    run.steps.length = data.from_step; run.steps.push(...data.steps);
    run.epochs.length = data.from_epoch; run.epochs.push(...data.epochs);
  }
  Object.assign(run, {betaChanges: data.beta_changes, likelihood: data.likelihood});
  let canvas = parentElement.querySelector("canvas[data-vae-curves]");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.dataset.vaeCurves = "";
    canvas.style.display = "block";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "training curves: reconstruction, loss, KL and β per step");
    const box = document.createElement("div");
    box.style.width = "100%";
    box.appendChild(canvas);
    parentElement.appendChild(box);
  }
  canvas.__run = run;
  draw(canvas, run);
  const resized = new ResizeObserver(() => draw(canvas, canvas.__run));
  resized.observe(canvas.parentElement);
  return () => resized.disconnect();
}
"""
# the figure's own constants, so the canvas and ui.figures.training_curves draw alike
LIVE_CURVES_JS = (f'const BETA_COLOR = "{BETA_COLOR}", MARKED_EPOCHS = {MARKED_EPOCHS}, '
                  f'MAX_BETA_LABELS = {MAX_BETA_LABELS}, HEIGHT = {HEIGHT};\n' + DRAWING_JS)

_mount = st.components.v2.component("vae_explorer_live_curves", js=LIVE_CURVES_JS, isolate_styles=False)


def curve_rows(events: list[dict], from_step: int = 0, from_epoch: int = 0) -> tuple[list, list]:
    """The step rows [step, recon, loss, KL, β] and epoch rows [step, test recon, test −ELBO, test KL] from the
    given positions on: what the browser does not have yet."""
    steps = [e for e in events if e["type"] == "step"][from_step:]
    epochs = [e for e in events if e["type"] == "epoch"][from_epoch:]
    return ([[e["step"], e["recon"], e["loss"], e["kl"], e["beta"]] for e in steps],
            [[e["step"], e["test_recon"], e["test_loss"], e["test_kl"]] for e in epochs])


def _sent_key(key: str) -> str:
    return f"{key}_sent"


def _resend_from_what_it_has(key: str) -> None:
    have = (st.session_state.get(key) or {}).get("have") or {}
    st.session_state[_sent_key(key)] = (int(have.get("steps", 0)), int(have.get("epochs", 0)))


def live_curves(run_id: str, events: list[dict], beta_changes: list, likelihood: str) -> None:
    """Mount (or update) the canvas chart of one run, sending it the points since the last update."""
    key = f"live_curves_{run_id}"
    from_step, from_epoch = st.session_state.get(_sent_key(key), (0, 0))
    steps, epochs = curve_rows(events, from_step, from_epoch)
    _mount(data=dict(run=run_id, from_step=from_step, steps=steps, from_epoch=from_epoch, epochs=epochs,
                     beta_changes=[[int(s), float(b)] for s, b in beta_changes], likelihood=likelihood),
           key=key, on_have_change=lambda: _resend_from_what_it_has(key), width="stretch")
    st.session_state[_sent_key(key)] = (from_step + len(steps), from_epoch + len(epochs))
