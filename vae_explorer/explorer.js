// The Explorer widget's front end (vae_explorer/explorer.py), joined after the app's canvas.js (axes, legends,
// startDrawing). The app's map is a Plotly chart inside Streamlit and its hover and click scripts (ui/js/hover.js,
// selection.js) find that chart in Streamlit's page; a notebook has neither, so the map here is a canvas drawn with
// the app's helpers. Everything that needs the model or the map's geometry happens in the kernel: a click, box or
// lasso is set as the `request` trait, in map coordinates, and the kernel answers through the other synced traits.
// Only hover stays here: it shows the tile of the sprite (decoded once in the kernel) at the grid node nearest the
// cursor, the rule of vae_core.analysis.latent.grid_node.

const MAP_HEIGHT = 420;  // CSS pixels
const LEGEND_WIDTH = 120;
const CLICK_SLOP_PX = 5;  // a press and release closer than this is a click; farther, a box (or with Shift, a lasso)
const TILE_SIDE = 104;  // the hover preview's size, as the app's

function mapBox(width) {
  return {x0: 56, x1: Math.max(120, width - LEGEND_WIDTH), y0: 10, y1: MAP_HEIGHT - 40};
}

function toMap(view, px, py) {  // canvas pixels -> map coordinates, the inverse of canvas.js's scales
  const {box, xr, yr} = view;
  return {x: xr[0] + (px - box.x0) / (box.x1 - box.x0) * (xr[1] - xr[0]),
          y: yr[0] + (box.y1 - py) / (box.y1 - box.y0) * (yr[1] - yr[0])};
}

function drawMap(view, model) {
  const canvas = view.base, p = model.get("points"), colors = model.get("colors"), names = model.get("names");
  const {ctx, width} = startDrawing(canvas, MAP_HEIGHT);
  const [xTitle, yTitle] = model.get("axis_names");
  view.box = mapBox(width); view.xr = model.get("x_range"); view.yr = model.get("y_range");
  view.scale = axes(ctx, view.box, view.xr, view.yr, {xTitle, yTitle});
  const {box} = view, px = view.scale.px, py = view.scale.py;
  ctx.save(); ctx.beginPath(); ctx.rect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0); ctx.clip();
  for (let i = 0; i < p.x.length; i++) {
    ctx.fillStyle = colors[p.labels[i] % colors.length];
    ctx.fillRect(px(p.x[i]) - 1.5, py(p.y[i]) - 1.5, 3, 3);
  }
  ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
  for (const i of model.get("selected")) {
    ctx.beginPath(); ctx.arc(px(p.x[i]), py(p.y[i]), 3.5, 0, 2 * Math.PI); ctx.stroke();
  }
  ctx.restore();
  const present = [...new Set(p.labels)].sort((a, b) => a - b).slice(0, 20);
  ctx.textAlign = "left"; ctx.textBaseline = "middle";
  present.forEach((label, row) => {
    const y = box.y0 + 8 + 18 * row;
    ctx.fillStyle = colors[label % colors.length]; ctx.beginPath(); ctx.arc(box.x1 + 20, y, 4, 0, 2 * Math.PI); ctx.fill();
    ctx.fillStyle = INK; ctx.fillText(label < names.length ? names[label] : String(label), box.x1 + 30, y);
  });
  canvas.dataset.points = p.x.length;
  drawOverlay(view, model);
}

// The top canvas: the clicked spot's cross and the box or lasso being dragged, redrawn without the points.
function drawOverlay(view, model, drag = null) {
  const canvas = view.top, dpr = window.devicePixelRatio || 1;
  canvas.width = view.base.width; canvas.height = view.base.height;
  canvas.style.width = view.base.style.width; canvas.style.height = view.base.style.height;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const clicked = model.get("clicked");
  if (clicked && clicked.x !== undefined && view.scale) {
    const X = view.scale.px(clicked.x), Y = view.scale.py(clicked.y);
    ctx.strokeStyle = "#d62728"; ctx.lineWidth = 2; ctx.beginPath();
    ctx.moveTo(X - 6, Y); ctx.lineTo(X + 6, Y); ctx.moveTo(X, Y - 6); ctx.lineTo(X, Y + 6); ctx.stroke();
  }
  if (drag && drag.path.length > 1) {
    ctx.strokeStyle = "rgba(0, 0, 0, 0.6)"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1; ctx.beginPath();
    if (drag.lasso) drag.path.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    else {
      const [a, b] = [drag.path[0], drag.path[drag.path.length - 1]];
      ctx.rect(a[0], a[1], b[0] - a[0], b[1] - a[1]);
    }
    ctx.closePath(); ctx.stroke();
  }
}

function drawImages(panel, model) {
  panel.replaceChildren();
  const images = model.get("images"), clicked = model.get("clicked");
  for (const [caption, url] of Object.entries(images)) {
    const figure = document.createElement("figure");
    figure.style.cssText = "margin:0;display:inline-block;text-align:center";
    const img = document.createElement("img");
    img.src = url;
    img.style.cssText = "width:128px;height:128px;image-rendering:pixelated;border:1px solid #ccc";
    const text = document.createElement("figcaption");
    text.textContent = caption;  // plain text: captions are the kernel's, but never parsed as HTML
    text.style.cssText = "font-size:12px;opacity:0.7";
    figure.append(img, text);
    panel.appendChild(figure);
  }
  if (clicked && clicked.x !== undefined) panel.dataset.vaeDecoded = `${clicked.x},${clicked.y}`;
}

