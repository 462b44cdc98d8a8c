"""The latent map and the panel beside it: the map by the chosen projection, the click's panel, the manifold."""

import hashlib

import numpy as np
import streamlit as st

from ui import catalogue, session
from ui.explore.address import write_link
from ui.explore.browser_decode import decoded_grid, decoded_image, page_decodes
from ui.explore.clicked import selection_panel
from ui.explore.controls import ELLIPSE_SAMPLE
from ui.explore.details import estimates_panel
from ui.explore.map_state import CLEARED, current_selection, map_chart_key
from ui.figures import aggregate_posterior_traces, latent_map, round_trip_shading
from ui.geometry import click_radius
from ui.images import grid
from ui.navigation import guarded
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
    """The map and what a click on it shows. A fragment: a box or lasso selection reruns only this, not the page
    around it; a click reruns less still (click_panel)."""
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
    with side_col:
        st.fragment(guarded(click_panel))(row, md, view, projection, choices)
        if choices["manifold"]:
            manifold(row, md, projection, choices)
        estimates_panel(row)


def manifold(row, md, projection: str, choices: dict) -> None:
    """The decoded grid over the map: by the page where it holds the decoder (the server computes only the grid's
    codes), else by the server (cached)."""
    n, label = choices["grid_n"], choices["label"]
    under = "" if label is None else f", under the label {plain(md.label_name(label))}"
    caption = f"Decoded manifold: {n}×{n} grid over the map's region{under}"
    if choices["page_view"] is not None and page_decodes(row):
        from vae_core.analysis.latent import grid_points  # first paint: torch comes after the map

        codes = md.projection.inverse(grid_points(md.x_range, md.y_range, n))
        decoded_grid(choices["page_view"], codes, n, max(520, 24 * n), "explore_manifold_grid", "the decoded manifold")
        st.caption(caption)
    else:
        st.image(manifold_image(row.path, row.mtime, n, projection, session.image_shown(), label, md), caption=caption)


def click_panel(row, md, view: str, projection: str, choices: dict) -> None:
    """What a click shows, and the map's click listener (ui.selection), in a fragment of their own inside the map's:
    a click reruns only this. The map's figure is not sent again (st.plotly_chart serializes it at every run), nor
    the manifold or the estimates; where the page decodes a free click, this loads no model and decodes nothing, so
    the server's part of a click is the coordinates, z and the "Use as A/B" buttons (BENCHMARKS.md, section 15)."""
    if st.session_state.pop(CLEARED, False):  # the chart's own box or lasso is emptied by a new key: the map's run
        st.rerun()
    selection = current_selection(view, md)
    write_link(row.name, projection, selection)
    in_page = choices["page_view"] is not None and page_decodes(row)
    free = selection is not None and selection.kind == "free" and in_page
    # while the panel shows a free point drawn by the page, the page keeps the next free clicks to itself
    local = dict(view=choices["page_view"], radius=click_radius(md.x_range, md.y_range)) if free else None
    show_selection(selection, view, key="explore_selection", local=local)  # draws the ring on the map: no layout
    with st.container(border=True):
        point = (selection.x, selection.y) if free else None
        decoded_image(choices["page_view"], point, md, view)  # first: it stays put
        selection_panel(row, md, view, selection, choices["label"], in_page)
