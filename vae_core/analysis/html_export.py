"""A view of a model as one self-contained HTML file: it opens from disk, with no server, and asks no host for
anything (plotly.js and every image are inside it).

It shows the latent map coloured as in the app (by label, or by a true factor), the image decoded under the
cursor (from a sprite of decodes on a grid over the map, the same one the app's hover preview uses), a clicked
dot's test image beside its reconstruction (thumbnails of up to MAX_THUMBNAILS test images), the decoded
manifold, and the run's training curves where it has some.

Names on the page (the checkpoint's, the dataset's, its classes' and factors') are whatever a user's files are
called, so they are text, never markup: the page is filled in one pass (no value is scanned for markers again), its
data sit in a JSON script with <, > and & escaped, the page's script sets each name as text (textContent), and
where plotly draws one (it reads a subset of HTML in its text) the name is escaped, so plotly shows its characters.
Its CSP runs only the page's own two scripts, by hash: no inline handler runs.

Given the model's decoder as ONNX and onnxruntime-web's files (in_page), the page carries both and decodes the
exact point under the cursor and at a click, offline, as the Explore page does (WebAssembly, one thread); the grid of
decodes stays for the moment before the runtime has started, and for views without it (no runtime here, a decoder
over the limit, a UMAP or t-SNE map, whose way back to z is a fit this page does not hold). The runtime's module is
imported from a blob: URL and compiles WebAssembly, so such a page's CSP adds blob: and 'wasm-unsafe-eval' to its
scripts; it still asks no host for anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import Path

import numpy as np
import plotly

from vae_core.analysis.hover import decode_sprite, sprite_url
from vae_core.analysis.latent import decode_points
from vae_core.data.datasets import as_float
from vae_core.maps.nonlinear import TITLES
from vae_core.maps.projection import LABEL_COLORS, label_name
from vae_core.store.files import dataset_title
from vae_core.store.web_runtime import MODULE, WASM

MAX_THUMBNAILS = 2000  # test images (and reconstructions) kept for clicks; further dots show no thumbnail
MAX_CURVE_POINTS = 2000
WEBGL_ABOVE = 3000  # points


def thumbnails(model, md, test_x, shown: str = "mean") -> dict:
    """The first MAX_THUMBNAILS test images and their reconstructions (decoded at their posterior means), as two
    sprites of `per_row` tiles a row; none when test_x is None (the data are not here)."""

    n = 0 if test_x is None else min(len(md.mu), len(test_x), MAX_THUMBNAILS)
    if n == 0:
        return dict(count=0)

    per_row = int(np.ceil(np.sqrt(n)))
    originals = as_float(test_x[:n])
    recons = decode_points(model, md.mu[:n], shown, y=md.labels[:n])  # a conditional model: each under its own label
    return dict(
        count=n,
        per_row=per_row,
        tile=list(recons.shape[-2:]),
        originals=sprite_url(originals, per_row),
        recons=sprite_url(recons, per_row),
    )


def plotly_text(text) -> str:
    """Text for plotly to show as it is: plotly reads tags (<a href>, <b>, <br>...) in its text, then decodes HTML
    entities, so with &, < and > escaped it makes no tag and shows these characters."""
    return html.escape(str(text), quote=False)


def trace_names(md, colour_by: str = "label") -> list[str]:
    """The map's traces' names, as they are (not escaped): a label's or category's each, or the quantity's."""
    if colour_by == "label" or colour_by in md.factor_categories:
        codes = md.labels if colour_by == "label" else md.factor(colour_by).astype(int)
        names = md.class_names if colour_by == "label" else md.factor_categories[colour_by]
        return [label_name(names, code) for code in np.unique(codes)]
    return [str(colour_by)]


