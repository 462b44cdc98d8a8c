"""Plotly figures for the pages: pure functions of arrays, no Streamlit."""

from __future__ import annotations

import functools
import importlib
import sys
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go

from ui.geometry import ellipse_paths
from ui.text import plotly_text
from vae_core.maps.projection import LABEL_COLORS, label_name


def wait_for_import(name: str) -> None:
    """If another thread is importing module `name` right now, wait until it is done (an import takes the module's
    lock); otherwise do nothing, and import nothing."""
    spec = getattr(sys.modules.get(name), "__spec__", None)
    if spec is not None and getattr(spec, "_initializing", False):
        importlib.import_module(name)


def figure_builder(build):
    """plotly looks pandas up in sys.modules without importing it. While another thread was importing it
    (scikit-learn does, from the dataset prefetch or another session's script), a figure built then got the
    half-made module and the page failed ("partially initialized module 'pandas' has no attribute 'Series'").
    So every builder here first waits for such an import. It does not import pandas itself: the first paint
    would pay for it."""

    @functools.wraps(build)
    def settled(*args, **kwargs):
        wait_for_import("pandas")
        return build(*args, **kwargs)

    return settled


def label_color(label: int) -> str:
    return LABEL_COLORS[int(label) % len(LABEL_COLORS)]


QUIET_CHART = {"displayModeBar": False}  # small charts: the toolbar would cover their bars and labels
WEBGL_ABOVE = 3000  # points; SVG scatter gets slow beyond a few thousand


# The selection (a ring at a click, the dashed outline of a box or lasso) is drawn as a layout shape by
# ui/selection.py in the browser, onto the chart as it is, not by plotly's `selected` styles: those painted
# every node of a (since removed) click grid inside a box black, and vanished when the chart was drawn again while the side
# panel still showed the selection. It is not part of the figure: Streamlit gives a chart whose figure
# changes a new identity, and Chromium would then plot it from scratch at every click.
SELECTION_COLOR = "black"
RING_RADIUS = 9  # pixels


@figure_builder
def latent_map(
    md, ellipse_idx: np.ndarray | None = None, height: int = 620, underlays: tuple = (), colour_by: str = "label"
) -> go.Figure:
    """Test means coloured by label, or by one of their true factors, and optional 1-sigma ellipses (clicks
    anywhere: ui.selection); `underlays` (density or error shading) go beneath the points."""
    points = _label_traces(md, selectable=True) if colour_by == "label" else _factor_traces(md, colour_by)
    fig = go.Figure([*underlays, *points])
    if ellipse_idx is not None and len(ellipse_idx):
        fig.add_trace(_ellipses(md, ellipse_idx))
    _map_layout(fig, md, height)
    fig.update_layout(dragmode="pan", uirevision="latent-map", legend_title=colour_by)
    return fig


@figure_builder
def aggregate_posterior_traces(xs, ys, density, prior_mean, prior_cov) -> list:
    """q(z) as shading, with the prior's 1σ and 2σ contours over it: where the prior has mass and the shading
    is pale are the holes, where a decoded point was never trained on."""
    shading = go.Contour(
        x=xs,
        y=ys,
        z=density,
        name="q(z)",
        showscale=False,
        hoverinfo="skip",
        ncontours=12,
        colorscale=[[0, "rgba(255,255,255,0)"], [1, "rgba(70,70,70,0.55)"]],
        contours=dict(coloring="fill", showlines=False),
    )
    xs_p, ys_p = ellipse_paths(np.stack([prior_mean, prior_mean]), np.stack([prior_cov, 4 * prior_cov]), n=72)
    prior = go.Scatter(
        x=xs_p, y=ys_p, mode="lines", name="prior 1σ, 2σ", hoverinfo="skip", line=dict(color="#CC3311", width=1.5, dash="dot")
    )
    return [shading, prior]


@figure_builder
def round_trip_shading(projection) -> go.Heatmap:
    """Where the inverse of a nonlinear map can be trusted: its round-trip error, darker where it is larger."""
    g = projection.errors.shape[0]
    return go.Heatmap(
        x=np.linspace(*projection.error_x, g),
        y=np.linspace(*projection.error_y, g),
        z=projection.errors,
        name="round-trip error",
        showscale=False,
        zsmooth="best",
        hoverinfo="skip",
        colorscale=[[0, "rgba(255,255,255,0)"], [1, "rgba(200,60,0,0.45)"]],
    )


