"""The latent map and the panel beside it: the map by the chosen projection, the click's panel, the manifold."""

import hashlib

import numpy as np
import streamlit as st

from ui import catalogue, session
from ui.explore.address import write_link
from ui.explore.browser_decode import decoded_image, page_decodes
from ui.explore.clicked import selection_panel
from ui.explore.controls import ELLIPSE_SAMPLE
from ui.explore.details import estimates_panel
from ui.explore.map_state import current_selection, map_chart_key
from ui.figures import aggregate_posterior_traces, latent_map, round_trip_shading
from ui.images import grid
from ui.selection import show_selection
from ui.text import plain
from vae_core.stats.estimators import density_grid

DENSITY_POINTS = 2000  # test images whose posteriors make the q(z) shading (the map shows them all)


def current_map(row, projection: str):
    """The test set's map by the chosen projection; a UMAP or t-SNE fit shows its progress while it runs."""
    md = catalogue.map_data(row.path, row.mtime)
    if projection == "pca":
        return md
    placeholder = st.empty()
    md = catalogue.nonlinear_map(row, md, projection, lambda message, done: placeholder.progress(done, text=message))
    placeholder.empty()
    return md


@st.cache_data(show_spinner=False, max_entries=32)
def manifold_image(path: str, mtime: int, n: int, projection: str, shown: str, label: int | None, _md) -> str:
    """The decoded grid over `_md`, the map of this model by this projection, under `label` for a conditional model."""
    from vae_core.analysis.latent import decode_grid  # first paint: torch comes after the map

    model = catalogue.load_model(path, mtime)[0].with_label(label)
    images = decode_grid(model, _md.projection, _md.x_range, _md.y_range, n, shown)
    return grid(images, nrow=n, width=max(520, 24 * n))


@st.cache_data(show_spinner="Shading the aggregate posterior…", max_entries=16)
def aggregate_posterior(path: str, mtime: int) -> list:
    """q(z) on the map (the mixture of the test images' posteriors: exact for a 2-D latent, its marginal on
    the PCA plane otherwise) and the prior's contours."""
    md = catalogue.map_data(path, mtime)
    means, logvars = md.xy[:DENSITY_POINTS], md.logvar[:DENSITY_POINTS]
    xs, ys, density = density_grid(means, md.projection.map_covariances(logvars), md.x_range, md.y_range)
    return aggregate_posterior_traces(xs, ys, density, *md.projection.map_prior())


@st.cache_resource(show_spinner=False, max_entries=16)
def map_figure(path: str, mtime: int, projection: str, digest: str, ellipses: bool, underlay: str, colour: str, _md):
    """The map's figure, built once per model, map (`digest`: its points) and options: each click reruns the panel
    beside it, and building the figure again (plotly validates every trace) was the largest part of that rerun once
    the page decodes the click itself (BENCHMARKS.md, section 15). One object for every session: st.plotly_chart
    only reads it."""
    rng = np.random.default_rng(0)
    ellipse_idx = rng.choice(len(_md.xy), min(ELLIPSE_SAMPLE, len(_md.xy)), replace=False) if ellipses else None
    underlays = (
        aggregate_posterior(path, mtime)
        if underlay == "aggregate"
        else [round_trip_shading(_md.projection)]
        if underlay == "errors"
        else []
    )
    return latent_map(_md, ellipse_idx=ellipse_idx, underlays=underlays, colour_by=colour)


def map_and_panel(row, md, view: str, projection: str, choices: dict) -> None:
    """The map and what a click on it shows. A fragment: a click reruns only this, not the page around it."""
    selection = current_selection(view, md)
    write_link(row.name, projection, selection)
    map_col, side_col = st.columns([4, 3], gap="medium")
    with map_col:
        underlay = "aggregate" if choices.get("aggregate") else "errors" if choices.get("errors") else ""
        digest = hashlib.sha256(md.xy.tobytes() + md.labels.tobytes()).hexdigest()  # the map itself, to the bit
        figure = map_figure(row.path, row.mtime, projection, digest, bool(choices["ellipses"]), underlay, choices["colour"], md)
        st.plotly_chart(
            figure,
            key=map_chart_key(view),
            on_select="rerun",
            selection_mode=("box", "lasso"),  # clicks come from ui.selection, never dropped
            config={"displaylogo": False, "scrollZoom": False},
        )  # the wheel scrolls the page, not the axes
        show_selection(selection, view, key="explore_selection")
    with side_col:
        with st.container(border=True):
            in_page = choices["page_view"] is not None and page_decodes(row)
            free = selection is not None and selection.kind == "free" and in_page
            decoded_image(choices["page_view"], (selection.x, selection.y) if free else None)  # first: it stays put
            selection_panel(row, md, view, selection, choices["label"], in_page)
        if choices["manifold"]:
            under = "" if choices["label"] is None else f", under the label {plain(md.label_name(choices['label']))}"
            st.image(
                manifold_image(row.path, row.mtime, choices["grid_n"], projection, session.image_shown(), choices["label"], md),
                caption=f"Decoded manifold: {choices['grid_n']}×{choices['grid_n']} grid over the map's region{under}",
            )
        estimates_panel(row)