def map_figure(md, colour_by: str = "label") -> dict:
    """The map as a plotly figure in plain JSON: a trace per label or category, or one with a colour scale for a
    quantity. customdata is each dot's index among the test images. Every name in it is plotly_text."""
    marker = dict(size=6 if len(md.xy) < 5000 else 3, line=dict(width=0))
    kind = "scattergl" if len(md.xy) > WEBGL_ABOVE else "scatter"  # as the app: SVG is slow beyond a few thousand
    if colour_by == "label" or colour_by in md.factor_categories:
        codes = md.labels if colour_by == "label" else md.factor(colour_by).astype(int)
        data = [
            dict(
                type=kind,
                mode="markers",
                x=md.xy[idx, 0].tolist(),
                y=md.xy[idx, 1].tolist(),
                customdata=idx.tolist(),
                name=plotly_text(name),
                marker=dict(marker, color=LABEL_COLORS[int(code) % len(LABEL_COLORS)]),
                # the (escaped) name by reference: a "%{...}" in a name is not read as a template
                hovertemplate="%{data.name}<br>#%{customdata}<extra></extra>",
            )
            for code, name in zip(np.unique(codes), trace_names(md, colour_by))
            for idx in [np.flatnonzero(codes == code)]
        ]
    else:
        values = md.factor(colour_by)
        title = dict(text=plotly_text(colour_by))
        data = [
            dict(
                type=kind,
                mode="markers",
                x=md.xy[:, 0].tolist(),
                y=md.xy[:, 1].tolist(),
                customdata=list(range(len(values))),
                name=plotly_text(colour_by),
                showlegend=False,
                marker=dict(marker, color=values.tolist(), colorscale="Viridis", colorbar=dict(title=title, thickness=14)),
                hovertemplate="#%{customdata}<extra></extra>",
            )
        ]
    x_title, y_title = md.projection.axis_names
    layout = dict(
        height=600,
        margin=dict(l=60, r=10, t=30, b=50),
        hovermode="closest",
        dragmode="pan",
        legend=dict(title=dict(text=plotly_text(colour_by)), itemsizing="constant"),
        xaxis=dict(title=dict(text=plotly_text(x_title)), range=list(md.x_range), zeroline=False, automargin=True),
        yaxis=dict(title=dict(text=plotly_text(y_title)), range=list(md.y_range), zeroline=False, automargin=True),
    )
    return dict(data=data, layout=layout)


