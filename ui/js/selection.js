// The Explore map's selection (ui/selection.py), put into the chart's layout with Plotly.relayout and put back
// whenever the chart is drawn anew; and the map's clicks, sent to the server as the trigger value "click".
// Runs after the constants SETTLE_MS and CLICK_SLOP_PX that the Python side sets.

const mapChart = () => document.querySelector('[data-testid="stMain"] .js-plotly-plot');

// A ring of fixed pixel size (xsizemode "pixel") as a circle in map units at the chart's present scale: with a
// pixel-sized shape on the chart, plotly.js records the next box or lasso selection in pixels, not map units, and
// the box then holds no data point. Redrawn when the scale changes (a zoom).
function inMapUnits(gd, shape) {
  if (shape.xsizemode !== "pixel") return shape;
  const {xanchor, yanchor, x0, x1, y0, y1, xsizemode, ysizemode, ...rest} = shape;
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const dx = (px) => Math.abs(xa.p2c(px) - xa.p2c(0)), dy = (px) => Math.abs(ya.p2c(px) - ya.p2c(0));
  return {...rest, x0: xanchor - dx(-x0), x1: xanchor + dx(x1), y0: yanchor - dy(-y0), y1: yanchor + dy(y1)};
}

function syncShapes() {
  const gd = mapChart();
  if (!gd || !gd._fullLayout || !window.Plotly) return;
  // Leave a new chart alone for its first moments: a relayout then can make Streamlit miss the next box select
  // on it (seen in Chromium on a UMAP map opened by link); SETTLE_MS later it does not.
  gd.__vaeSeen = gd.__vaeSeen || performance.now();
  if (performance.now() - gd.__vaeSeen < SETTLE_MS) return;
  const shapes = gd.layout.shapes || [];
  const shown = shapes.filter((s) => s.name === "selection");
  const wanted = window.__vaeSelection.map((s) => inMapUnits(gd, s));
  if (JSON.stringify(shown) === JSON.stringify(wanted)) return;
  window.Plotly.relayout(gd, {shapes: [...shapes.filter((s) => s.name !== "selection"), ...wanted]});
}

// Plotly.js drops some clicks in the select mode Streamlit's selections use (plotly/plotly.js#6898), and reports
// clicks only on markers. The page's own mouse events never drop one: a press and release within CLICK_SLOP_PX
// of each other on the plot area is a click, at the map coordinates under the cursor (a drag pans or selects).
// Only the press is checked for what it landed on: plotly covers the page with a "dragcover" while the button is
// down, and the release lands on that.
function onPlotArea(gd, e) {
  return gd && gd._fullLayout && gd.contains(e.target) && !e.target.closest(".modebar, .legend") && mapPosition(gd, e);
}

function mapPosition(gd, e) {
  if (!gd || !gd._fullLayout) return null;
  const rect = gd.getBoundingClientRect(), size = gd._fullLayout._size;
  const px = e.clientX - rect.left - size.l, py = e.clientY - rect.top - size.t;
  if (px < 0 || py < 0 || px > size.w || py > size.h) return null;
  return {x: gd._fullLayout.xaxis.p2c(px), y: gd._fullLayout.yaxis.p2c(py)};
}

// A free click the page decodes, while the server's panel already shows a free point, stays in the page: the panel's
// image, point, z and buttons are the page's own (decoded.js), so the server need not run at all (a rerun of even
// the smallest fragment costs it tens of ms of CPU). The page draws the ring and writes the address itself; the
// server hears of the point when a button asks for it, or reads it from the address at its next run of the page.
// A click on a dot (its test image and reconstruction are the server's), or anything unsure, goes to the server.
// local: {view, radius, ring} from the server (ui/selection.py), or null.
function keptInPage(local, at) {
  const decoder = window.__vaeDecoder, gd = mapChart();
  if (!decoder || !decoder.ready || decoder.view !== local.view || nearDot(gd, at, local.radius)) return false;
  // the ring: drawn by syncShapes' timer within 100 ms, after the image (a relayout holds the page for ~20 ms)
  window.__vaeSelection = [{...local.ring, xanchor: at.x, yanchor: at.y}];
  const params = new URLSearchParams(window.location.search);
  params.delete("point");
  params.set("x", at.x.toPrecision(4));
  params.set("y", at.y.toPrecision(4));
  window.history.replaceState(window.history.state, "", `${window.location.pathname}?${params}`);
  return true;
}

