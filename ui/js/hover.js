// Hover to decode on the Explore map (ui/hover.py), drawn beside the cursor with no server round trip: the exact
// decode under the cursor where the page's decoder is ready for this view (decoding.js, joined before this file),
// else the tile of the decoded sprite nearest the cursor.

const SIDE = 104;  // CSS pixels, rounded to a whole number of image pixels per tile pixel
const GAP = 16;    // from the cursor: the preview must not hide the spot it shows

function install() {
  const box = document.createElement("div");
  box.id = "vae-hover-preview";
  box.style.cssText = "position:fixed;z-index:1000;pointer-events:none;display:none;padding:3px;background:#fff;" +
    "border:1px solid rgba(49,51,63,0.4);border-radius:4px;box-shadow:0 2px 8px rgba(0,0,0,0.25)";
  const canvas = document.createElement("canvas");
  canvas.style.cssText = "display:block;image-rendering:pixelated";
  box.appendChild(canvas);
  document.body.appendChild(box);
  const hover = {grid: null, image: null, shown: null, wanted: null, busy: false, hidden: 0};

  const hide = () => {
    box.style.display = "none";
    hover.shown = null;
    hover.wanted = null;
    hover.hidden += 1;  // a decode still running for the last position is not shown
    window.__vaeHover = null;
  };
  // One decode at a time; moves while one runs ask for the newest position only, decoded when it is done.
  const exact = async (decoder, tile, cx, cy) => {
    hover.wanted = {tile, cx, cy, hidden: hover.hidden};
    if (hover.busy) return;
    hover.busy = true;
    try {
      while (hover.wanted) {
        const want = hover.wanted;
        hover.wanted = null;
        const images = await decoder.decode([[want.tile.x, want.tile.y]]);
        if (want.hidden !== hover.hidden) continue;  // the cursor left meanwhile
        const shape = decoder.info.image_shape;
        drawImage(canvas, images, shape, 0, Math.max(1, Math.round(SIDE / Math.max(shape[1], shape[2]))));
        hover.shown = null;  // the canvas holds no sprite tile now
        place(want.cx, want.cy, want.tile.gd);
        window.__vaeHover = {x: want.tile.x, y: want.tile.y, i: want.tile.i, j: want.tile.j, exact: true};
      }
    } catch (err) {
      hide();  // the decoder failed (decoder.js tells the server): the next move shows the sprite's tile
    } finally {
      hover.busy = false;
    }
  };
  const draw = (i, j) => {
    if (hover.shown === i * hover.grid.n + j) return;
    const [h, w] = hover.grid.tile;
    const scale = Math.max(1, Math.round(SIDE / Math.max(h, w)));
    if (canvas.width !== w * scale || canvas.height !== h * scale) {
      canvas.width = w * scale;
      canvas.height = h * scale;
    }
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(hover.image, j * w, i * h, w, h, 0, 0, canvas.width, canvas.height);
    hover.shown = i * hover.grid.n + j;
  };
  // above and to the left of the cursor (plotly's hover labels go to its right); below it where that would cover
  // the chart's toolbar or leave the window
  const place = (cx, cy, gd) => {
    box.style.display = "block";
    const bw = box.offsetWidth, bh = box.offsetHeight;
    const left = cx - GAP - bw >= 0 ? cx - GAP - bw : cx + GAP;
    const bar = gd.querySelector(".modebar");
    const r = bar ? bar.getBoundingClientRect() : null;
    const coversBar = (top) => r && r.width > 0 && left < r.right && left + bw > r.left && top < r.bottom && top + bh > r.top;
    const above = cy - GAP - bh;
    box.style.left = left + "px";
    box.style.top = (above >= 0 && !coversBar(above) ? above : cy + GAP) + "px";
  };
  const tileAt = (e) => {  // the grid node nearest the cursor's map position, or null off the plot area or grid
    const gd = document.querySelector('[data-testid="stMain"] .js-plotly-plot');
    const g = hover.grid;
    if (!g || !(hover.image.complete || decoderFor(g.view)) || e.buttons || !gd || !gd._fullLayout || !gd.contains(e.target)) {
      return null;
    }
    const rect = gd.getBoundingClientRect(), size = gd._fullLayout._size;
    const px = e.clientX - rect.left - size.l, py = e.clientY - rect.top - size.t;
    if (px < 0 || py < 0 || px > size.w || py > size.h) return null;
    const x = gd._fullLayout.xaxis.p2c(px), y = gd._fullLayout.yaxis.p2c(py);
    const j = Math.round((x - g.x_range[0]) / (g.x_range[1] - g.x_range[0]) * (g.n - 1));
    const i = Math.round((g.y_range[1] - y) / (g.y_range[1] - g.y_range[0]) * (g.n - 1));
    return i >= 0 && j >= 0 && i < g.n && j < g.n ? {x, y, i, j, gd} : null;
  };
  const onMove = (e) => {
    const tile = tileAt(e);
    if (!tile) return hide();
    const decoder = decoderFor(hover.grid.view);
    if (decoder) return exact(decoder, tile, e.clientX, e.clientY);
    draw(tile.i, tile.j);
    place(e.clientX, e.clientY, tile.gd);
    window.__vaeHover = {x: tile.x, y: tile.y, i: tile.i, j: tile.j};
  };
  const onLeave = () => hide();
  // a wheel zooms the map (or scrolls the page) under a cursor that has not moved: the next move shows it again
  const hideOn = ["wheel", "scroll"];
  document.addEventListener("mousemove", onMove, true);
  hideOn.forEach((name) => document.addEventListener(name, onLeave, {capture: true, passive: true}));
  document.documentElement.addEventListener("mouseleave", onLeave);
  window.addEventListener("blur", onLeave);

  hover.use = (grid) => {
    if (!hover.grid || hover.grid.sprite !== grid.sprite) {
      hover.image = new Image();
      hover.image.src = grid.sprite;
    }
    hover.grid = grid;
    hide();
  };
  hover.remove = () => {
    document.removeEventListener("mousemove", onMove, true);
    hideOn.forEach((name) => document.removeEventListener(name, onLeave, {capture: true}));
    document.documentElement.removeEventListener("mouseleave", onLeave);
    window.removeEventListener("blur", onLeave);
    box.remove();
    window.__vaeHover = null;
    delete window.__vaeHoverState;
  };
  return hover;
}

// One preview per page, whatever Streamlit mounts: it calls this again when the data change, and runs only the
// last cleanup it was given, when the element goes (the toggle off, another page).
export default function (component) {
  const hover = window.__vaeHoverState || (window.__vaeHoverState = install());
  hover.use(component.data);
  return () => hover.remove();
}