def curves(history: list) -> dict | None:
    """The run's reconstruction, KL and loss per logged step, thinned to MAX_CURVE_POINTS; None without a history."""
    steps = [e for e in history if isinstance(e, dict) and e.get("type") == "step"]
    if not steps:
        return None
    steps = steps[:: max(1, len(steps) // MAX_CURVE_POINTS)]
    return {key: [float(e[key]) for e in steps] for key in ("step", "recon", "kl", "loss")}


def page_decoder(model, md, decoder: bytes, runtime: dict[str, bytes], shown: str) -> dict | None:
    """What the page needs to decode itself: the decoder's ONNX and the runtime (base64), and how a map point becomes
    the image shown (as ui/js/decoding.js does it in the app); None for a map whose way back to z is not linear."""
    projection = md.projection
    if not (projection.is_pca or projection.latent_dim <= 2):
        return None
    b64 = lambda data: base64.b64encode(data).decode("ascii")
    return dict(
        onnx=b64(decoder),
        module=runtime[MODULE].decode("utf-8"),
        wasm=b64(runtime[WASM]),
        latent_dim=int(projection.latent_dim),
        image_shape=list(model.config.image_shape),
        num_classes=int(model.config.num_classes),
        label=getattr(model, "label", None),  # a conditional model's label (vae.LabelledVAE), the map's decodes' own
        likelihood=model.config.likelihood,
        shown=shown,
        projection=dict(mean=projection.mean.tolist(), components=projection.components.tolist())
        if projection.is_pca
        else None,
    )


def view_html(
    title: str,
    description: str,
    names: list,
    figure: dict,
    sprite: dict,
    thumbs: dict,
    run_curves: dict | None,
    decoder: dict | None = None,
) -> str:
    """The page: plotly.js, the view's data and the script that draws it, all inline. title, description and
    names (the traces', as they are: a clicked dot's caption names its trace) are set as text by the script.
    decoder: page_decoder's, for exact decodes in the page."""
    view = dict(
        title=title,
        description=description,
        names=names,
        figure=figure,
        sprite=sprite,
        thumbs=thumbs,
        curves=run_curves,
        decoder=decoder,
    )
    plotly_source = plotly_js()
    webgl = any(trace.get("type") == "scattergl" for trace in figure["data"])
    values = dict(
        CSP=content_security_policy([plotly_source, _SCRIPT], allow_eval=webgl, wasm=decoder is not None),
        PLOTLY=plotly_source,
        VIEW=script_json(view),
        SCRIPT=_SCRIPT,
    )
    # one pass over the template: a value is never scanned for markers (a name holding "__VIEW__" stays text)
    return re.sub(r"__(CSP|PLOTLY|VIEW|SCRIPT)__", lambda m: values[m.group(1)], _TEMPLATE)


def script_json(value) -> str:
    """value as JSON to put inside a <script type="application/json">: with <, > and & escaped, no name can end
    the element ("</script>") or open a comment ("<!--"); U+2028 and U+2029 are escaped too (line ends to JavaScript)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def content_security_policy(scripts: list[str], allow_eval: bool, wasm: bool = False) -> str:
    """No request anywhere (default-src 'none'; images, fonts and styles inline), and only these scripts run: each
    by the SHA-256 of its text, so no other inline script and no inline event handler (onerror=...) runs."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    # 'unsafe-eval' only for WebGL: plotly's scattergl draws with regl, which compiles its drawing code with
    # Function(); without it a scattergl map stays blank. SVG maps (up to WEBGL_ABOVE points) run with no eval.
    unsafe_eval = " 'unsafe-eval'" if allow_eval else ""
    # the decoder in the page: onnxruntime-web's module, which the page's own script imports from a blob: URL it
    # makes of the text it carries, and the WebAssembly it compiles ('wasm-unsafe-eval' allows only that, no eval)
    runtime = " blob: 'wasm-unsafe-eval'" if wasm else ""
    return (
        f"default-src 'none'; script-src {hashes}{unsafe_eval}{runtime}; style-src 'unsafe-inline'; img-src data: blob:; "
        "font-src data:"
    )


def plotly_js() -> str:
    """plotly.js as the plotly package ships it: the same version the app draws with."""
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


def export_html(
    model,
    meta,
    md,
    test_x,
    projection: str = "pca",
    colour_by: str = "label",
    shown: str = "mean",
    name: str = "",
    in_page: tuple[bytes, dict[str, bytes]] | None = None,
) -> str:
    """The whole view of a model's map `md` (by `projection`: pca, umap or tsne) as a self-contained HTML page.
    in_page: (the decoder's ONNX, onnxruntime-web's files: store.web_runtime.read_runtime), for a page that decodes
    the exact point under the cursor and at a click (model.onnx_io.browser_decoder makes the first)."""

    name = name or Path(meta.path).stem or "model"
    decoder = None if in_page is None else page_decoder(model, md, *in_page, shown)
    d = model.config.latent_dim
    how = f"the {d}-D latent space" if d <= 2 else f"a {TITLES[projection]} projection of the {d}-D latent space"
    description = (
        f"{name}: a {meta.vae_config.arch} VAE ({meta.likelihood} likelihood) on {dataset_title(meta.dataset)}; "
        f"the map shows {how}, coloured by {colour_by}. Move the mouse over the map to see the image "
        "decoded there; click a dot to see that test image and its reconstruction"
        + ("; click anywhere to decode that point." if decoder else ".")
    )
    return view_html(
        f"{name} · latent map",
        description,
        trace_names(md, colour_by),
        map_figure(md, colour_by),
        decode_sprite(model, md, shown),
        thumbnails(model, md, test_x, shown),
        curves(meta.history),
        decoder,
    )


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>latent map</title>
<meta http-equiv="Content-Security-Policy" content="__CSP__">
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1{font-size:22px;margin:0 0 6px}
p.lead{color:#555;max-width:1100px;font-size:14px}#row{display:flex;gap:24px;flex-wrap:wrap}#map{width:640px}
#side{width:540px}#side h2,#curves-title{font-size:15px;margin:12px 0 6px}canvas.pic{image-rendering:pixelated;
border:1px solid #ccc;width:160px;height:160px;margin-right:8px}
#manifold{max-width:100%;box-sizing:border-box;image-rendering:pixelated;border:1px solid #ccc}
#hover{position:fixed;display:none;pointer-events:none;padding:3px;background:#fff;
border:1px solid #999;border-radius:4px;box-shadow:0 2px 8px rgba(0,0,0,.25)}#hover canvas{display:block;
image-rendering:pixelated}.caption{font-size:12px;color:#666}
</style>
<script>__PLOTLY__</script>
</head><body>
<h1 id="title"></h1><p class="lead" id="description"></p>
<div id="row"><div id="map"></div><div id="side">
<div id="decoded-box" style="display:none"><h2>Decoded at the click</h2><canvas id="decoded" class="pic" width="160"
height="160"></canvas><div id="decoded-caption" class="caption"></div></div>
<h2>Clicked</h2><div id="picked" class="caption">Click a dot on the map.</div>
<canvas id="original" class="pic" width="160" height="160"></canvas><canvas id="recon" class="pic" width="160"
height="160"></canvas><div class="caption">test image · reconstruction (decoded at its posterior mean)</div>
<h2>Decoded manifold</h2><img id="manifold" alt="decoded manifold"><div class="caption">images decoded on a
regular grid over the map's region</div></div></div>
<div id="curves-box"><h2 id="curves-title">Training curves</h2><div id="curves"></div></div>
<div id="hover"><canvas width="104" height="104"></canvas></div>
<script type="application/json" id="view-data">__VIEW__</script>
<script>__SCRIPT__</script>
</body></html>
"""

_SCRIPT = """
const VIEW = JSON.parse(document.getElementById("view-data").textContent);
document.title = VIEW.title;  // names are text: set as text, never parsed as HTML
document.getElementById("title").textContent = VIEW.title;
document.getElementById("description").textContent = VIEW.description;
function loadImage(src) { const im = new Image(); im.src = src; return im; }
function drawTile(canvas, image, col, row, h, w) {
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(image, col * w, row * h, w, h, 0, 0, canvas.width, canvas.height);
}
// The decoder in the page (VIEW.decoder, when the view carries one): onnxruntime-web imported from the text it
// carries, its WebAssembly and the model's ONNX decoded from base64; one thread, nothing fetched. Until it is ready,
// and wherever it fails, the hover shows the grid's nearest tile. A map point becomes an image as the app does it
// (ui/js/decoding.js): the point along PCA's components plus its mean (or the point itself), then the decoder's
// mean, or with "mode" 1 where the logit is positive (the Gaussian's mode is its mean).
const PAGE = {ready: false};
function fromBase64(text) {
  const raw = atob(text), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
async function startDecoder(D) {
  const url = URL.createObjectURL(new Blob([D.module], {type: "text/javascript"}));
  const ort = await import(url);
  URL.revokeObjectURL(url);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = fromBase64(D.wasm);
  const session = await ort.InferenceSession.create(fromBase64(D.onnx), {executionProviders: ["wasm"]});
  let turn = Promise.resolve();
  PAGE.decode = ([x, y]) => {
    const run = async () => {
      const d = D.latent_dim, p = D.projection, z = new Float32Array(d);
      for (let j = 0; j < d; j++) z[j] = p ? x * p.components[0][j] + y * p.components[1][j] + p.mean[j] : [x, y][j];
      const feeds = {z: new ort.Tensor("float32", z, [1, d])};
      if (D.num_classes) {
        const onehot = new Float32Array(D.num_classes);
        onehot[D.label] = 1;
        feeds.y = new ort.Tensor("float32", onehot, [1, D.num_classes]);
      }
      const out = await session.run(feeds), mean = out.mean.data, param = out.param.data;
      const mode = D.shown === "mode" && D.likelihood !== "gaussian", image = new Float32Array(mean.length);
      for (let i = 0; i < mean.length; i++) {
        if (!Number.isFinite(mean[i]) || !Number.isFinite(param[i])) {
          PAGE.ready = false;  // a NaN: the grid's tiles from now on
          throw new Error("the decoder gave a value that is not a number");
        }
        image[i] = mode ? (param[i] > 0 ? 1 : 0) : mean[i];
      }
      PAGE.last = {point: [x, y], image: Array.from(image)};  // for tests: the floats behind the last image
      return image;
    };
    const result = turn.then(run, run);
    turn = result.catch(() => null);
    return result;
  };
  PAGE.ready = true;
}
function drawDecoded(canvas, image) {  // (C, H, W) floats in [0, 1] as the app's PNGs: grey, or the first 3 channels
  const [c, h, w] = VIEW.decoder.image_shape, small = document.createElement("canvas"), plane = h * w;
  small.width = w;
  small.height = h;
  const pixels = small.getContext("2d").createImageData(w, h);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      pixels.data[4 * p + k] = Math.round(Math.min(1, Math.max(0, image[(c === 1 ? 0 : k) * plane + p])) * 255);
    }
    pixels.data[4 * p + 3] = 255;
  }
  small.getContext("2d").putImageData(pixels, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}
if (VIEW.decoder) {
  startDecoder(VIEW.decoder).then(
    () => { document.body.dataset.decoder = "ready"; },
    (err) => { PAGE.ready = false; document.body.dataset.decoder = "failed"; console.warn("decoding on the grid:", err); });
}
const gd = document.getElementById("map");
Plotly.newPlot(gd, VIEW.figure.data, VIEW.figure.layout, {displaylogo: false, scrollZoom: false, responsive: true});
const sprite = loadImage(VIEW.sprite.sprite);
const manifold = document.getElementById("manifold");
manifold.onload = () => {  // a whole number of screen pixels per image pixel, so the tiles stay crisp
  manifold.style.width = manifold.naturalWidth * Math.max(1, Math.floor(520 / manifold.naturalWidth)) + "px";
};
manifold.src = VIEW.sprite.sprite;
const box = document.getElementById("hover"), hoverCanvas = box.querySelector("canvas");
const place = (e) => {
  box.style.display = "block";
  box.style.left = Math.max(0, e.clientX - 16 - box.offsetWidth) + "px";
  box.style.top = Math.max(0, e.clientY - 16 - box.offsetHeight) + "px";
};
const mapPoint = (e) => {  // the map coordinates under the mouse, or null off the plot area
  const size = gd._fullLayout._size, rect = gd.getBoundingClientRect();
  const px = e.clientX - rect.left - size.l, py = e.clientY - rect.top - size.t;
  if (px < 0 || py < 0 || px > size.w || py > size.h) return null;
  return [gd._fullLayout.xaxis.p2c(px), gd._fullLayout.yaxis.p2c(py)];
};
const hover = {wanted: null, busy: false, left: 0};
async function exactHover() {  // one decode at a time, of the newest position
  hover.busy = true;
  while (hover.wanted) {
    const want = hover.wanted;
    hover.wanted = null;
    try {
      const image = await PAGE.decode(want.point);
      if (want.left !== hover.left) continue;  // the mouse left the map meanwhile
      drawDecoded(hoverCanvas, image);
      place(want.e);
      box.dataset.decoded = JSON.stringify(want.point);
      delete box.dataset.tile;
    } catch (err) { box.style.display = "none"; }
  }
  hover.busy = false;
}
gd.addEventListener("mousemove", (e) => {
  const g = VIEW.sprite, at = mapPoint(e);
  if (!at) { box.style.display = "none"; hover.left += 1; return; }
  if (PAGE.ready) {
    hover.wanted = {point: at, e: {clientX: e.clientX, clientY: e.clientY}, left: hover.left};
    if (!hover.busy) exactHover();
    return;
  }
  if (!sprite.complete) { box.style.display = "none"; return; }
  const [x, y] = at;
  const j = Math.round((x - g.x_range[0]) / (g.x_range[1] - g.x_range[0]) * (g.n - 1));
  const i = Math.round((g.y_range[1] - y) / (g.y_range[1] - g.y_range[0]) * (g.n - 1));
  if (i < 0 || j < 0 || i >= g.n || j >= g.n) { box.style.display = "none"; return; }
  drawTile(hoverCanvas, sprite, j, i, g.tile[0], g.tile[1]);
  place(e);
  box.dataset.tile = i + "," + j;
  delete box.dataset.decoded;
});
gd.addEventListener("mouseleave", () => { box.style.display = "none"; hover.left += 1; });
// A click anywhere on the map (a press and release in one place: a drag pans) decodes that point in the page. The
// release is heard on the document: plotly covers the page while the button is down, and the release lands on that.
let pressed = null;
gd.addEventListener("pointerdown", (e) => { pressed = e.button === 0 ? [e.clientX, e.clientY] : null; }, true);
document.addEventListener("pointerup", async (e) => {
  const at = pressed && mapPoint(e), from = pressed;
  pressed = null;
  if (!at || !PAGE.ready || Math.hypot(e.clientX - from[0], e.clientY - from[1]) > 4) return;
  try {
    const image = await PAGE.decode(at), canvas = document.getElementById("decoded");
    drawDecoded(canvas, image);
    canvas.setAttribute("data-vae-decoded", JSON.stringify(at));
    document.getElementById("decoded-caption").textContent =
      "decoded at (" + at[0].toFixed(2) + ", " + at[1].toFixed(2) + "), in this page";
    document.getElementById("decoded-box").style.display = "block";
  } catch (err) { document.getElementById("decoded-box").style.display = "none"; }
}, true);
const t = VIEW.thumbs;
const originals = t.count ? loadImage(t.originals) : null, recons = t.count ? loadImage(t.recons) : null;
gd.on("plotly_click", (ev) => {
  const index = ev.points[0].customdata, picked = document.getElementById("picked");
  if (!t.count || index >= t.count) { picked.textContent = "Test image #" + index + ": no thumbnail kept."; return; }
  const col = index % t.per_row, row = Math.floor(index / t.per_row);
  drawTile(document.getElementById("original"), originals, col, row, t.tile[0], t.tile[1]);
  drawTile(document.getElementById("recon"), recons, col, row, t.tile[0], t.tile[1]);
  picked.textContent = "Test image #" + index + " (" + VIEW.names[ev.points[0].curveNumber] + ")";
});
if (VIEW.curves) {
  const c = VIEW.curves;
  Plotly.newPlot("curves", [
    {type: "scatter", mode: "lines", name: "recon", x: c.step, y: c.recon},
    {type: "scatter", mode: "lines", name: "loss = recon + β·KL", x: c.step, y: c.loss},
    {type: "scatter", mode: "lines", name: "KL", x: c.step, y: c.kl, yaxis: "y2"}],
    {height: 320, margin: {l: 50, r: 50, t: 10, b: 40}, xaxis: {title: {text: "step"}},
     yaxis: {title: {text: "nats per image"}}, yaxis2: {overlaying: "y", side: "right", title: {text: "KL"}},
     legend: {orientation: "h", y: -0.25}}, {displaylogo: false});
} else {
  document.getElementById("curves-box").innerHTML =
    "<p class='caption'>This model has no training history (it was imported, or built by hand).</p>";
}
"""