def selection_shape(selection) -> dict:
    """A ring of fixed pixel size at a click, or the dashed outline of a box or lasso, in map coordinates."""
    line = dict(color=SELECTION_COLOR, width=2.5)
    if selection.kind == "region":
        xs, ys = selection.outline
        path = "M" + "L".join(f"{x:.6g},{y:.6g}" for x, y in zip(xs, ys)) + "Z"
        return dict(type="path", path=path, name="selection", line={**line, "width": 1.5, "dash": "dash"})
    return dict(
        type="circle",
        name="selection",
        xref="x",
        yref="y",
        xsizemode="pixel",
        ysizemode="pixel",
        xanchor=selection.x,
        yanchor=selection.y,
        x0=-RING_RADIUS,
        x1=RING_RADIUS,
        y0=-RING_RADIUS,
        y1=RING_RADIUS,
        line=line,
    )


@figure_builder
def overlay_map(md, overlays: list[dict], height: int = 420) -> go.Figure:
    """The test means (faded) with paths or marked points on top; overlays are plotly scatter trace dicts."""
    fig = go.Figure([*_label_traces(md, opacity=0.35), *overlays])
    _map_layout(fig, md, height)
    return fig


def path_trace(name: str, xy: np.ndarray, color: str, text=None) -> dict:
    """A decoded path on the map: a line through its points, in order."""
    return dict(
        type="scatter",
        x=xy[:, 0],
        y=xy[:, 1],
        mode="lines+markers",
        name=name,
        text=text,
        line=dict(color=color, width=2),
        marker=dict(color=color, size=6),
        hovertemplate=f"{name}<br>%{{text}}<extra></extra>",
    )


def point_trace(name: str, xy: np.ndarray, color: str = "black", symbol: str = "star", text=None) -> dict:
    """Marked points on the map (endpoints, an uploaded image): large symbols with text beside them."""
    return dict(
        type="scatter",
        x=xy[:, 0],
        y=xy[:, 1],
        mode="markers+text",
        name=name,
        text=text,
        textposition="top center",
        textfont=dict(size=14, color=color),
        marker=dict(color=color, size=16, symbol=symbol, line=dict(color="white", width=1)),
        hoverinfo="skip",
    )


def _label_traces(md, selectable: bool = False, opacity: float = 1.0) -> list:
    """One trace of test means per label (WebGL above a few thousand points), so the legend names labels."""
    scatter = go.Scattergl if len(md.xy) > WEBGL_ABOVE else go.Scatter
    # selectable: plotly neither dims the other points nor restyles the selected ones
    extra = dict(selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))) if selectable else {}
    traces = []
    for label in np.unique(md.labels):
        idx = np.flatnonzero(md.labels == label)
        name = plotly_text(md.label_name(label))
        traces.append(
            scatter(
                x=md.xy[idx, 0],
                y=md.xy[idx, 1],
                mode="markers",
                name=name,
                customdata=idx,
                marker=dict(size=6 if len(md.xy) < 5000 else 3, line=dict(width=0), opacity=opacity, color=label_color(label)),
                hovertemplate=f"label {name}<br>index %{{customdata}}<extra></extra>",
                **extra,
            )
        )
    return traces


def _factor_traces(md, name: str) -> list:
    """The test means coloured by one true factor: a colour per category, or a colour scale for a quantity."""
    values = md.factor(name)
    if name in md.factor_categories:
        categories = md.factor_categories[name]
        coded = SimpleNamespace(xy=md.xy, labels=values.astype(int), label_name=lambda c: label_name(categories, c))
        return _label_traces(coded, selectable=True)
    name = plotly_text(name)
    scatter = go.Scattergl if len(md.xy) > WEBGL_ABOVE else go.Scatter
    return [
        scatter(
            x=md.xy[:, 0],
            y=md.xy[:, 1],
            mode="markers",
            name=name,
            customdata=np.arange(len(values)),
            text=[f"{v:.4g}" for v in values],
            showlegend=False,
            marker=dict(
                size=6 if len(md.xy) < 5000 else 3,
                line=dict(width=0),
                color=values,
                colorscale="Viridis",
                colorbar=dict(title=dict(text=name), thickness=14),
            ),
            hovertemplate=f"{name} %{{text}}<br>index %{{customdata}}<extra></extra>",
            selected=dict(marker=dict(opacity=1)),
            unselected=dict(marker=dict(opacity=1)),
        )
    ]


