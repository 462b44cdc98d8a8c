"""Plotly figures for the pages: pure functions of arrays, no Streamlit."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.geometry import ellipse_paths

WEBGL_ABOVE = 3000  # points; SVG scatter gets slow beyond a few thousand
CLICK_GRID = 90     # nodes per side of the invisible grid that catches clicks on empty space


# Plotly marks the clicked point itself with the `selected` style, in the browser: the figure stays the
# same from click to click, so Streamlit does not redraw the chart and a click costs only the side panel.
CLICK_MARK = dict(marker=dict(opacity=1, color="black", size=13))


def latent_map(md, ellipse_idx: np.ndarray | None = None, height: int = 620) -> go.Figure:
    """Test means coloured by label, an invisible click-catching grid, optional 1-sigma ellipses."""
    scatter = go.Scattergl if len(md.xy) > WEBGL_ABOVE else go.Scatter
    fig = go.Figure()
    fig.add_trace(_click_grid(md.x_range, md.y_range))
    for label in np.unique(md.labels):
        idx = np.flatnonzero(md.labels == label)
        name = md.class_names[label] if label < len(md.class_names) else str(label)
        fig.add_trace(scatter(
            x=md.xy[idx, 0], y=md.xy[idx, 1], mode="markers", name=name, customdata=idx,
            marker=dict(size=6 if len(md.xy) < 5000 else 3, line=dict(width=0)),
            selected=CLICK_MARK, unselected=dict(marker=dict(opacity=1)),  # no dimming of the others
            hovertemplate=f"label {name}<br>index %{{customdata}}<extra></extra>"))
    if ellipse_idx is not None and len(ellipse_idx):
        fig.add_trace(_ellipses(md, ellipse_idx))
    x_title, y_title = md.projection.axis_names
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=30, b=10), legend=dict(title="label", itemsizing="constant"),
        xaxis=dict(title=x_title, range=list(md.x_range), zeroline=False),
        yaxis=dict(title=y_title, range=list(md.y_range), zeroline=False),
        hovermode="closest", dragmode="pan", uirevision="latent-map")
    return fig


def _click_grid(x_range, y_range) -> go.Scattergl:
    """Plotly reports clicks only on markers: a dense grid of invisible ones makes every spot clickable."""
    xs, ys = np.meshgrid(np.linspace(*x_range, CLICK_GRID), np.linspace(*y_range, CLICK_GRID))
    return go.Scattergl(x=xs.ravel(), y=ys.ravel(), mode="markers", name="grid", showlegend=False,
                        hoverinfo="none", marker=dict(size=8, opacity=0, color="grey"),
                        selected=CLICK_MARK, unselected=dict(marker=dict(opacity=0)))


def _ellipses(md, idx: np.ndarray) -> go.Scatter:
    """1-sigma contours of q(z|x), projected onto the map: W diag(sigma^2) W^T for PCA, diagonal otherwise."""
    var = np.exp(md.logvar[idx])                                   # (K, D)
    pca = md.projection.pca
    if pca is None:
        d = min(var.shape[1], 2)
        covs = np.zeros((len(idx), 2, 2))
        covs[:, range(d), range(d)] = var[:, :d]
    else:
        w = pca.components_                                        # (2, D)
        covs = np.einsum("id,kd,jd->kij", w, var, w)
    xs, ys = ellipse_paths(md.xy[idx], covs)
    return go.Scatter(x=xs, y=ys, mode="lines", name="1σ of q(z|x)", hoverinfo="skip",
                      line=dict(width=1, color="rgba(60,60,60,0.45)"))
