// The live training curves (ui/live_curves.py), drawn as ui.figures.training_curves draws them. Runs after
// canvas.js, in the same module, and after the constants the Python side shares: BETA_COLOR, CURVE_COLORS,
// MARKED_EPOCHS, MAX_BETA_LABELS, HEIGHT.

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
                 {ticks, xTitle: "step", title: "recon and loss, nats/image"});
  const R = axes(ctx, right, xr, extent([kl, bkl, col(epochs, 3)]), {ticks, xTitle: "step", title: "KL, nats/image"});
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
  Object.assign(run, {betaChanges: data.beta_changes});
  const canvas = chartCanvas(parentElement, "data-vae-curves", "training curves: reconstruction, loss, KL and β per step");
  canvas.__run = run;
  draw(canvas, run);
  return redrawOnResize(canvas, () => draw(canvas, canvas.__run));
}
