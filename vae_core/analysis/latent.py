"""Tools for looking into the latent space: encode, project to 2-D and back, decode points and grids."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from vae_core.config import InputError
from vae_core.data.datasets import as_float
from vae_core.maps.projection import MapData, Projection
from vae_core.maps.ranges import padded_range
from vae_core.model.vae import VAE
from vae_core.store.files import cache_dir
from vae_core.store.fit_cache import cached_fit

if TYPE_CHECKING:
    from vae_core.maps.nonlinear import NonlinearProjection
    from vae_core.model.onnx_io import OnnxVAE


@torch.no_grad()
def encode_means(model: VAE | OnnxVAE, x: torch.Tensor, batch_size: int = 2048, y=None) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances of all images: two (N, D) float32 arrays. y: the images' labels (N,),
    which a conditional model encodes them under (an unconditional one ignores them)."""
    mus, logvars = [], []
    for i in range(0, len(x), batch_size):
        labels = None if y is None else y[i : i + batch_size]
        mu, logvar = model.encode(as_float(x[i : i + batch_size].to(model.device)), labels)
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    return torch.cat(mus).numpy(), torch.cat(logvars).numpy()


def map_points(model: VAE | OnnxVAE, x: torch.Tensor, y=None):
    """Everything a latent map needs: means and log-variances (N, D), the fitted projection, positions (N, 2).
    y: the images' labels, for a conditional model."""
    mu, logvar = encode_means(model, x, y=y)
    projection = Projection(mu)
    return mu, logvar, projection, projection.transform(mu)


def build_map(model: VAE | OnnxVAE, x: torch.Tensor, labels: torch.Tensor, class_names: list, factors=None) -> MapData:
    """The map of the images x: their encodings, the fitted projection and the map's ranges. factors: the
    dataset's Factors (vae_core.data.datasets), when x is its test split."""
    mu, logvar, projection, xy = map_points(model, x, labels)
    known = (
        {}
        if factors is None
        else dict(factors=factors.test, factor_names=list(factors.names), factor_categories=dict(factors.categories))
    )
    return MapData(
        xy, mu, logvar, labels.numpy(), list(class_names), projection, padded_range(xy[:, 0]), padded_range(xy[:, 1]), **known
    )


def nonlinear_map(md: MapData, kind: str, progress=lambda message, fraction: None) -> MapData:
    """The same map by UMAP or t-SNE (vae_core.maps.nonlinear), fitted once and then read from the cache folder."""

    projection = cached_fit(md.mu, kind, cache_dir() / "maps", progress=progress)
    return replace(md, xy=projection.xy, projection=projection, x_range=projection.error_x, y_range=projection.error_y)