def _map_layout(fig: go.Figure, md, height: int) -> None:
    x_title, y_title = md.projection.axis_names
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(title="label", itemsizing="constant"),
        xaxis=dict(title=x_title, range=list(md.x_range), zeroline=False),
        yaxis=dict(title=y_title, range=list(md.y_range), zeroline=False),
        hovermode="closest",
    )


def _ellipses(md, idx: np.ndarray) -> go.Scatter:
    """1-sigma contours of q(z|x) on the map, for the test images idx."""
    xs, ys = ellipse_paths(md.xy[idx], md.projection.map_covariances(md.logvar[idx]))
    return go.Scatter(
        x=xs, y=ys, mode="lines", name="1σ of q(z|x)", hoverinfo="skip", line=dict(width=1, color="rgba(60,60,60,0.45)")
    )


BETA_COLOR = "#9467bd"
CURVE_COLORS = dict(recon="#1f77b4", loss="#444444", kl="#d62728", beta_kl="#ff9896")  # also the live canvas's
MAX_BETA_LABELS = 4  # text labels for the last few changes only: more would cover the KL chart


@figure_builder
def training_curves(events: list[dict], beta_changes: list, height: int = 380) -> go.Figure:
    """Left: reconstruction and total loss; right: KL and beta x KL, and beta itself (scheduled and set by
    hand) on its own axis. Lines per logged step, markers per epoch.

    Built from plain dicts with two hand-placed axes: make_subplots and add_vline are far slower, and
    this figure is rebuilt at every poll of a paused run (while it trains, ui/live_curves.py draws the curves).
    """
    steps = [e for e in events if e["type"] == "step"]
    epochs = [e for e in events if e["type"] == "epoch"]
    x, ex = [e["step"] for e in steps], [e["step"] for e in epochs]
    betas = [e["beta"] for e in steps]
    traces = [
        _line("recon", x, [e["recon"] for e in steps], CURVE_COLORS["recon"], 1),
        _line("loss = recon + β·KL", x, [e["loss"] for e in steps], CURVE_COLORS["loss"], 1),
        _line("KL", x, [e["kl"] for e in steps], CURVE_COLORS["kl"], 2),
        _line("β·KL", x, [e["beta"] * e["kl"] for e in steps], CURVE_COLORS["beta_kl"], 2),
        _epoch_markers("test recon", ex, [e["test_recon"] for e in epochs], CURVE_COLORS["recon"], 1),
        _epoch_markers("test −ELBO", ex, [e["test_loss"] for e in epochs], CURVE_COLORS["loss"], 1),
        _epoch_markers("test KL", ex, [e["test_kl"] for e in epochs], CURVE_COLORS["kl"], 2),
        dict(_line("β in force", x, betas, BETA_COLOR, 2), yaxis="y3", line=dict(color=BETA_COLOR, width=1.5, shape="hv")),
    ]
    marks = [
        dict(
            type="line", xref=xref, yref="paper", x0=step, x1=step, y0=0, y1=1, line=dict(color=BETA_COLOR, dash="dot", width=1)
        )
        for step, _ in beta_changes
        for xref in ("x", "x2")
    ]
    # inside the panel, under its top edge: above it they sat on the panel's title and under the toolbar
    labels = [
        dict(
            x=step,
            xref="x2",
            y=0.99,
            yref="paper",
            text=f"β→{beta:g}",
            showarrow=False,
            yanchor="top",
            xanchor="left",
            bgcolor="rgba(255,255,255,0.8)",
            font=dict(color=BETA_COLOR),
        )
        for step, beta in beta_changes[-MAX_BETA_LABELS:]
    ]
    # from each panel's left edge: the toolbar takes the top right corner
    titles = [
        dict(
            x=cx,
            xref="paper",
            y=1.02,
            yref="paper",
            showarrow=False,
            text=t,
            font=dict(size=13),
            xanchor="left",
            yanchor="bottom",
        )
        # short: each title has its panel's width, under half the run's column (the likelihood is in the run's caption)
        for cx, t in ((0.0, "recon and loss, nats/image"), (0.54, "KL, nats/image"))
    ]
    ticks = bool(steps)  # before a run: the empty axes, without numbers that would mean nothing
    layout = dict(
        height=height,
        margin=dict(l=10, r=40, t=40, b=10),
        legend=dict(orientation="h", y=-0.25),
        xaxis=dict(domain=[0, 0.46], title="step", showticklabels=ticks),
        xaxis2=dict(domain=[0.54, 1], title="step", anchor="y2", showticklabels=ticks),
        yaxis=dict(anchor="x", showticklabels=ticks),
        yaxis2=dict(anchor="x2", showticklabels=ticks),
        shapes=marks,
        annotations=titles + labels,
        yaxis3=dict(
            overlaying="y2",
            side="right",
            anchor="x2",
            showgrid=False,
            zeroline=False,
            range=[0, 1.25 * max(betas + [1e-3])],
            nticks=4,
            showticklabels=ticks,
            visible=ticks,  # before a run, a lone "β" at the edge would say nothing
            title=dict(text="β", font=dict(color=BETA_COLOR)),
            tickfont=dict(color=BETA_COLOR),
        ),
    )
    return go.Figure(dict(data=traces, layout=layout))


