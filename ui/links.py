"""Shareable Explore links: `?model=NAME&proj=pca|umap|tsne` plus `&point=I` (a test image) or `&x=..&y=..`
(a free click). Parsing and writing only; the page decides when a URL is a new link (ui.session)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ui.geometry import Selection
from ui.text import plain

PROJECTIONS = ("pca", "umap", "tsne")


@dataclass
class LinkedView:
    """What a link asks for on a map, and what in it could not be used (said to the user)."""

    projection: str | None = None
    selection: Selection | None = None
    problems: list[str] = field(default_factory=list)


def read_projection(params) -> tuple[str | None, str | None]:
    """The link's projection, and a problem when it names none we have."""
    proj = params.get("proj")
    if proj is None:
        return None, None
    if proj.lower() in PROJECTIONS:
        return proj.lower(), None
    return None, f"There is no map projection “{plain(proj)}”: choose pca, umap or tsne. Showing PCA."


def read_selection_params(params, xy: np.ndarray, x_range=None, y_range=None) -> tuple[Selection | None, str | None]:
    """The link's selection on a map whose test points lie at xy (and which spans x_range, y_range when given),
    and a problem when its values are bad. A free point beyond the map is moved onto its edge and said so."""
    if "point" in params:
        try:
            index = int(params["point"])
        except ValueError:
            return None, f"“point={plain(params['point'])}” is not a test image number."
        if not 0 <= index < len(xy):
            return None, f"There is no test image #{index}: this model's map has {len(xy)} (0 to {len(xy) - 1})."
        return Selection("point", x=float(xy[index, 0]), y=float(xy[index, 1]), index=index), None
    if "x" in params or "y" in params:
        try:
            x, y = float(params.get("x", "")), float(params.get("y", ""))
        except ValueError:
            return None, f"“x={plain(params.get('x'))}&y={plain(params.get('y'))}” is not a point: give two numbers."
        if not (math.isfinite(x) and math.isfinite(y)):
            return None, "A linked point must have finite coordinates."
        if x_range is None or y_range is None:
            return Selection("free", x=x, y=y), None
        inside = (float(np.clip(x, *x_range)), float(np.clip(y, *y_range)))
        moved = (
            None
            if inside == (x, y)
            else (
                f"The linked point ({x:.4g}, {y:.4g}) lies outside this map: it was "
                f"moved onto its edge, at ({inside[0]:.4g}, {inside[1]:.4g})."
            )
        )
        return Selection("free", x=inside[0], y=inside[1]), moved
    return None, None


def link_params(model: str, projection: str, selection: Selection | None) -> dict[str, str]:
    """The query parameters that bring this view back."""
    params = {"model": model, "proj": projection}
    if selection is not None and selection.kind == "point":
        params["point"] = str(selection.index)
    elif selection is not None and selection.kind == "free":
        params.update(x=f"{selection.x:.4g}", y=f"{selection.y:.4g}")
    return params
