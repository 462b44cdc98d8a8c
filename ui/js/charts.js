// The small canvas charts of a run that trains (ui/canvas_charts.py): scatter, bars, heatmap, lines.
// Runs after canvas.js, in the same module.

function scatter(ctx, width, d) {
  const names = d.names, legendWidth = 24 + Math.max(...names.map((n) => ctx.measureText(n).width));
  const box = {x0: 56, x1: width - legendWidth - 16, y0: 10, y1: d.height - 40};
  const map = axes(ctx, box, d.x_range, d.y_range, {xTitle: d.x_title, yTitle: d.y_title});
  ctx.save(); ctx.beginPath(); ctx.rect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0); ctx.clip();
  d.x.forEach((x, i) => {
    ctx.fillStyle = d.colors[d.groups[i]];
    ctx.beginPath(); ctx.arc(map.px(x), map.py(d.y[i]), 2, 0, 2 * Math.PI); ctx.fill();
  });
  ctx.restore();
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  names.forEach((name, g) => {
    const y = box.y0 + 8 + 18 * g;
    ctx.fillStyle = d.colors[g]; ctx.beginPath(); ctx.arc(box.x1 + 20, y, 4, 0, 2 * Math.PI); ctx.fill();
    ctx.fillStyle = INK; ctx.fillText(name, box.x1 + 30, y);
  });
}

function bars(ctx, width, d) {
  const box = {x0: 56, x1: width - 10, y0: 10, y1: d.height - 30}, n = d.values.length;
  const top = Math.max(d.floor, ...d.values) * 1.08;  // all collapsed: bars near 0 on a readable axis
  const every = Math.max(1, Math.ceil(n * 28 / (box.x1 - box.x0)));  // a label every k bars when crowded
  const xTicks = d.names.map((name, i) => [i, name]).filter((_, i) => i % every === 0);
  const map = axes(ctx, box, [-0.5, n - 0.5], [0, top], {yTitle: d.y_title, xTicks});
  const w = 0.8 * (box.x1 - box.x0) / n;
  d.values.forEach((v, i) => {
    ctx.fillStyle = d.colors[i]; ctx.fillRect(map.px(i) - w / 2, map.py(v), w, map.py(0) - map.py(v));
  });
}

function shade(scale, t) {  // the colour at t in [0, 1] of a [[stop, "rgb(r,g,b)"], ...] colour scale
  const rgb = (s) => s.match(/\d+/g).map(Number);
  let k = 1;
  while (k < scale.length - 1 && scale[k][0] < t) k++;
  const [s0, c0] = scale[k - 1], [s1, c1] = scale[k], f = Math.min(1, Math.max(0, (t - s0) / (s1 - s0 || 1)));
  const a = rgb(c0), b = rgb(c1);
  return `rgb(${a.map((v, i) => Math.round(v + f * (b[i] - v))).join(",")})`;
}

function heatmap(ctx, width, d) {
  const rows = d.z.length, cols = d.x.length, box = {x0: 44, x1: width - 60, y0: 10, y1: d.height - 40};
  const hi = Math.max(1e-9, ...d.z.flat()), ex = [d.x[0] - 0.5, d.x[cols - 1] + 0.5];
  const yTicks = d.names.map((name, r) => [rows - 1 - r, name]).filter((_, r) => r % Math.ceil(rows / 12) === 0);
  const map = axes(ctx, box, ex, [-0.5, rows - 0.5], {xTitle: d.x_title, yTicks});
  const cw = (box.x1 - box.x0) / cols, rh = (box.y1 - box.y0) / rows;
  d.z.forEach((row, r) => row.forEach((v, c) => {
    ctx.fillStyle = shade(d.colorscale, v / hi);
    ctx.fillRect(box.x0 + c * cw, box.y0 + r * rh, Math.ceil(cw), Math.ceil(rh));
  }));
  ctx.strokeStyle = d.mark_color; ctx.lineWidth = 1.5; ctx.setLineDash([2, 3]);
  for (const x of d.marks) { ctx.beginPath(); ctx.moveTo(map.px(x), box.y0); ctx.lineTo(map.px(x), box.y1); ctx.stroke(); }
  ctx.setLineDash([]);
  if (d.outline !== null) {
    ctx.strokeStyle = "black"; ctx.lineWidth = 2;
    ctx.strokeRect(map.px(d.outline - 0.5), box.y0, map.px(d.outline + 0.5) - map.px(d.outline - 0.5), box.y1 - box.y0);
  }
  for (let i = 0; i < 40; i++) {  // the colour bar, with its range in nats
    ctx.fillStyle = shade(d.colorscale, 1 - i / 39);
    ctx.fillRect(box.x1 + 14, box.y0 + i * (box.y1 - box.y0) / 40, 12, Math.ceil((box.y1 - box.y0) / 40));
  }
  ctx.fillStyle = INK; ctx.textAlign = "left"; ctx.textBaseline = "middle";
  ctx.fillText(label(hi), box.x1 + 30, box.y0 + 4); ctx.fillText("0", box.x1 + 30, box.y1 - 4);
}

function lines(ctx, width, d) {
  const items = d.series.map((s) => [s.name, s.color, false]);
  const rows = legendRows(ctx, items, width, -1000, false) + 1000;
  const box = {x0: 56, x1: width - 10, y0: 10, y1: d.height - 54 - rows};
  const map = axes(ctx, box, extent([d.x], 0.03), extent(d.series.map((s) => s.y)), {xTitle: d.x_title, yTitle: d.y_title});
  for (const s of d.series) polyline(ctx, map, d.x, s.y, s.color, {markers: d.markers});
  legendRows(ctx, items, width, box.y1 + 44);
}

const KINDS = {scatter, bars, heatmap, lines};

export default function (component) {
  const {data, parentElement} = component;
  const canvas = chartCanvas(parentElement, "data-vae-chart", data.description);
  canvas.__data = data;
  const draw = () => {
    const d = canvas.__data, {ctx, width} = startDrawing(canvas, d.height);
    KINDS[d.kind](ctx, width, d);
    canvas.dataset.kind = d.kind; canvas.dataset.points = d.kind === "scatter" ? d.x.length : "";
  };
  draw();
  return redrawOnResize(canvas, draw);
}