def _line(name, x, y, color, panel):
    return dict(
        type="scatter",
        mode="lines",
        name=name,
        x=x,
        y=y,
        line=dict(color=color, width=1.5),
        xaxis=f"x{panel if panel > 1 else ''}",
        yaxis=f"y{panel if panel > 1 else ''}",
    )


MARKED_EPOCHS = 40  # beyond this the per-epoch test values are a dotted line: each marker is an SVG node the
# browser repaints twice a second, on the CPU the training needs

# what the curves' canvas (ui/js/live_curves.js: the Train page's, and the notebook Monitor's) draws with, so that it
# and training_curves draw alike
CURVES_JS_CONSTANTS = dict(
    BETA_COLOR=BETA_COLOR, CURVE_COLORS=CURVE_COLORS, MARKED_EPOCHS=MARKED_EPOCHS, MAX_BETA_LABELS=MAX_BETA_LABELS
)


def _epoch_markers(name, x, y, color, panel):
    marked = len(x) <= MARKED_EPOCHS
    return dict(
        _line(name, x, y, color, panel),
        mode="lines+markers" if marked else "lines",
        line=dict(color=color, width=1.5, dash="dot"),
        marker=dict(color=color, size=7, symbol="diamond"),
    )


@figure_builder
def sweep_curve(group: str, rows: list) -> go.Scatter:
    """A sweep's rate-distortion curve: per beta the median over seeds, bars from the lowest to the highest."""
    betas = sorted({r.beta for r in rows if r.beta is not None})
    kl, recon = ([[getattr(r, k) for r in rows if r.beta == b] for b in betas] for k in ("test_kl", "test_recon"))
    mx, my = [float(np.median(v)) for v in kl], [float(np.median(v)) for v in recon]
    return go.Scatter(
        x=mx,
        y=my,
        mode="lines+markers",
        name=f"{plotly_text(group)}: median over seeds",
        showlegend=True,
        error_x=_spread(kl, mx),
        error_y=_spread(recon, my),
        line=dict(color="#444444", width=1.5),
        marker=dict(size=6, color="#444444"),
        text=[f"β={b:g}" for b in betas],
        hovertemplate=f"{plotly_text(group)} %{{text}}<br>median KL %{{x:.2f}}, recon %{{y:.2f}}<extra></extra>",
    )


DISENTANGLEMENT_TERMS = (
    ("mig", "MIG", "#0072B2"),
    ("dci_disentanglement", "DCI disentanglement", "#E69F00"),
    ("dci_completeness", "DCI completeness", "#009E73"),
    ("dci_informativeness", "DCI informativeness", "#999933"),
    ("sap", "SAP", "#CC79A7"),
    ("factorvae", "FactorVAE score", "#D55E00"),
)


def _spread(values: list[list[float]], mid: list[float]) -> dict:
    """Error bars from the lowest to the highest of each group of values, around its median."""
    return dict(
        type="data",
        symmetric=False,
        array=[max(v) - m for v, m in zip(values, mid)],
        arrayminus=[m - min(v) for v, m in zip(values, mid)],
        thickness=1,
        width=3,
    )


SWEEP_SCORES = ("mig", "dci_disentanglement", "dci_completeness")