function hoverTile(view, model, at) {  // the sprite's tile at the grid node nearest `at`, drawn in the preview
  const g = model.get("hover");
  if (!g || !g.sprite || !view.sprite.complete) return false;
  const j = Math.round((at.x - g.x_range[0]) / (g.x_range[1] - g.x_range[0]) * (g.n - 1));
  const i = Math.round((g.y_range[1] - at.y) / (g.y_range[1] - g.y_range[0]) * (g.n - 1));
  if (i < 0 || j < 0 || i >= g.n || j >= g.n) return false;
  const [h, w] = g.tile, ctx = view.preview.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, TILE_SIDE, TILE_SIDE);
  ctx.drawImage(view.sprite, j * w, i * h, w, h, 0, 0, TILE_SIDE, TILE_SIDE);
  view.preview.dataset.tile = `${i},${j}`;
  return true;
}

function layout(el) {
  const root = document.createElement("div");
  root.className = "vae-explorer";
  root.style.cssText = "font-family:sans-serif;display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start";
  const stack = document.createElement("div");
  stack.style.cssText = "position:relative;flex:1 1 480px;min-width:320px";
  const base = document.createElement("canvas"), top = document.createElement("canvas");
  base.setAttribute("data-vae-map", ""); base.setAttribute("role", "img");
  base.setAttribute("aria-label", "latent map: click to decode, drag to select");
  base.style.display = "block";
  top.style.cssText = "position:absolute;left:0;top:0;cursor:crosshair";
  stack.append(base, top);
  const side = document.createElement("div");
  side.style.cssText = "display:flex;flex-direction:column;gap:8px;min-width:140px";
  const preview = document.createElement("canvas");
  preview.width = preview.height = TILE_SIDE;
  preview.setAttribute("data-vae-hover", "");
  preview.style.cssText = `width:${TILE_SIDE}px;height:${TILE_SIDE}px;border:1px solid #ccc;image-rendering:pixelated`;
  const hint = document.createElement("div");
  hint.textContent = "under the cursor";
  hint.style.cssText = "font-size:12px;opacity:0.7";
  const images = document.createElement("div");
  images.style.cssText = "display:flex;gap:6px;flex-wrap:wrap";
  const error = document.createElement("div");
  error.setAttribute("data-vae-error", "");
  error.style.cssText = "color:#b00020;font-size:13px;white-space:pre-wrap";
  side.append(preview, hint, images, error);
  root.append(stack, side);
  el.appendChild(root);
  return {root, base, top, preview, images, error, sprite: new Image()};
}

function listen(view, model) {
  let down = null;
  const send = (request) => {  // numbered: the same box twice is two requests
    model.set("request", {...request, n: ((model.get("request") || {}).n || 0) + 1});
    model.save_changes();
  };
  const at = (e) => {
    const r = view.top.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  const onDown = (e) => {
    if (e.button !== 0) return;
    view.top.setPointerCapture(e.pointerId);
    down = {path: [at(e)], lasso: e.shiftKey};
  };
  const onMove = (e) => {
    const [px, py] = at(e);
    if (down) {
      down.path.push([px, py]);
      drawOverlay(view, model, down);
    } else if (view.box) {
      hoverTile(view, model, toMap(view, px, py));
    }
  };
  const onUp = (e) => {
    if (!down) return;
    const drag = down, [px, py] = at(e), [sx, sy] = drag.path[0];
    down = null;
    if (Math.hypot(px - sx, py - sy) <= CLICK_SLOP_PX && !drag.lasso) {
      const p = toMap(view, px, py);
      send({type: "click", x: p.x, y: p.y});
    } else if (drag.lasso) {
      const pts = drag.path.map(([x, y]) => toMap(view, x, y));
      send({type: "lasso", xs: pts.map((p) => p.x), ys: pts.map((p) => p.y)});
    } else {
      const a = toMap(view, sx, sy), b = toMap(view, px, py);
      send({type: "box", xs: [a.x, b.x], ys: [a.y, b.y]});
    }
    drawOverlay(view, model);
  };
  view.top.addEventListener("pointerdown", onDown);
  view.top.addEventListener("pointermove", onMove);
  view.top.addEventListener("pointerup", onUp);
}

function render({model, el}) {
  const view = layout(el);
  const redraw = () => drawMap(view, model);
  const useSprite = () => { view.sprite.src = (model.get("hover") || {}).sprite || ""; };
  const showImages = () => { drawImages(view.images, model); drawOverlay(view, model); };
  const showError = () => { view.error.textContent = model.get("error"); };
  useSprite(); redraw(); showImages(); showError();
  model.on("change:points", redraw);
  model.on("change:selected", redraw);
  model.on("change:hover", useSprite);
  model.on("change:images", showImages);
  model.on("change:clicked", showImages);
  model.on("change:error", showError);
  listen(view, model);
  const observer = new ResizeObserver(redraw);
  observer.observe(view.base.parentElement);
  return () => observer.disconnect();
}

export default {render};
