"""Map geometry for clicks and selections: plain numpy, no Streamlit, so it is unit-testable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np


def nearest_point(xy: np.ndarray, x: float, y: float, radius: float) -> int | None:
    """Index of the data point nearest to (x, y) if it lies within `radius`, else None."""
    if len(xy) == 0:
        return None
    d2 = (xy[:, 0] - x) ** 2 + (xy[:, 1] - y) ** 2
    i = int(np.argmin(d2))
    return i if d2[i] <= radius**2 else None


def click_radius(x_range, y_range, fraction: float = 0.015) -> float:
    """How close a click must be to a point to count as that point: a small share of the map's size."""
    return fraction * max(x_range[1] - x_range[0], y_range[1] - y_range[0])


def points_in_box(xy: np.ndarray, xs, ys) -> np.ndarray:
    (x0, x1), (y0, y1) = sorted(xs), sorted(ys)
    inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    return np.flatnonzero(inside)


def points_in_polygon(xy: np.ndarray, xs, ys) -> np.ndarray:
    """Even-odd ray casting, vectorised over the points."""
    px, py = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    x, y = xy[:, 0:1], xy[:, 1:2]  # (N, 1) against (M,) edges
    crosses = ((py > y) != (qy > y)) & (x < (qx - px) * (y - py) / np.where(qy == py, 1e-12, qy - py) + px)
    return np.flatnonzero(crosses.sum(axis=1) % 2 == 1)


def ellipse_paths(centers: np.ndarray, covs: np.ndarray, n: int = 24) -> tuple[list, list]:
    """1-sigma ellipses of 2x2 covariances as one polyline each, separated by None for a single trace."""
    t = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)])  # (2, n)
    xs, ys = [], []
    for c, cov in zip(centers, covs):
        vals, vecs = np.linalg.eigh(cov)
        pts = c[:, None] + vecs @ (np.sqrt(np.maximum(vals, 0))[:, None] * circle)
        xs += [*pts[0].tolist(), None]
        ys += [*pts[1].tolist(), None]
    return xs, ys


@dataclass(frozen=True)
class Selection:
    """What the user meant by a selection on the map.

    point:  a click on (or right next to) test image `index`; x, y are that point's position.
    free:   a click on empty map at (x, y), a location to decode.
    region: a box or lasso selection holding the test images `indices`, drawn along `outline` (xs, ys).
    """

    kind: Literal["point", "free", "region"]
    x: float | None = None
    y: float | None = None
    index: int | None = None
    indices: np.ndarray | None = None
    outline: tuple | None = None


def read_selection(event, xy: np.ndarray) -> Selection | None:
    """Turn a plotly selection event (a mapping, as st.plotly_chart returns it) into a box or lasso region, or
    None when it holds neither. Resolved from coordinates, not curve numbers, so the trace order is free."""
    sel = (event or {}).get("selection") or {}
    box, lasso = sel.get("box") or [], sel.get("lasso") or []
    if box:
        (x0, x1), (y0, y1) = box[-1]["x"], box[-1]["y"]
        return Selection(
            "region", indices=points_in_box(xy, [x0, x1], [y0, y1]), outline=([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
        )
    if lasso:
        xs, ys = list(lasso[-1]["x"]), list(lasso[-1]["y"])
        return Selection("region", indices=points_in_polygon(xy, xs, ys), outline=(xs + xs[:1], ys + ys[:1]))
    return None


def click_selection(xy: np.ndarray, x: float, y: float, x_range, y_range) -> Selection:
    """A click at (x, y) on a map whose test points lie at xy: that point when one is right there, else the spot."""
    index = nearest_point(xy, x, y, click_radius(x_range, y_range))
    if index is None:
        return Selection("free", x=float(x), y=float(y))
    return Selection("point", x=float(xy[index, 0]), y=float(xy[index, 1]), index=index)
