"""Decoding in the browser: the Explore map's clicks and hover preview decoded in the page, by the model's own
decoder as ONNX, run by onnxruntime-web on WebAssembly (one thread).

A server decode costs a round trip, a script run and a core per click for every visitor (BENCHMARKS.md: 142-210 ms
on a quiet machine, over 600 ms on a loaded one); in the page it costs a millisecond. The decoder is the engine's own
export (vae_core.model.onnx_io.browser_decoder: cached in the cache folder) or an imported folder's decoder.onnx as
the server checked it, so the page runs nothing the server refused. It is sent once (ui/js/decoder.js tells the
server when the page holds it); the page reports whether it works, and the server decodes, as it always could, where
it does not: the runtime's files absent or changed, a map that is not linear (UMAP and t-SNE invert on the server),
a decoder over the size limit, no WebAssembly, a NaN or an error in the page. The page then says so in one caption.

The runtime's two files are fetched by tools/fetch_onnxruntime_web.py (make run, make test) into static/, which
Streamlit serves (server.enableStaticServing); the server names them to the page only once they match the sums
committed in tools/onnxruntime_web.sha256.
"""

from __future__ import annotations

import base64
from pathlib import Path

import streamlit as st

from ui.scripts import component_script
from ui.text import plain
from vae_core.store import web_runtime

STATIC_URL = "app/static/onnxruntime-web/"  # where Streamlit serves static/onnxruntime-web (relative to the page)
KEY = "explore_decoder"  # the decoder component's key: its state "status" is the page's report
FAILED = "_browser_decode_failed"  # {model key: reason}: a model that failed in this page decodes on the server

DECODER_JS = component_script("decoding.js", "decoder.js")
DECODED_JS = component_script("decoding.js", "decoded.js")
_decoder = st.components.v2.component("vae_explorer_decoder", js=DECODER_JS)
# in the page's own DOM: tests and benchmarks find data-vae-decoded with a plain querySelector
_decoded = st.components.v2.component("vae_explorer_decoded", js=DECODED_JS, isolate_styles=False)


def runtime_problem() -> str | None:
    """None when the runtime's files are in place and match the committed sums, else why not (one line)."""
    try:
        return _checked(str(web_runtime.runtime_dir()), web_runtime.stamps())
    except web_runtime.RuntimeMissing as err:
        return str(err)


@st.cache_resource(show_spinner=False, max_entries=4)
def _checked(folder: str, _stamps: tuple) -> str | None:
    """Hash the files once per server and version of them (14 MB: about 30 ms)."""
    try:
        web_runtime.read_runtime(Path(folder))
    except web_runtime.RuntimeMissing as err:
        return str(err)
    return None


def model_key(row) -> str:
    return f"{row.path}:{row.mtime}"


def view_of(row, projection: str, label: int | None, shown: str) -> str:
    """What a decode depends on: the model, the map's way back to z, the label and the image shown. The hover preview
    and the click's image decode in the page only while the page's decoder holds this view."""
    return f"{model_key(row)}|{projection}|{label}|{shown}"


@st.cache_resource(show_spinner=False, max_entries=4)
def _encoded(path: str, mtime: int) -> tuple[str, str | None]:
    """(the model's decoder as base64 ONNX, None), or ("", why there is none): the engine's export, or an imported
    folder's checked decoder.onnx. A failure is kept too: an export that fails is not tried again at every run."""
    from ui import catalogue
    from vae_core.model.onnx_io import OnnxModelError, browser_decoder  # torch and onnx: after the map is sent

    try:
        return base64.b64encode(browser_decoder(catalogue.load_model(path, mtime)[0], path)).decode("ascii"), None
    except OnnxModelError as err:
        return "", str(err).rstrip(".")


def quick_problem(row, md, label: int | None) -> str | None:
    """What rules the page's decoder out before the model is loaded (the map comes first): no runtime, a map that is
    not linear, a failure in this page before."""
    if not (md.projection.is_pca or md.projection.latent_dim <= 2):
        return "a UMAP or t-SNE map finds z through a fit kept on the server"
    if row.num_classes and label is None:  # a conditional model decodes under a label; the page has none to give
        return "no label is chosen"
    return runtime_problem() or st.session_state.get(FAILED, {}).get(model_key(row))


def page_view(row, md, projection: str, label: int | None, shown: str) -> str | None:
    """The view the page may decode (view_of), or None where the server decodes; cheap: no model is loaded."""
    return None if quick_problem(row, md, label) else view_of(row, projection, label, shown)


def decoder_problem(row, md, label: int | None) -> str | None:
    """Why this model's map decodes on the server (one line), or None when the page may decode it."""
    return quick_problem(row, md, label) or _encoded(row.path, row.mtime)[1]


def _status(row) -> dict:
    status = (st.session_state.get(KEY) or {}).get("status")
    return status if isinstance(status, dict) and status.get("key") == model_key(row) else {}


def page_decodes(row) -> bool:
    """Whether the page has said that it holds this model's decoder and it works (then the server need not decode
    a click's image)."""
    return _status(row).get("ok") is True and model_key(row) not in st.session_state.get(FAILED, {})


def send_decoder(row, md, projection: str, label: int | None, shown: str) -> None:
    """The decoder component (once the map is drawn: the export needs torch), or one caption saying why the server
    decodes. A failure the page reports is kept for the session: that model then stays on the server."""
    status = _status(row)
    failed = st.session_state.setdefault(FAILED, {})
    if status.get("ok") is False and not status.get("missing") and model_key(row) not in failed:
        reason = str(status.get("reason") or "an error")[:200]
        failed[model_key(row)] = f"the page could not run the decoder ({reason})"
        st.rerun()  # the whole page: the panel of the last click decodes on the server now
    problem = decoder_problem(row, md, label)
    if problem:
        st.caption(f"Clicks and the hover preview decode on the server: {plain(problem)}.")
        return
    projection_data = (
        dict(mean=md.projection.mean.tolist(), components=md.projection.components.tolist()) if md.projection.is_pca else None
    )
    _decoder(
        data=dict(
            key=model_key(row),
            view=view_of(row, projection, label, shown),
            runtime=dict(module=STATIC_URL + web_runtime.MODULE, wasm=STATIC_URL + web_runtime.WASM),
            model=None if status.get("ok") else _encoded(row.path, row.mtime)[0],  # sent until the page holds it
            status=status or None,
            info=dict(
                latent_dim=md.projection.latent_dim,
                image_shape=list(row.image_shape),
                num_classes=row.num_classes,
                label=label,
                likelihood=row.likelihood,
                shown=shown,
                projection=projection_data,
            ),
        ),
        key=KEY,
    )


def decoded_image(view: str | None, point: tuple[float, float] | None) -> None:
    """The click's image drawn in the page (ui/js/decoded.js): first in the panel, so the element stays the same from
    run to run and a click draws into it at once. point: the free click the panel shows, or None."""
    if view is not None:
        _decoded(data=dict(view=view, point=None if point is None else list(point)), key="explore_decoded")