@figure_builder
def disentanglement_against_beta(rows: list, height: int = 480) -> go.Figure:
    """MIG and the DCI scores against β: per β the median over the runs trained at it, bars from the lowest to the
    highest (the β-VAE trade-off, beside the rate-distortion plane)."""
    scored = [r for r in rows if r.beta is not None and r.score("mig") is not None]
    betas = sorted({r.beta for r in scored})
    runs = [[r for r in scored if r.beta == b] for b in betas]
    traces = []
    for key, name, color in (t for t in DISENTANGLEMENT_TERMS if t[0] in SWEEP_SCORES):
        values = [[r.score(key) for r in group] for group in runs]
        mid = [float(np.median(v)) for v in values]
        traces.append(
            go.Scatter(
                x=betas,
                y=mid,
                mode="lines+markers",
                name=name,
                error_y=_spread(values, mid),
                line=dict(color=color, width=1.5),
                text=[f"{len(v)} runs" for v in values],
                hovertemplate=f"{name}<br>β=%{{x:g}}: median %{{y:.3f}} of %{{text}}<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=60, b=10),
        legend=dict(orientation="h", y=-0.2),
        xaxis=dict(title="β (log scale)", type="log"),
        yaxis=dict(title="score", rangemode="tozero"),
    )
    return fig


POSTERIOR_TERMS = (
    ("mutual_info", "I(x; z)", "#0072B2"),
    ("total_correlation", "total correlation", "#E69F00"),
    ("dimwise_kl", "dimension-wise KL", "#009E73"),
)


@figure_builder
def posterior_terms(epochs: list[dict], height: int = 260) -> go.Figure:
    """The average KL split into I(x;z) + TC + dimension-wise KL, per epoch (vae_core.stats.estimators)."""
    done = [e for e in epochs if "mutual_info" in e]
    x = [e["epoch"] for e in done]
    mode = "lines+markers" if len(x) <= MARKED_EPOCHS else "lines"  # as the curves: markers cost the browser CPU
    fig = go.Figure(
        [
            go.Scatter(x=x, y=[e[key] for e in done], mode=mode, name=name, line=dict(color=color))
            for key, name, color in POSTERIOR_TERMS
        ]
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="epoch",
        yaxis_title="nats",
        legend=dict(orientation="h", y=-0.3),
    )
    return fig


@figure_builder
def disentanglement_curves(epochs: list[dict], height: int = 260) -> go.Figure:
    """The disentanglement metrics of the epochs that measured them (data with known factors), from 0 to 1."""
    done = [e for e in epochs if "disentanglement" in e]
    x = [e["epoch"] for e in done]
    fig = go.Figure(
        [
            go.Scatter(
                x=x, y=[e["disentanglement"][key] for e in done], mode="lines+markers", name=name, line=dict(color=color)
            )
            for key, name, color in DISENTANGLEMENT_TERMS
        ]
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="epoch",
        yaxis=dict(title="score", rangemode="tozero"),
        legend=dict(orientation="h", y=-0.3),
    )
    return fig


ACTIVE_KL = 0.01  # nats: a dimension whose KL is below this carries almost nothing (collapsed to the prior)
KL_COLORSCALE = "Blues"


def kl_bar_colors(kl_per_dim: list[float]) -> list[str]:
    """Red for a dimension in use, grey for a collapsed one."""
    return [CURVE_COLORS["kl"] if v > ACTIVE_KL else "#bbbbbb" for v in kl_per_dim]


@figure_builder
def kl_bars(kl_per_dim: list[float]) -> go.Figure:
    """KL per latent dimension; dimensions that carry almost nothing (collapsed) are greyed."""
    fig = go.Figure(
        go.Bar(x=[f"z{i + 1}" for i in range(len(kl_per_dim))], y=kl_per_dim, marker_color=kl_bar_colors(kl_per_dim))
    )
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="KL (nats)")
    return fig


