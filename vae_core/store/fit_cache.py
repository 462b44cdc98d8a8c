"""UMAP and t-SNE fits kept on disk (maps.nonlinear fits them): a second open of the same map is a file read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vae_core.maps import nonlinear
from vae_core.maps.nonlinear import ERROR_GRID, FIT_MAX, KernelRegression, NonlinearProjection, cache_key
from vae_core.store.atomic import atomic_path


def _whole(stored: dict, n: int) -> bool | np.bool_:  # numpy's own bool from the array checks
    """A stored fit of n latents: a finite (n, 2) map, its fitted points among them, axis ranges, and a finite
    ERROR_GRID x ERROR_GRID error grid. Anything else (a short map, a 1x1 grid) is fitted again."""
    xy, index, errors = stored["xy"], stored["fit_index"], stored["errors"]
    ranges = np.array([stored["error_x"], stored["error_y"]], dtype=float)
    return (
        xy.shape == (n, 2)
        and np.isfinite(xy).all()
        and index.ndim == 1
        and np.issubdtype(index.dtype, np.integer)
        and ((0 <= index) & (index < n)).all()
        and errors.shape == (ERROR_GRID, ERROR_GRID)
        and np.isfinite(errors).all()
        and ranges.shape == (2, 2)
        and np.isfinite(ranges).all()
        and (ranges[:, 0] < ranges[:, 1]).all()
    )


def cached_fit(
    latents: np.ndarray, kind: str, cache: Path, seed: int = 0, max_fit: int = FIT_MAX, progress=lambda message, fraction: None
) -> NonlinearProjection:
    """fit_nonlinear, kept on disk in `cache`: a second open is a file read. A damaged file is fitted again."""
    latents = np.asarray(latents, dtype=np.float32)
    path = Path(cache) / f"map-{kind}-{cache_key(latents, kind, seed, max_fit)}.npz"
    try:
        with np.load(path, allow_pickle=False) as f:
            stored = {k: f[k] for k in ("xy", "fit_index", "error_x", "error_y", "errors")}
        if _whole(stored, len(latents)):
            return NonlinearProjection(
                kind,
                stored["xy"],
                stored["fit_index"],
                tuple(stored["error_x"]),
                tuple(stored["error_y"]),
                stored["errors"],
                KernelRegression(stored["xy"], latents),
            )
    except Exception:  # not there yet, or damaged
        pass
    projection = nonlinear.fit_nonlinear(latents, kind, seed, max_fit, progress)
    try:
        with atomic_path(path, suffix=".tmp.npz") as tmp:
            np.savez(
                tmp,
                xy=projection.xy,
                fit_index=projection.fit_index,
                error_x=np.array(projection.error_x),
                error_y=np.array(projection.error_y),
                errors=projection.errors,
            )
    except OSError:  # a read-only or full disk only costs the next open its speed; no half-written file stays
        pass
    return projection
