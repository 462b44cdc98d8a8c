"""Decoding in the browser: the Explore map's clicks, hover preview and manifold, and Generate's interpolation and
traversal (ui/generate/in_page.py), decoded in the page by the model's own decoder as ONNX, run by onnxruntime-web
on WebAssembly (one thread). While the click's panel shows a free point the page drew, the page keeps the next free
clicks to itself (ui/js/selection.js): the server hears of a click only when it must (a dot, a button).

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
import hashlib
import math
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui import session
from ui.explore.map_state import remember_selection
from ui.geometry import click_selection
from ui.navigation import guarded
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
_grid = st.components.v2.component(
    "vae_explorer_decoded_grid", js=component_script("decoding.js", "decoded_grid.js"), isolate_styles=False
)


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


def _status(row, key: str = KEY) -> dict:
    status = (st.session_state.get(key) or {}).get("status")
    return status if isinstance(status, dict) and status.get("key") == model_key(row) else {}


def page_decodes(row, key: str = KEY) -> bool:
    """Whether the page has said (to the decoder component under `key`) that it holds this model's decoder and it
    works (then the server need not decode a click's image)."""
    return _status(row, key).get("ok") is True and model_key(row) not in st.session_state.get(FAILED, {})


def generate_problem(row, label: int | None) -> str | None:
    """Why Generate's views decode on the server (one line), or None when the page may decode them."""
    if row.num_classes and label is None:
        return "no label is chosen"
    failed = st.session_state.get(FAILED, {}).get(model_key(row))
    return runtime_problem() or failed or _encoded(row.path, row.mtime)[1]


def send_decoder(row, md, projection: str, label: int | None, shown: str) -> None:
    """The decoder component (in a fragment of its own, once the map is drawn: the export needs torch), or one line
    in the sidebar saying why the server decodes. A failure the page reports is kept for the session: that model
    then stays on the server."""
    problem = decoder_problem(row, md, label)
    say_where_decoded(problem, CLICKS)
    projection_data = (
        dict(mean=md.projection.mean.tolist(), components=md.projection.components.tolist()) if md.projection.is_pca else None
    )
    view = view_of(row, projection, label, shown)
    # outside the map's fragment: sent once, not again with every click
    st.fragment(guarded(send_model))(row, KEY, problem, view, md.projection.latent_dim, label, shown, projection_data)


CLICKS = "Clicks and the hover preview"


def say_where_decoded(problem: str | None, what: str) -> None:
    """Where the server decodes `what` on this page, the sidebar says so once, with the reason (nothing when the
    page decodes). Called outside fragments: a fragment may not write to the sidebar."""
    if problem:
        st.sidebar.caption(f"{what} decode on the server: {plain(problem)}.")


def _page_reruns_on_a_report(key: str) -> None:
    """A new report from the page reruns the whole page, not only the decoder's fragment. Streamlit's page sends the
    widget changes of one moment in one message, scoped to the first fragment among them: a click on the page made
    just as the decoder reported (a toggle, a select box) went out as this fragment's rerun, and the page was not
    drawn again for it (seen in Chromium under load: "Replay its training" switched on, and no replay). A report
    comes once per model the page loads, so this costs one run of the page each time."""
    report = (st.session_state.get(key) or {}).get("status")
    number = report.get("n") if isinstance(report, dict) else None
    if number == st.session_state.get(f"{key}_report"):
        return
    st.session_state[f"{key}_report"] = number
    if get_script_run_ctx().fragment_ids_this_run:  # a run of the whole page draws everything anyway
        st.rerun(scope="app")


def send_model(row, key: str, problem, view: str, latent_dim: int, label, shown: str, projection) -> None:
    """The decoder component under `key` (one per page: its state "status" is the page's report), holding `view`;
    nothing with a problem (say_where_decoded says it). projection: the PCA map's way back to z, or None where the
    page is given codes (Generate) or the map is the latent space."""
    _page_reruns_on_a_report(key)
    status = _status(row, key)
    failed = st.session_state.setdefault(FAILED, {})
    if status.get("ok") is False and not status.get("missing") and model_key(row) not in failed:
        reason = str(status.get("reason") or "an error")[:200]
        failed[model_key(row)] = f"the page could not run the decoder ({reason})"
        st.rerun()  # the whole page: what the page drew is drawn by the server now
    if problem:
        return
    _decoder(
        data=dict(
            key=model_key(row),
            view=view,
            runtime=dict(module=STATIC_URL + web_runtime.MODULE, wasm=STATIC_URL + web_runtime.WASM),
            model=None if status.get("ok") else _encoded(row.path, row.mtime)[0],  # sent until the page holds it
            status=status or None,
            info=dict(
                latent_dim=latent_dim,
                image_shape=list(row.image_shape),
                num_classes=row.num_classes,
                label=label,
                likelihood=row.likelihood,
                shown=shown,
                projection=projection,
            ),
        ),
        key=key,
    )


def free_label(x: float, y: float) -> str:
    return f"map point ({x:.2f}, {y:.2f})"


def decoded_image(view: str | None, point: tuple[float, float] | None, md, map_view: str) -> None:
    """The click's image drawn in the page (ui/js/decoded.js): first in the panel, so the element stays the same from
    run to run and a click draws into it at once. point: the free click the panel shows, or None. With a point the
    page also writes its z and the "Use as A/B" buttons; a button names the point it is under (the page may have
    moved it without the server: selection.js), which becomes the selection and the pick."""
    if view is None:
        return

    name = session.checkpoint_name()

    def take_pick() -> None:
        pick = (st.session_state.get("explore_decoded") or {}).get("pick")
        if not pick or pick.get("slot") not in ("A", "B"):
            return
        try:  # from the page: two finite numbers, or nothing
            x, y = float(pick["x"]), float(pick["y"])
        except (TypeError, ValueError):
            return
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        remember_selection(map_view, click_selection(md.xy, x, y, md.x_range, md.y_range))
        session.pick_latent(name, pick["slot"], md.projection.inverse([[x, y]])[0], free_label(x, y))

    picked = {slot: p["label"] for slot, p in session.picked_latents(name).items()}  # a title: plain text
    _decoded(
        data=dict(
            view=view,
            point=None if point is None else list(point),
            z_prefix="z = PCA⁻¹(x, y) = " if md.projection.is_pca else "z = ",
            picked=picked,
        ),
        key="explore_decoded",
        on_pick_change=take_pick,
    )


def decoded_grid(
    view: str, codes: np.ndarray, nrow: int, width: int, key: str, alt: str, between: float | None = None, little: float = 0.0
) -> None:
    """The codes (N, latent_dim) decoded in the page (ui/js/decoded_grid.js), nrow a row, drawn at least `width`
    pixels wide: Generate's interpolation and traversal rows, Explore's manifold. between, little: a traversal row's
    yardstick (sample_spread) and the ratio under which it "changes little" (vae_core.analysis.effects.LITTLE: not
    imported here, as it brings torch)."""
    codes = np.asarray(codes, np.float32)
    tag = f"{view}|{nrow}|" + hashlib.sha256(codes.tobytes()).hexdigest()[:16]  # these positions, to the bit
    _grid(
        data=dict(
            view=view, codes=codes.ravel().tolist(), nrow=nrow, width=width, tag=tag, alt=alt, between=between, little=little
        ),
        key=key,
    )