def build_map_without_data(model: VAE, class_names: list, missing: str, n: int = 2000) -> MapData:
    """A map with no points, for a model whose data are not here: laid out from the model's own samples,
    encoded back (its aggregate posterior), so the decoded manifold and free clicks still work."""
    prior = torch.randn(n, model.config.latent_dim, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(n) % model.config.num_classes if model.config.conditional else None  # every class alike
    mu, _, projection, own = map_points(model, decode_points(model, prior, y=labels), labels)
    d = mu.shape[1]
    return MapData(
        np.zeros((0, 2), np.float32),
        np.zeros((0, d), np.float32),
        np.zeros((0, d), np.float32),
        np.zeros(0, np.int64),
        list(class_names),
        projection,
        padded_range(own[:, 0]),
        padded_range(own[:, 1]),
        missing,
    )


@torch.no_grad()
def decode_points(model: VAE, z, shown: str = "mean", y=None) -> torch.Tensor:
    """Latent points (N, D) -> the images to show (N, C, H, W) in [0, 1], on the CPU: E[x|z], or the most likely
    x with shown="mode". y: a conditional model's labels (N,) or one label for all."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float32), device=model.device)
    return model.decode_image(z, shown, y=y).cpu()


def every_label(model: VAE, z, shown: str = "mean") -> torch.Tensor:
    """A conditional model's "one style, every class": each code of z (N, D) decoded under each label in turn,
    (N * num_classes, C, H, W), one row of num_classes images per code."""
    z = np.asarray(z, dtype=np.float32)
    k = model.config.num_classes
    return decode_points(model, np.repeat(z, k, axis=0), shown, y=torch.arange(k).repeat(len(z)))


def samples_by_class(model: VAE, per_class: int, temperature: float = 1.0, seed: int = 0, shown: str = "mean") -> torch.Tensor:
    """A conditional model's prior samples, one row per class: the same per_class codes z ~ N(0, t^2 I) decoded
    under each label, (num_classes * per_class, C, H, W). The same z down a column: one style, every class."""
    z = prior_latents(per_class, model.config.latent_dim, temperature, seed)
    k = model.config.num_classes
    return decode_points(model, np.tile(z, (k, 1)), shown, y=torch.arange(k).repeat_interleave(per_class))


def grid_points(x_range, y_range, n: int) -> np.ndarray:
    """n x n map points, row-major from the top-left (high y first) so they read like an image."""
    xs = np.linspace(float(x_range[0]), float(x_range[1]), n, dtype=np.float32)
    ys = np.linspace(float(y_range[0]), float(y_range[1]), n, dtype=np.float32)[::-1]
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)


def decode_grid(
    model: VAE, projection: Projection | NonlinearProjection, x_range, y_range, n: int = 15, shown: str = "mean"
) -> torch.Tensor:
    """The classic VAE manifold picture: images decoded on an n x n grid of the 2-D map, (n*n, C, H, W)."""
    return decode_points(model, projection.inverse(grid_points(x_range, y_range, n)), shown)


def interpolate(z_a, z_b, steps: int = 10, method: str = "linear") -> np.ndarray:
    """Points from z_a to z_b inclusive, (steps, D); "slerp" follows the great circle (White 2016)."""
    z_a, z_b = np.asarray(z_a, dtype=np.float64), np.asarray(z_b, dtype=np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "linear":
        return ((1 - t) * z_a + t * z_b).astype(np.float32)
    if method != "slerp":
        raise InputError(f"method must be 'linear' or 'slerp', got {method!r}")
    cos = np.dot(z_a, z_b) / max(np.linalg.norm(z_a) * np.linalg.norm(z_b), 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:  # nearly parallel: slerp degenerates to lerp
        return ((1 - t) * z_a + t * z_b).astype(np.float32)
    return ((np.sin((1 - t) * omega) * z_a + np.sin(t * omega) * z_b) / np.sin(omega)).astype(np.float32)


def traverse(z, dims, span: float = 3.0, steps: int = 9) -> np.ndarray:
    """For each dim in `dims`, `steps` copies of z with that dim swept over [-span, span]: (len(dims)*steps, D)."""
    z = np.asarray(z, dtype=np.float32)
    values = np.linspace(-span, span, steps, dtype=np.float32)
    rows = []
    for d in dims:
        block = np.repeat(z[None, :], steps, axis=0)
        block[:, d] = values
        rows.append(block)
    return np.concatenate(rows)


def prior_latents(n: int, latent_dim: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """z ~ N(0, temperature^2 I): (n, latent_dim) float32, the same for the same seed on any device."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(n, latent_dim, generator=gen) * temperature).numpy()


def sample_prior(model: VAE, n: int, temperature: float = 1.0, seed: int = 0) -> torch.Tensor:
    """Images decoded from z ~ N(0, temperature^2 I): (n, C, H, W)."""
    return decode_points(model, prior_latents(n, model.config.latent_dim, temperature, seed))


def traversal_order(kl_per_dim) -> list[int]:
    """Latent dimensions, most informative (highest KL) first: collapsed dimensions go last."""
    return [int(d) for d in np.argsort(-np.asarray(kl_per_dim, dtype=np.float64), kind="stable")]


def decode_with_each(models, z, shown: str = "mean") -> list[torch.Tensor]:
    """The same latent points z (N, D) decoded by each model: one (N, C, H, W) batch per model. Models with
    another latent size cannot take the same z: a ValueError says so."""
    dims = {m.config.latent_dim for m in models}
    if dims != {np.shape(z)[-1]}:
        raise InputError(
            f"z has {np.shape(z)[-1]} dimensions, the models' codes {sorted(dims)}: the same z cannot go through all of them"
        )
    return [decode_points(model, z, shown) for model in models]


def grid_node(x: float, y: float, x_range, y_range, n: int) -> tuple[int, int] | None:
    """The node of grid_points(x_range, y_range, n) nearest the map position (x, y), as (row, column) (its
    index there is row * n + column), or None more than half a step outside the grid. The hover preview
    (ui/hover.py) picks its tile by this same rule in the browser, with Math.round, hence floor(v + 0.5)."""
    column = np.floor((x - x_range[0]) / (x_range[1] - x_range[0]) * (n - 1) + 0.5)
    row = np.floor((y_range[1] - y) / (y_range[1] - y_range[0]) * (n - 1) + 0.5)
    if not (0 <= row < n and 0 <= column < n):
        return None
    return int(row), int(column)


def attribute_vector(mu, group_a, group_b) -> np.ndarray:
    """mean(mu[group_b]) - mean(mu[group_a]), (D,): the step that takes group A's average code to group B's
    (latent arithmetic: White 2016, "attribute vectors"). Groups are index arrays or boolean masks over mu."""
    mu = np.asarray(mu, dtype=np.float64)
    a, b = mu[_group(group_a)], mu[_group(group_b)]
    if len(a) == 0 or len(b) == 0:
        raise InputError(f"each group needs at least one point, got {len(a)} in A and {len(b)} in B")
    return (b.mean(0) - a.mean(0)).astype(np.float32)


def _group(group) -> np.ndarray:
    group = np.asarray(group)
    return group if group.dtype == bool else group.astype(np.intp)  # an empty list is float to numpy


def apply_attribute(z, vector, strengths) -> np.ndarray:
    """z + s * vector for each strength s, (len(strengths), D): one latent point per column of the row."""
    s = np.asarray(strengths, dtype=np.float32)[:, None]
    return np.asarray(z, dtype=np.float32)[None, :] + s * np.asarray(vector, dtype=np.float32)[None, :]


def attribute_row(
    model: VAE, z, vector, strength: float, steps: int = 7, shown: str = "mean"
) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """The strengths 0 .. strength, their points z + s * vector (steps, D) and the decoded images (steps, C, H, W)."""
    strengths = np.linspace(0.0, strength, steps, dtype=np.float32)
    points = apply_attribute(z, vector, strengths)
    return strengths, points, decode_points(model, points, shown)