// Whether a data point lies within radius of the click, as ui.geometry.click_selection decides: the map's points are
// the traces that carry customdata (a test image's index). True when the chart cannot tell: then the server decides.
function nearDot(gd, at, radius) {
  const traces = gd && gd._fullData;
  if (!traces) return true;
  for (const trace of traces) {
    if (!trace.customdata) continue;
    const xs = trace.x, ys = trace.y;
    if (!xs || !ys || typeof xs.length !== "number") return true;
    for (let i = 0; i < xs.length; i++) {
      if ((xs[i] - at.x) ** 2 + (ys[i] - at.y) ** 2 <= radius * radius) return true;
    }
  }
  return false;
}

// Each click is numbered, and sent again every RESEND_MS until the server says it has it (data.seen): Streamlit can
// lose a widget's update that arrives while the page's script is still running. The server takes each number once.
function installClicks() {
  const clicks = {send: null, down: null, pending: null, timer: null};
  const send = () => {
    if (!clicks.pending || !clicks.send) return;
    clicks.pending.attempt += 1;  // a changed value: Streamlit reruns only for a change
    clicks.send("click", {...clicks.pending});
  };
  const onDown = (e) => {
    clicks.down = e.button === 0 && onPlotArea(mapChart(), e) ? {x: e.clientX, y: e.clientY} : null;
  };
  const onUp = (e) => {
    const down = clicks.down;
    clicks.down = null;
    if (!down || e.button !== 0) return;
    if (Math.hypot(e.clientX - down.x, e.clientY - down.y) > CLICK_SLOP_PX) return;  // a drag
    const at = mapPosition(mapChart(), e);
    if (!at) return;
    const local = !!clicks.local && keptInPage(clicks.local, at);
    clicks.localRing = local ? window.__vaeSelection : null;
    // the page's own decoder (decoded.js) draws the spot at once
    window.dispatchEvent(new CustomEvent("vae-map-click", {detail: {x: at.x, y: at.y, local}}));
    if (local) return;
    window.__vaeClickNumber = (window.__vaeClickNumber || 0) + 1;  // per page, as the session is
    clicks.pending = {x: at.x, y: at.y, n: window.__vaeClickNumber, attempt: 0};
    send();
  };
  clicks.seen = (n) => {
    if (clicks.pending && n >= clicks.pending.n) clicks.pending = null;
  };
  document.addEventListener("pointerdown", onDown, true);
  document.addEventListener("pointerup", onUp, true);
  clicks.timer = setInterval(send, RESEND_MS);
  clicks.remove = () => {
    document.removeEventListener("pointerdown", onDown, true);
    document.removeEventListener("pointerup", onUp, true);
    clearInterval(clicks.timer);
    delete window.__vaeClicks;
  };
  return clicks;
}

// One click listener per page, whatever Streamlit mounts: it calls this again when the data change, and runs the
// last cleanup it was given when the element goes (another page).
export default function (component) {
  const data = component.data || {};
  const clicks = window.__vaeClicks || (window.__vaeClicks = installClicks());
  // the server's selection as it last said it; while it says the same, a ring the page moved since stays where it is
  const said = JSON.stringify(data.shapes || []);
  if (said !== clicks.said) clicks.localRing = null;
  clicks.said = said;
  window.__vaeSelection = clicks.localRing || data.shapes || [];
  clicks.send = component.setStateValue;
  clicks.local = data.local || null;
  clicks.seen(data.seen || 0);
  syncShapes();
  if (!window.__vaeSelectionTimer) window.__vaeSelectionTimer = setInterval(syncShapes, 100);
  return () => clicks.remove();
}
