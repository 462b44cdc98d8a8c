"""Nonlinear maps of the latent space (UMAP, t-SNE) that can still be clicked to decode.

Neither method has a usable inverse: t-SNE has none, and UMAP's `inverse_transform` is far too slow for a
click (BENCHMARKS.md). So both share one inverse, a regressor from map position to latent
fitted on the (map position, posterior mean) pairs of the test set: a Gaussian-kernel average of the means
of the nearest points on the map (`KernelRegression`). On a data point it returns nearly that point's mean;
far from every point it returns the nearest points' means, so a click in empty space decodes the closest
data, not an extrapolation.

How far to trust it is measured once, when the map is fitted: points of a grid over the map are sent
through the inverse and back onto the map (the round-trip error), kept as a grid and shown for every click.
Back onto the map means t-SNE's own `transform` (openTSNE). For UMAP it is where UMAP's `transform` starts,
a kernel-weighted mean of the map positions of the nearest fitted latents, without its refinement epochs:
UMAP is fitted on an exact k-nearest-neighbour graph computed here (scipy), which makes a first fit much
quicker (numba compiles less; BENCHMARKS.md) but leaves UMAP without the search index its own `transform`
needs. Points beyond FIT_MAX are placed the same way.

umap-learn (which imports numba) and openTSNE are imported only when such a map is asked for.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from dataclasses import dataclass

import numpy as np

from vae_core.config import InputError
from vae_core.maps.ranges import padded_range

NONLINEAR = ("umap", "tsne")
TITLES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
FIT_MAX = 2000  # above this many points, fit on a random subsample and place the rest with transform
ERROR_GRID = 20  # round-trip error grid, points per side
VERSION = 2  # of the cache format and the fitting recipe
UMAP_NEIGHBOURS = 15


class KernelRegression:
    """inputs -> outputs for new inputs: a Gaussian-kernel average of the outputs of the k nearest known
    inputs, the kernel as wide as the typical distance between neighbouring inputs. Map -> latent is the
    inverse of a map; latent -> map places new latents on a UMAP map."""

    def __init__(self, inputs: np.ndarray, outputs: np.ndarray, k: int = 16):
        from scipy.spatial import cKDTree

        self.outputs = np.asarray(outputs, dtype=np.float64)
        self.k = min(k, len(inputs))
        self.tree = cKDTree(np.asarray(inputs, dtype=np.float64))
        spacing, _ = self.tree.query(inputs, k=min(2, len(inputs)))
        self.width = max(float(np.median(spacing[:, -1])), 1e-6) if len(inputs) > 1 else 1.0

    def __call__(self, points) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        dist, idx = self.tree.query(points, k=self.k)
        dist, idx = dist.reshape(len(points), -1), idx.reshape(len(points), -1)
        logits = -0.5 * (dist / self.width) ** 2
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))  # far from all points: the nearest dominate
        weights /= weights.sum(axis=1, keepdims=True)
        return np.einsum("mk,mkd->md", weights, self.outputs[idx]).astype(np.float32)


@dataclass
class NonlinearProjection:
    """A fitted UMAP or t-SNE map of latents, with the interface of latent.Projection that the pages use."""

    kind: str  # "umap" or "tsne"
    xy: np.ndarray  # (N, 2) map positions of the latents it was fitted to
    fit_index: np.ndarray  # which of them the method was fitted on (the rest placed by transform)
    error_x: tuple  # the round-trip error grid: its x and y ranges and values (G, G), rows from y low
    error_y: tuple
    errors: np.ndarray
    inverse_map: KernelRegression | None = None
    is_pca = False  # not a linear map: no components, no ellipses

    @property
    def latent_dim(self) -> int:
        assert self.inverse_map is not None  # both makers (fit_nonlinear, fit_cache.cached_fit) give it one
        return self.inverse_map.outputs.shape[1]

    @property
    def explained_variance(self):
        return None

    @property
    def axis_names(self) -> tuple[str, str]:
        return f"{TITLES[self.kind]} 1", f"{TITLES[self.kind]} 2"

    def inverse(self, points) -> np.ndarray:
        assert self.inverse_map is not None  # both makers (fit_nonlinear, fit_cache.cached_fit) give it one
        return self.inverse_map(points)

    def round_trip_error(self, points) -> np.ndarray:
        """The round-trip error (map units) measured at the grid node nearest each point."""
        points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        g = self.errors.shape[0]
        col = np.clip(np.round((points[:, 0] - self.error_x[0]) / (self.error_x[1] - self.error_x[0]) * (g - 1)), 0, g - 1)
        row = np.clip(np.round((points[:, 1] - self.error_y[0]) / (self.error_y[1] - self.error_y[0]) * (g - 1)), 0, g - 1)
        return self.errors[row.astype(int), col.astype(int)]


def error_grid_points(x_range, y_range, n: int = ERROR_GRID) -> np.ndarray:
    """n x n points, rows from y low to high, as `NonlinearProjection.errors` holds them."""
    xs = np.linspace(float(x_range[0]), float(x_range[1]), n)
    ys = np.linspace(float(y_range[0]), float(y_range[1]), n)
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)


TSNE_ITERATIONS = (250, 500)  # openTSNE's early-exaggeration and main phases (its defaults), for the progress bar
TSNE_REPORT_EVERY = 50  # iterations between two progress reports


def _fit(kind: str, latents: np.ndarray, seed: int, progress=lambda message, fraction: None):
    """The method fitted to latents: (positions (n, 2), a function placing new latents on the map). A t-SNE fit,
    the long one, tells `progress` how far it is (from 0.05 to 0.55)."""
    if kind == "umap":
        import umap  # numba: seconds to import, so only here
        from scipy.spatial import cKDTree

        k = min(UMAP_NEIGHBOURS, len(latents))
        dist, idx = cKDTree(latents).query(latents, k=k)  # exact, as UMAP itself does below 4,096 points
        with warnings.catch_warnings():  # that its own transform is unavailable is the point (module docstring)
            warnings.filterwarnings("ignore", message=".*(knn_search_index|n_jobs).*")
            reducer = umap.UMAP(
                n_neighbors=k,
                min_dist=0.1,
                random_state=seed,
                n_jobs=1,
                precomputed_knn=(idx.astype(np.int32), dist.astype(np.float32), None),
            )
            xy = reducer.fit_transform(latents)
        _umap_compiled.set()
        return xy, KernelRegression(latents, xy)
    if kind == "tsne":
        from openTSNE import TSNE

        reports = iter(range(1, sum(TSNE_ITERATIONS) // TSNE_REPORT_EVERY + 1))

        def report(iteration, error, embedding) -> bool:  # called in each phase: counted across both
            done = next(reports, None)  # None: the fit is over, and its transform of new points runs it again
            if done is not None:
                fraction = done * TSNE_REPORT_EVERY / sum(TSNE_ITERATIONS)
                progress(f"Fitting t-SNE on {len(latents):,} points: {fraction:.0%} of its iterations…", 0.05 + 0.5 * fraction)
            return False  # go on

        early, main = TSNE_ITERATIONS
        embedding = TSNE(
            perplexity=30,
            n_jobs=os.cpu_count() or 1,
            random_state=seed,
            verbose=False,
            early_exaggeration_iter=early,
            n_iter=main,
            callbacks=report,
            callbacks_every_iters=TSNE_REPORT_EVERY,
        ).fit(latents)
        return np.asarray(embedding), lambda z: np.asarray(embedding.transform(z))
    raise InputError(f"unknown projection {kind!r}: choose one of {', '.join(NONLINEAR)}")


def fit_nonlinear(
    latents: np.ndarray, kind: str, seed: int = 0, max_fit: int = FIT_MAX, progress=lambda message, fraction: None
) -> NonlinearProjection:
    """Fit a UMAP or t-SNE map to latents (N, D), on a subsample of max_fit when there are more (the rest
    placed with the method's transform); the inverse; the round-trip error grid. `progress(message, 0..1)`
    is told what runs."""
    latents = np.asarray(latents, dtype=np.float32)
    n = len(latents)
    rng = np.random.default_rng(seed)
    fit_index = np.sort(rng.choice(n, max_fit, replace=False)) if n > max_fit else np.arange(n)
    first = kind == "umap" and not _umap_compiled.is_set()
    progress(
        f"Fitting {TITLES[kind]} on {len(fit_index):,} points…"
        + (" (the server's first UMAP: its code is compiled first, for some seconds)" if first else ""),
        0.05,
    )
    fitted, transform = _fit(kind, latents[fit_index], seed, progress)
    xy = np.zeros((n, 2), np.float32)
    xy[fit_index] = fitted
    rest = np.setdiff1d(np.arange(n), fit_index)
    if len(rest):
        progress(f"Placing the other {len(rest):,} points…", 0.6)
        xy[rest] = transform(latents[rest])
    progress("Measuring how well clicks can be decoded…", 0.8)
    inverse = KernelRegression(xy, latents)
    x_range, y_range = padded_range(xy[:, 0]), padded_range(xy[:, 1])
    grid = error_grid_points(x_range, y_range)
    back = np.asarray(transform(inverse(grid)), dtype=np.float64)
    errors = np.linalg.norm(back - grid, axis=1).reshape(ERROR_GRID, ERROR_GRID)
    progress("Done", 1.0)
    return NonlinearProjection(kind, xy, fit_index, x_range, y_range, errors.astype(np.float32), inverse)


_umap_compiled = threading.Event()  # set once a UMAP fit has run in this process: numba's code is compiled
_warm_up_lock = threading.Lock()
_warm_up_thread: threading.Thread | None = None
WARM_UP_POINTS = 32


def start_umap_warm_up() -> None:
    """In a background thread, once per process: import umap-learn and have numba compile its code by fitting a
    few random points.

    A process's first UMAP fit spends ~4 s compiling (10 s more to import on a machine whose numba disk cache is
    still empty, as after installing) and a fraction of a second fitting a few hundred points (BENCHMARKS.md):
    done while a map is looked at, the first UMAP a user asks for is quick."""
    global _warm_up_thread
    with _warm_up_lock:
        if _warm_up_thread is None:
            import_pandas_here()
            _warm_up_thread = threading.Thread(target=_warm_up_umap, name="umap-warm-up", daemon=True)
            _warm_up_thread.start()


def import_pandas_here() -> None:
    """Import pandas in this thread, before starting one that imports umap-learn or scikit-learn (both import it).

    While a thread imports a module, sys.modules already holds it half made, and other threads look there: plotly,
    serializing any chart, takes pandas from sys.modules if it is there (ui.figures.figure_builder waits only while
    a figure is built). A page drawn while a background thread was importing pandas failed with "partially
    initialized module 'pandas' has no attribute 'Series'". Imported here first, pandas is whole before any other
    thread can see it (0.3-0.5 s, once per process)."""
    import pandas  # noqa: F401


def _warm_up_umap() -> None:
    if not _umap_compiled.is_set():
        fit_nonlinear(np.random.default_rng(0).normal(size=(WARM_UP_POINTS, 4)), "umap")


def cache_key(latents: np.ndarray, kind: str, seed: int, max_fit: int) -> str:
    """Keyed by the latents themselves: another checkpoint, a file saved again or changed data give new ones."""
    digest = hashlib.sha256(np.ascontiguousarray(latents, dtype=np.float32).tobytes())
    digest.update(repr((kind, seed, max_fit, ERROR_GRID, VERSION)).encode())
    return digest.hexdigest()[:24]
