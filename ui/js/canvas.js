// Drawing helpers shared by the canvas charts (charts.js) and the live training curves (live_curves.js):
// axes, ticks, lines, legends, the theme's colours. Joined before them into one module by ui/scripts.py.

// Streamlit's chart look, as st.plotly_chart draws the same figures once the run is paused or over: text and grid
// in the theme's text colour (faded), on its background; useTheme reads them (light or dark) at each draw.
const FONT = '12px "Source Sans", "Source Sans Pro", sans-serif';
let INK = "rgba(49, 51, 63, 0.7)", GRID = "rgba(49, 51, 63, 0.12)", PLOT_BG = "#ffffff";

function faded(ctx, color, alpha) {  // the canvas normalises a CSS colour to "#rrggbb" (or rgba(...) if it has alpha)
  ctx.fillStyle = color;
  const c = ctx.fillStyle;
  if (!c.startsWith("#")) return c;
  const n = parseInt(c.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function useTheme(ctx, canvas) {  // Streamlit sets --st-* properties on the element around a component
  const style = getComputedStyle(canvas);
  const text = style.getPropertyValue("--st-text-color").trim(), bg = style.getPropertyValue("--st-background-color").trim();
  if (text) { INK = faded(ctx, text, 0.7); GRID = faded(ctx, text, 0.12); }
  if (bg) PLOT_BG = bg;
}

function niceTicks(lo, hi, count) {  // round steps of 1, 2 or 5 times a power of ten
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function label(v) {
  const a = Math.abs(v);
  if (a >= 10000) return (v / 1000).toFixed(0) + "k";
  return a >= 100 || Number.isInteger(v) ? v.toFixed(0) : +v.toPrecision(3) + "";
}

function extent(series, pad = 0.06) {  // [low, high] of every finite value, with some room
  let lo = Infinity, hi = -Infinity;
  for (const s of series) for (const v of s) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) return [0, 1];
  const room = Math.max((hi - lo) * pad, Math.abs(hi) * 1e-3, 1e-6);
  return [lo - room, hi + room];
}

function scales(box, xr, yr) {
  return {box, px: (x) => box.x0 + (box.x1 - box.x0) * (x - xr[0]) / (xr[1] - xr[0]),
          py: (y) => box.y1 - (box.y1 - box.y0) * (y - yr[0]) / (yr[1] - yr[0])};
}

// The plot area, grid lines, tick labels and titles; the scales to draw in it.
function axes(ctx, box, xr, yr, opts = {}) {
  const map = scales(box, xr, yr), {x0, x1, y0, y1} = box;
  ctx.fillStyle = PLOT_BG; ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
  ctx.strokeStyle = GRID; ctx.lineWidth = 1; ctx.fillStyle = INK; ctx.font = FONT;
  if (opts.ticks !== false) {
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const t of opts.xTicks || niceTicks(xr[0], xr[1], 5).map((v) => [v, label(v)])) {
      ctx.beginPath(); ctx.moveTo(map.px(t[0]), y0); ctx.lineTo(map.px(t[0]), y1); ctx.stroke();
      ctx.fillText(t[1], map.px(t[0]), y1 + 4);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of opts.yTicks || niceTicks(yr[0], yr[1], 5).map((v) => [v, label(v)])) {
      ctx.beginPath(); ctx.moveTo(x0, map.py(t[0])); ctx.lineTo(x1, map.py(t[0])); ctx.stroke();
      ctx.fillText(t[1], x0 - 4, map.py(t[0]));
    }
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  if (opts.xTitle) ctx.fillText(opts.xTitle, (x0 + x1) / 2, y1 + 20);
  if (opts.yTitle) {
    ctx.save(); ctx.translate(x0 - 38, (y0 + y1) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "bottom"; ctx.fillText(opts.yTitle, 0, 0); ctx.restore();
  }
  if (opts.title) {
    ctx.font = FONT.replace("12px", "14px"); ctx.textBaseline = "bottom";
    ctx.fillText(opts.title, (x0 + x1) / 2, y0 - 8); ctx.font = FONT;
  }
  return map;
}

function polyline(ctx, map, xs, ys, color, opts = {}) {  // opts: dash, markers (diamonds), steps (hv)
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

// A horizontal legend in rows, like Plotly's below the plots. items: [name, color, dashed, diamond]. Returns the
// last row's y (measure first with draw = false, to know how much room it takes).
function legendRows(ctx, items, width, top, draw = true) {
  let x = 10, y = top;
  ctx.font = FONT;
  for (const [name, color, dashed, diamond] of items) {
    const w = 34 + ctx.measureText(name).width + 18;
    if (x + w > width) { x = 10; y += 20; }
    if (draw) {
      ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash(dashed ? [3, 3] : []);
      ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 28, y); ctx.stroke(); ctx.setLineDash([]);
      if (diamond) {
        ctx.fillStyle = color; ctx.beginPath();
        ctx.moveTo(x + 14, y - 4); ctx.lineTo(x + 18, y); ctx.lineTo(x + 14, y + 4); ctx.lineTo(x + 10, y); ctx.fill();
      }
      ctx.fillStyle = INK; ctx.textAlign = "left"; ctx.textBaseline = "middle"; ctx.fillText(name, x + 34, y);
    }
    x += w;
  }
  return y;
}

// A canvas filling the component's width (once per element), sized for the screen's pixel ratio at each draw.
function chartCanvas(parentElement, attribute, description) {
  let canvas = parentElement.querySelector(`canvas[${attribute}]`);
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.setAttribute(attribute, "");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", description);
    canvas.style.display = "block";
    const box = document.createElement("div");
    box.style.width = "100%";
    box.appendChild(canvas);
    parentElement.appendChild(box);
  }
  return canvas;
}

function startDrawing(canvas, height) {
  const width = canvas.parentElement.clientWidth || 600, dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  useTheme(ctx, canvas);
  ctx.font = FONT;
  return {ctx, width};
}

// Redraw whenever the element changes width; `draw` reads the newest data from the canvas.
function redrawOnResize(canvas, draw) {
  const observer = new ResizeObserver(() => draw());
  observer.observe(canvas.parentElement);
  return () => observer.disconnect();
}