@figure_builder
def kl_heatmap(replay, current: int | None = None, height: int = 240) -> go.Figure:
    """KL per latent dimension (rows) over the epochs of a replay (columns), from white (collapsed) to dark;
    dotted lines where beta moved, the frame `current` outlined."""
    frames = replay.frames
    epochs = [f.epoch for f in frames]
    kl = np.array([f.kl_per_dim for f in frames]).T  # (D, epochs)
    fig = go.Figure(
        go.Heatmap(
            z=kl,
            x=epochs,
            y=[f"z{d + 1}" for d in range(len(kl))],
            colorscale=KL_COLORSCALE,
            colorbar=dict(title="nats", thickness=12),
            hovertemplate="epoch %{x}, %{y}: KL %{z:.3f} nats<extra></extra>",
        )
    )
    shapes = [
        dict(
            type="line",
            x0=frames[i].epoch - 0.5,
            x1=frames[i].epoch - 0.5,
            yref="paper",
            y0=0,
            y1=1,
            line=dict(color=BETA_COLOR, dash="dot", width=1.5),
        )
        for i in range(len(frames))
        if replay.beta_changed(i)
    ]
    if current is not None:
        e = frames[current].epoch
        shapes.append(dict(type="rect", x0=e - 0.5, x1=e + 0.5, yref="paper", y0=0, y1=1, line=dict(color="black", width=2)))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="epoch", shapes=shapes, yaxis=dict(autorange="reversed")
    )
    return fig


SMALL_MAP_HEIGHT = 300  # ten labels fit its legend, without a scroll bar


@figure_builder
def small_map(xy: np.ndarray, labels: np.ndarray, axis_names, class_names=(), height: int = SMALL_MAP_HEIGHT) -> go.Figure:
    """The Train page's live map: one trace per label, in the same colours as every other map."""
    traces = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        name = plotly_text(label_name(class_names, label))
        traces.append(
            go.Scatter(
                x=xy[idx, 0],
                y=xy[idx, 1],
                mode="markers",
                name=name,
                marker=dict(size=4, color=label_color(label)),
                hovertemplate=f"label {name}<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        legend=dict(itemsizing="constant", font=dict(size=11), tracegroupgap=0),
        xaxis_title=axis_names[0],
        yaxis_title=axis_names[1],
    )
    return fig


def point_labels(rows: list, near: float = 0.04) -> list[str]:
    """Names to write beside the points: none for a sweep's runs (their curve is labelled) nor for a point within
    `near` of the plot's span of one already named (runs that collapsed alike pile up: hover tells them apart)."""
    xy = np.array([[r.test_kl, r.test_recon] for r in rows], dtype=float).reshape(-1, 2)
    span = np.maximum(np.ptp(xy, axis=0), 1e-9) if len(xy) else np.ones(2)
    named, labels = [], []
    for row, point in zip(rows, xy):
        crowded = any((np.abs(point - other) / span < near).all() for other in named)
        labels.append("" if row.group or crowded else plotly_text(row.name))
        if labels[-1]:
            named.append(point)
    return labels


@figure_builder
def rate_distortion(rows: list, height: int = 480) -> go.Figure:
    """Every checkpoint row as a point: rate (test KL) against distortion (test reconstruction), labelled by
    name and coloured by beta."""
    betas = [r.beta for r in rows]
    fig = go.Figure(
        go.Scatter(
            x=[r.test_kl for r in rows],
            y=[r.test_recon for r in rows],
            mode="markers+text",
            name="checkpoints",
            showlegend=False,
            text=point_labels(rows),
            textposition="top center",
            customdata=[[plotly_text(r.name), plotly_text(r.dataset), r.latent_dim, r.test_loss, r.beta_text] for r in rows],
            marker=dict(
                size=11,
                color=[float("nan") if b is None else b for b in betas],
                colorscale="Viridis",
                symbol=["diamond" if r.beta_path else "circle" for r in rows],
                showscale=len(rows) > 1,
                colorbar=dict(title="β"),
            ),
            hovertemplate="%{customdata[0]}: β=%{customdata[4]}<br>%{customdata[1]}, z=%{customdata[2]}<br>KL %{x:.2f}, "
            "recon %{y:.2f}"
            "<br>−ELBO %{customdata[3]:.2f}<extra></extra>",
        )
    )
    for group in sorted({r.group for r in rows if r.group}):
        fig.add_trace(sweep_curve(group, [r for r in rows if r.group == group]))
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=60, b=10),  # room above for labels and the toolbar
        legend=dict(orientation="h", y=-0.2),
        xaxis_title="rate: test KL (nats/image)",
        yaxis_title="distortion: test reconstruction (nats/image)",
    )
    fig.update_traces(cliponaxis=False)
    return fig
