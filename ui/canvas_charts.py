"""Small charts drawn on a canvas in the browser, for the views that move while a run trains.

Plotly redraws a whole SVG figure at each update, axes and margins included: about 100 ms of Chromium's time per
small chart on a 2-core machine, on the CPU the training needs (BENCHMARKS.md section 8). A canvas draws the
same points in about a millisecond. These charts have no hover or zoom; the pages show the Plotly figure instead
once the run is paused or over. `CANVAS_JS` holds the drawing helpers that the live curves (ui/live_curves.py)
share with these charts.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import streamlit as st

from ui.figures import (
    ACTIVE_KL,
    BETA_COLOR,
    KL_COLORSCALE,
    MARKED_EPOCHS,
    POSTERIOR_TERMS,
    QUIET_CHART,
    kl_bar_colors,
    label_color,
)
from vae_core.maps import label_name

CANVAS_JS = r"""
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
"""

CHARTS_JS = CANVAS_JS + r"""
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
"""

_mount = st.components.v2.component("vae_explorer_canvas_chart", js=CHARTS_JS, isolate_styles=False)
KL_SCALE = plotly.colors.get_colorscale(KL_COLORSCALE)  # the stops of ui.figures.kl_heatmap's colour scale


def _floats(values, digits: int = 4) -> list:
    return np.round(np.asarray(values, dtype=float), digits).tolist()


def small_map_data(xy: np.ndarray, labels: np.ndarray, axis_names, class_names, x_range, y_range) -> dict:
    """ui.figures.small_map as canvas data: points with the index of their label's group, one colour per group."""
    groups, index = np.unique(labels, return_inverse=True)
    names = [label_name(class_names, g) for g in groups]
    return dict(kind="scatter", x=_floats(xy[:, 0]), y=_floats(xy[:, 1]), groups=index.tolist(), names=names,
                colors=[label_color(g) for g in groups], x_range=_floats(x_range), y_range=_floats(y_range),
                x_title=axis_names[0], y_title=axis_names[1], description="the latent map of this epoch")


def kl_bars_data(kl_per_dim: list[float]) -> dict:
    """ui.figures.kl_bars as canvas data."""
    return dict(kind="bars", values=_floats(kl_per_dim), names=[f"z{i + 1}" for i in range(len(kl_per_dim))],
                colors=kl_bar_colors(kl_per_dim), y_title="KL (nats)", floor=5 * ACTIVE_KL,
                description="KL per latent dimension")


def kl_heatmap_data(replay, current: int | None) -> dict:
    """ui.figures.kl_heatmap as canvas data: rows are dimensions (z1 at the top), columns epochs."""
    frames = replay.frames
    return dict(kind="heatmap", z=_floats(np.array([f.kl_per_dim for f in frames]).T), x=[f.epoch for f in frames],
                names=[f"z{d + 1}" for d in range(len(frames[0].kl_per_dim))], colorscale=KL_SCALE, x_title="epoch",
                marks=[frames[i].epoch - 0.5 for i in range(len(frames)) if replay.beta_changed(i)],
                mark_color=BETA_COLOR, outline=None if current is None else frames[current].epoch,
                description="KL per dimension over the epochs")


def posterior_terms_data(epochs: list[dict]) -> dict:
    """ui.figures.posterior_terms as canvas data."""
    done = [e for e in epochs if "mutual_info" in e]
    return dict(kind="lines", x=[e["epoch"] for e in done], x_title="epoch", y_title="nats",
                series=[dict(name=name, y=_floats([e[key] for e in done]), color=color)
                        for key, name, color in POSTERIOR_TERMS],
                markers=len(done) <= MARKED_EPOCHS, description="the average KL split up, per epoch")


def canvas_chart(data: dict, key: str, height: int = 260) -> None:
    """Draw one of the *_data charts above on a canvas."""
    _mount(data=dict(data, height=height), key=key, width="stretch")


def live_or_figure(live: bool, key: str, canvas_data: Callable[[], dict], figure: Callable[[], go.Figure],
                   height: int = 260) -> None:
    """While a run trains (live), the chart on a canvas; otherwise Plotly's figure, with hover and zoom."""
    if live:
        canvas_chart(canvas_data(), key=f"{key}_live", height=height)
    else:
        st.plotly_chart(figure(), key=key, config=QUIET_CHART)
