"""Small charts drawn on a canvas in the browser, for the views that move while a run trains.

Plotly redraws a whole SVG figure at each update, axes and margins included, on the CPU the training needs
(BENCHMARKS.md, section 8); a canvas draws the same points at a small fraction of that cost. These charts have
no hover or zoom; the pages show the Plotly figure instead once the run is paused or over. Their drawing is
ui/js/charts.js, on the helpers of ui/js/canvas.js that the live curves (ui/live_curves.py) share.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import streamlit as st

from ui.figures import (
    ACTIVE_KL,
    BETA_COLOR,
    DISENTANGLEMENT_TERMS,
    KL_COLORSCALE,
    MARKED_EPOCHS,
    POSTERIOR_TERMS,
    QUIET_CHART,
    kl_bar_colors,
    label_color,
)
from ui.scripts import component_script
from vae_core.maps.projection import label_name

CHARTS_JS = component_script("canvas.js", "charts.js")
_mount = st.components.v2.component("vae_explorer_canvas_chart", js=CHARTS_JS, isolate_styles=False)
KL_SCALE = plotly.colors.get_colorscale(KL_COLORSCALE)  # the stops of ui.figures.kl_heatmap's colour scale


def _floats(values, digits: int = 4) -> list:
    """Rounded numbers for the page's JSON; a value that is missing or not finite is null (JSON has no NaN)."""
    rounded = np.round(np.array(values, dtype=float), digits)  # None becomes NaN here
    return np.where(np.isfinite(rounded), rounded, None).tolist()


def small_map_data(xy: np.ndarray, labels: np.ndarray, axis_names, class_names, x_range, y_range) -> dict:
    """ui.figures.small_map as canvas data: points with the index of their label's group, one colour per group."""
    groups, index = np.unique(labels, return_inverse=True)
    names = [label_name(class_names, g) for g in groups]
    return dict(
        kind="scatter",
        x=_floats(xy[:, 0]),
        y=_floats(xy[:, 1]),
        groups=index.tolist(),
        names=names,
        colors=[label_color(g) for g in groups],
        x_range=_floats(x_range),
        y_range=_floats(y_range),
        x_title=axis_names[0],
        y_title=axis_names[1],
        description="the latent map of this epoch",
    )


def kl_bars_data(kl_per_dim: list[float]) -> dict:
    """ui.figures.kl_bars as canvas data."""
    return dict(
        kind="bars",
        values=_floats(kl_per_dim),
        names=[f"z{i + 1}" for i in range(len(kl_per_dim))],
        colors=kl_bar_colors(kl_per_dim),
        y_title="KL (nats)",
        floor=5 * ACTIVE_KL,
        description="KL per latent dimension",
    )


def kl_heatmap_data(replay, current: int | None) -> dict:
    """ui.figures.kl_heatmap as canvas data: rows are dimensions (z1 at the top), columns epochs."""
    frames = replay.frames
    return dict(
        kind="heatmap",
        z=_floats(np.array([f.kl_per_dim for f in frames]).T),
        x=[f.epoch for f in frames],
        names=[f"z{d + 1}" for d in range(len(frames[0].kl_per_dim))],
        colorscale=KL_SCALE,
        x_title="epoch",
        marks=[frames[i].epoch - 0.5 for i in range(len(frames)) if replay.beta_changed(i)],
        mark_color=BETA_COLOR,
        outline=None if current is None else frames[current].epoch,
        description="KL per dimension over the epochs",
    )


def posterior_terms_data(epochs: list[dict]) -> dict:
    """ui.figures.posterior_terms as canvas data."""
    done = [e for e in epochs if "mutual_info" in e]
    return dict(
        kind="lines",
        x=[e["epoch"] for e in done],
        x_title="epoch",
        y_title="nats",
        series=[dict(name=name, y=_floats([e[key] for e in done]), color=color) for key, name, color in POSTERIOR_TERMS],
        markers=len(done) <= MARKED_EPOCHS,
        description="the average KL split up, per epoch",
    )


def disentanglement_data(epochs: list[dict]) -> dict:
    """ui.figures.disentanglement_curves as canvas data."""
    done = [e for e in epochs if "disentanglement" in e]
    return dict(
        kind="lines",
        x=[e["epoch"] for e in done],
        x_title="epoch",
        y_title="score",
        series=[
            dict(name=name, y=_floats([e["disentanglement"][key] for e in done]), color=color)
            for key, name, color in DISENTANGLEMENT_TERMS
        ],
        markers=True,
        description="the disentanglement metrics, per measured epoch",
    )


def canvas_chart(data: dict, key: str, height: int = 260) -> None:
    """Draw one of the *_data charts above on a canvas."""
    _mount(data=dict(data, height=height), key=key, width="stretch")


def live_or_figure(
    live: bool, key: str, canvas_data: Callable[[], dict], figure: Callable[[], go.Figure], height: int = 260
) -> None:
    """While a run trains (live), the chart on a canvas; otherwise Plotly's figure, with hover and zoom."""
    if live:
        canvas_chart(canvas_data(), key=f"{key}_live", height=height)
    else:
        st.plotly_chart(figure(), key=key, config=QUIET_CHART)
