"""The span of a map's axes: shared by the linear and the nonlinear maps."""

from __future__ import annotations

import numpy as np


def padded_range(values: np.ndarray, pad: float = 0.05, fallback=(-3.0, 3.0)) -> tuple[float, float]:
    """The span of `values` with a margin on both sides, so points at the edge are not cut off."""
    if len(values) == 0:
        return fallback
    lo, hi = float(np.min(values)), float(np.max(values))
    span = max(hi - lo, 1e-3)
    return lo - pad * span, hi + pad * span
