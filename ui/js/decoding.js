// Decoding in the page (ui/browser_decode.py): the model's decoder as ONNX, run by onnxruntime-web on WebAssembly,
// one thread. Shared by the decoder component (decoder.js), the hover preview (hover.js) and the click's image
// (decoded.js), which are joined after this file by ui/scripts.py; what they share lives on window:
//   window.__vaeOrt      the runtime, loaded once per page (a promise)
//   window.__vaeDecoder  the decoder of the model on the page: {key, view, ready, failed, decode(points)}

// The runtime's two files come from the app's static folder, checked by the server against the committed sums
// before it names them. They are fetched as bytes and the module imported from a Blob: that works whatever
// Content-Type the server gives .mjs files, and the WebAssembly is handed over as bytes (wasmBinary), so the
// runtime fetches nothing itself.
function loadRuntime(urls) {
  if (!window.__vaeOrt) {
    window.__vaeOrt = (async () => {
      if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
      const get = async (url) => {
        const response = await fetch(url, {cache: "force-cache"});
        if (!response.ok) throw new Error(`the runtime's files are not served (${response.status})`);
        return response;
      };
      const [code, wasm] = await Promise.all([get(urls.module).then((r) => r.text()), get(urls.wasm).then((r) => r.arrayBuffer())]);
      const blob = URL.createObjectURL(new Blob([code], {type: "text/javascript"}));
      const ort = await import(/* webpackIgnore: true */ blob);
      URL.revokeObjectURL(blob);
      ort.env.wasm.numThreads = 1;  // no workers: no cross-origin isolation needed, and one core per tab at most
      ort.env.wasm.proxy = false;
      ort.env.wasm.wasmBinary = wasm;
      return ort;
    })();
    window.__vaeOrt.catch(() => { window.__vaeOrt = null; });  // a later page may try again
  }
  return window.__vaeOrt;
}

// Map points -> latent codes, as vae_core.maps.projection.Projection.inverse does: PCA's mean plus the point along
// the two components, or the point itself (its first latent_dim coordinates) where the map is the latent space.
function toLatent(info, points) {
  const d = info.latent_dim, p = info.projection, z = new Float32Array(points.length * d);
  points.forEach(([x, y], i) => {
    for (let j = 0; j < d; j++) {
      z[i * d + j] = p ? x * p.components[0][j] + y * p.components[1][j] + p.mean[j] : [x, y][j];
    }
  });
  return z;
}

// The image to show, as the server's Likelihood.image makes it: the decoder's mean E[x|z] (the exported graph's
// "mean" output: sigmoid, the continuous Bernoulli's mean or the clamped Gaussian mean), or with shown "mode" the
// most likely x: 1 where the logit is positive for the Bernoulli likelihoods, the mean for the Gaussian.
function toImages(info, out) {
  const mean = out.mean.data, param = out.param.data;
  const mode = info.shown === "mode" && info.likelihood !== "gaussian";
  const images = new Float32Array(mean.length);
  for (let i = 0; i < mean.length; i++) {
    if (!Number.isFinite(mean[i]) || !Number.isFinite(param[i])) throw new Error("the decoder gave a value that is not a number");
    images[i] = mode ? (param[i] > 0 ? 1 : 0) : mean[i];
  }
  return images;
}

// The page's decoder: a session of one model's graph, decoding one batch at a time (a WebAssembly session runs one
// call at a time; calls wait their turn).
async function makeDecoder(urls, key, bytes) {
  const ort = await loadRuntime(urls);
  const session = await ort.InferenceSession.create(bytes, {executionProviders: ["wasm"], graphOptimizationLevel: "all"});
  const decoder = {key, ready: true, failed: null, info: null, view: null, session, turn: Promise.resolve(), last: null};
  // a NaN or an error once means this model decodes on the server from then on: the page says why (decoder.js)
  decoder.fail = (err) => {
    if (!decoder.ready) return;
    decoder.ready = false;
    decoder.failed = String((err && err.message) || err).slice(0, 200);
    if (decoder.onFail) decoder.onFail(decoder.failed);
  };
  // points: map positions (turned into codes by the map's projection); or with codes, the latent codes themselves,
  // flat (n * latent_dim), as Generate's views give them
  decoder.decode = (points, codes = null) => {
    const info = decoder.info;
    const run = async () => {
      if (!decoder.ready) throw new Error(decoder.failed || "the decoder is not ready");
      const n = codes ? codes.length / info.latent_dim : points.length;
      const feeds = {z: new ort.Tensor("float32", codes || toLatent(info, points), [n, info.latent_dim])};
      if (info.num_classes) {  // a conditional model: the label chosen beside the map, one-hot
        const y = new Float32Array(n * info.num_classes);
        for (let i = 0; i < n; i++) y[i * info.num_classes + info.label] = 1;
        feeds.y = new ort.Tensor("float32", y, [n, info.num_classes]);
      }
      try {
        const images = toImages(info, await session.run(feeds));
        // for tests and benchmarks: the floats behind the last point's image, and what they were decoded under (a
        // grid of codes keeps its own: decoded_grid.js)
        if (points) decoder.last = {points, images: Array.from(images), shape: info.image_shape, label: info.label, shown: info.shown};
        return images;
      } catch (err) {
        decoder.fail(err);
        throw err;
      }
    };
    const result = decoder.turn.then(run, run);
    decoder.turn = result.catch(() => null);
    return result;
  };
  return decoder;
}

// One image (C, H, W) of floats in [0, 1] onto a canvas, each image pixel a scale x scale block, as the server's
// vae_core.data.images.to_grid_image makes its PNGs: grey for one channel, the first three channels otherwise.
function drawImage(canvas, images, shape, offset, scale) {
  const [c, h, w] = shape, plane = h * w;
  if (canvas.width !== w * scale || canvas.height !== h * scale) {
    canvas.width = w * scale;
    canvas.height = h * scale;
  }
  const small = new ImageData(w, h);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < 3; k++) {
      const v = images[offset + (c === 1 ? 0 : k) * plane + p];
      small.data[4 * p + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    small.data[4 * p + 3] = 255;
  }
  const tile = document.createElement("canvas");
  tile.width = w;
  tile.height = h;
  tile.getContext("2d").putImageData(small, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, 0, 0, canvas.width, canvas.height);
}

// A canvas for decoded images: an image to screen readers, its pixels kept sharp when scaled.
function pixelCanvas() {
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.style.cssText = "display:block;image-rendering:pixelated;max-width:100%";
  return canvas;
}

// The decoder of the view on the page, or null where it is not ready for it (another model, projection or label).
function decoderFor(view) {
  const decoder = window.__vaeDecoder;
  return decoder && decoder.ready && view && decoder.view === view ? decoder : null;
}
