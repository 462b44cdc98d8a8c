// A grid of latent codes decoded in the page (ui/generate/in_page.py): Generate's interpolation and traversal rows,
// drawn as the server's ui.images.grid draws them (white padding of one image pixel, upscaled by a whole factor) by
// the decoder the page already holds (decoder.js). data: {view, codes (flat), nrow, width, tag, between, little}. A slider
// still reruns the server, which only computes the codes (a few numbers); the decode is the page's.
// The canvas carries data-vae-decoded (the tag: the view and its slider positions) once drawn; window.__vaeGrids[tag]
// keeps the codes and the floats drawn, for tests to compare with the server's decode.
// between: for a traversal row, the spread of prior samples' decodings (vae_core.analysis.effects.sample_spread):
// under `little` times it, the row "changes little", as the server says it.

function drawGrid(canvas, images, shape, n, nrow, scale) {
  const [c, h, w] = shape, plane = h * w, cols = Math.min(nrow, n), rows = Math.ceil(n / nrow);
  const width = cols * (w + 1) + 1, height = rows * (h + 1) + 1;
  const small = new ImageData(width, height);
  small.data.fill(255);  // the padding: white, as pad_value 1.0
  for (let i = 0; i < n; i++) {
    const top = 1 + Math.floor(i / nrow) * (h + 1), left = 1 + (i % nrow) * (w + 1);
    for (let p = 0; p < plane; p++) {
      const at = 4 * ((top + Math.floor(p / w)) * width + left + (p % w));
      for (let k = 0; k < 3; k++) {
        const v = images[i * c * plane + (c === 1 ? 0 : k) * plane + p];
        small.data[at + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
    }
  }
  const tile = document.createElement("canvas");
  tile.width = width;
  tile.height = height;
  tile.getContext("2d").putImageData(small, 0, 0);
  canvas.width = width * scale;
  canvas.height = height * scale;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, 0, 0, canvas.width, canvas.height);
}

// vae_core.analysis.effects.spread: the RMS distance of the images from their mean image, per pixel
function spread(images, n) {
  if (n < 2) return 0;
  const size = images.length / n, mean = new Float64Array(size);
  for (let i = 0; i < images.length; i++) mean[i % size] += images[i] / n;
  let sum = 0;
  for (let i = 0; i < images.length; i++) sum += (images[i] - mean[i % size]) ** 2;
  return Math.sqrt(sum / images.length);
}

export default function (component) {
  const data = component.data || {};
  const parent = component.parentElement;
  let canvas = parent.querySelector("canvas");
  if (!canvas) {
    canvas = pixelCanvas();
    const note = document.createElement("p");
    note.style.cssText = "font-size:14px;opacity:0.6;margin:0.25rem 0 0 0";
    parent.append(canvas, note);
  }
  const note = parent.querySelector("p");
  const state = canvas.__vae || (canvas.__vae = {asked: 0, drawn: null});
  if (state.drawn === data.tag) return;
  const asked = ++state.asked;
  const draw = async () => {
    const decoder = decoderFor(data.view);
    if (!decoder) return false;  // not yet: drawn when the decoder takes this view (vae-decoder-view)
    const codes = Float32Array.from(data.codes), n = codes.length / decoder.info.latent_dim;
    let images;
    try {
      images = await decoder.decode(null, codes);
    } catch (err) {
      return true;  // decoder.js tells the server, which decodes from now on
    }
    if (asked !== state.asked) return true;  // newer slider positions are on their way
    const shape = decoder.info.image_shape;
    drawGrid(canvas, images, shape, n, data.nrow, Math.max(1, Math.ceil(data.width / (data.nrow * (shape[2] + 1) + 1))));
    canvas.setAttribute("data-vae-decoded", data.tag);
    canvas.setAttribute("aria-label", data.alt || "decoded images");
    note.textContent = data.between && spread(images, n) / data.between < data.little ? "changes little" : "";
    window.__vaeGrids = window.__vaeGrids || {};
    window.__vaeGrids[data.tag] = {codes: Array.from(codes), images: Array.from(images), shape};
    state.drawn = data.tag;
    return true;
  };
  if (state.onView) window.removeEventListener("vae-decoder-view", state.onView);
  state.onView = () => draw().then((done) => done && window.removeEventListener("vae-decoder-view", state.onView));
  window.addEventListener("vae-decoder-view", state.onView);
  state.onView();
  return () => window.removeEventListener("vae-decoder-view", state.onView);
}
