// The decoder component (ui/browser_decode.py): puts the model's decoder into the page once and tells the server
// how that went, as the state value "status" {key, ok, reason}. The server sends the ONNX bytes (base64) until the
// page has said it holds that model; after that only what changes (the label, the image shown, the projection).

function report(component, status) {
  window.__vaeDecoderReports = (window.__vaeDecoderReports || 0) + 1;  // a new value each time: Streamlit reruns
  component.setStateValue("status", {...status, n: window.__vaeDecoderReports});
}

function knows(data, decoder) {  // whether the server's last word on this model matches the page's
  const s = data.status;
  return s && s.key === data.key && s.ok === decoder.ready;
}

function adopt(component, data, decoder) {
  decoder.info = data.info;
  decoder.view = data.view;
  decoder.onFail = (reason) => report(component, {key: data.key, ok: false, reason});
  window.dispatchEvent(new CustomEvent("vae-decoder-view"));  // an image waiting for this view can be drawn (decoded.js)
  if (!knows(data, decoder)) {
    report(component, decoder.ready ? {key: data.key, ok: true} : {key: data.key, ok: false, reason: decoder.failed});
  }
}

async function load(component, data) {
  const bytes = new Uint8Array(await (await fetch(`data:application/octet-stream;base64,${data.model}`)).arrayBuffer());
  return makeDecoder(data.runtime, data.key, bytes);
}

export default function (component) {
  const data = component.data || {};
  if (!data.key) return;
  const decoder = window.__vaeDecoder;
  if (decoder && decoder.key === data.key) return adopt(component, data, decoder);
  if (!data.model) return report(component, {key: data.key, ok: false, missing: true});  // sent again
  const loading = window.__vaeDecoderLoading;
  if (loading && loading.key === data.key) {  // the same model again while it loads: take the newest data
    loading.data = data;
    return;
  }
  const pending = (window.__vaeDecoderLoading = {key: data.key, data});
  load(component, data)
    .then((made) => {
      if (window.__vaeDecoderLoading !== pending) return made.session.release();  // another model came meanwhile
      const old = window.__vaeDecoder;
      window.__vaeDecoder = made;
      if (old) {  // its WebAssembly memory back, once its last decode is done
        old.ready = false;
        old.turn.then(() => old.session.release()).catch(() => null);
      }
      adopt(component, pending.data, made);
    })
    .catch((err) => {
      if (window.__vaeDecoderLoading !== pending) return;
      window.__vaeDecoder = null;
      const reason = String((err && err.message) || err).split("\n")[0].slice(0, 200);
      report(component, {key: data.key, ok: false, reason});
    })
    .finally(() => {
      if (window.__vaeDecoderLoading === pending) window.__vaeDecoderLoading = null;
    });
}
