"""The training curves while a run trains: drawn on a canvas in the browser, sent only the points it lacks.

Plotly redraws its whole SVG figure on every update (every tick label measured again, the margins worked out
again), and twice a second that took about a quarter of a core in Chromium: CPU the training process
needed (BENCHMARKS.md section 8). This chart keeps the points it was sent in the page (`window.__vaeCurves`,
per run) and is sent only the new ones; redrawing a canvas of a few thousand points takes about a millisecond.
It draws what `ui.figures.training_curves` draws, in the same colours.
While a run is paused or over, the page shows that Plotly figure instead, with its hover and zoom.

If the page ever lacks points the server thinks it sent (it reports what it has), the server sends again from there.
"""
import json

import streamlit as st

from ui.canvas_charts import CANVAS_JS
from ui.figures import BETA_COLOR, CURVE_COLORS, MARKED_EPOCHS, MAX_BETA_LABELS

HEIGHT = 380  # px, as the Plotly figure

DRAWING_JS = r"""
const COLOR = Object.assign({beta: BETA_COLOR}, CURVE_COLORS);
const LEGEND = [["recon", COLOR.recon], ["loss = recon + β·KL", COLOR.loss], ["KL", COLOR.kl], ["β·KL", COLOR.beta_kl],
  ["test recon", COLOR.recon, true, true], ["test −ELBO", COLOR.loss, true, true], ["test KL", COLOR.kl, true, true],
  ["β in force", COLOR.beta]];

function draw(canvas, run) {
  const {ctx, width} = startDrawing(canvas, HEIGHT);
  const rows = legendRows(ctx, LEGEND, width, -1000, false) + 1000;  // the plots end above however many it takes
  const bottom = HEIGHT - 60 - rows;
  const steps = run.steps, epochs = run.epochs, ticks = steps.length > 0;
  const col = (rows, i) => rows.map((r) => r[i]);
  const x = col(steps, 0), ex = col(epochs, 0), xr = [0, Math.max(x[x.length - 1] || 0, 1)];  // as Plotly: so far
  const recon = col(steps, 1), loss = col(steps, 2), kl = col(steps, 3), beta = col(steps, 4);
  const bkl = steps.map((s) => s[4] * s[3]);
  const left = {x0: 50, x1: width * 0.46, y0: 34, y1: bottom};
  const right = {x0: width * 0.54 + 44, x1: width - 44, y0: 34, y1: bottom};
  const L = axes(ctx, left, xr, extent([recon, loss, col(epochs, 1), col(epochs, 2)]),
                 {ticks, xTitle: "step", title: `reconstruction (${run.likelihood}) and loss (nats/image)`});
  const R = axes(ctx, right, xr, extent([kl, bkl, col(epochs, 3)]), {ticks, xTitle: "step", title: "KL term (nats/image)"});
  const marked = {dash: true, markers: epochs.length <= MARKED_EPOCHS};
  polyline(ctx, L, x, recon, COLOR.recon); polyline(ctx, L, x, loss, COLOR.loss);
  polyline(ctx, L, ex, col(epochs, 1), COLOR.recon, marked); polyline(ctx, L, ex, col(epochs, 2), COLOR.loss, marked);
  polyline(ctx, R, x, kl, COLOR.kl); polyline(ctx, R, x, bkl, COLOR.beta_kl);
  polyline(ctx, R, ex, col(epochs, 3), COLOR.kl, marked);
  const betaTop = 1.25 * Math.max(1e-3, ...beta);  // β on its own axis, at the right
  const B = scales(right, xr, [0, betaTop]);
  polyline(ctx, B, x, beta, COLOR.beta, {steps: true});
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
  legendRows(ctx, LEGEND, width, bottom + 52);
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
  const canvas = chartCanvas(parentElement, "data-vae-curves", "training curves: reconstruction, loss, KL and β per step");
  canvas.__run = run;
  draw(canvas, run);
  return redrawOnResize(canvas, () => draw(canvas, canvas.__run));
}
"""
# the figure's own constants, so the canvas and ui.figures.training_curves draw alike
LIVE_CURVES_JS = (f'const BETA_COLOR = "{BETA_COLOR}", CURVE_COLORS = {json.dumps(CURVE_COLORS)}, '
                  f'MARKED_EPOCHS = {MARKED_EPOCHS}, MAX_BETA_LABELS = {MAX_BETA_LABELS}, HEIGHT = {HEIGHT};\n'
                  + CANVAS_JS + DRAWING_JS)

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
