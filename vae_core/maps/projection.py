"""The 2-D map of a latent space in plain numpy (no torch, no scikit-learn), so a map read from its cache can be
drawn before either is imported: the projection (identity or PCA) and the map's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vae_core.maps.nonlinear import NonlinearProjection


class Projection:
    """Latent space -> 2-D map and back: the identity for latent_dim 2, PCA otherwise.

    For latent_dim 1 the map is (z1, 0). PCA's inverse maps a 2-D point to the mean plus the two
    principal directions, the most plausible latent that projects there. PCA is computed here by SVD
    (with scikit-learn's sign convention: each direction's largest coefficient positive).
    """

    def __init__(
        self, latents: np.ndarray | None = None, *, latent_dim: int | None = None, mean=None, components=None, explained=None
    ):
        """Fitted to latents (N, D), or rebuilt from the arrays a fit gave (`arrays()`)."""
        self.mean, self.components, self.explained = mean, components, explained
        if latents is not None:
            self.latent_dim = latents.shape[1]
        elif latent_dim is not None:
            self.latent_dim = int(latent_dim)
        else:
            raise TypeError("Projection needs latents or latent_dim")
        if latents is not None and self.latent_dim > 2:
            self._fit(np.asarray(latents, dtype=np.float64))

    def _fit(self, latents: np.ndarray) -> None:
        self.mean = latents.mean(0)
        _, s, vt = np.linalg.svd(latents - self.mean, full_matrices=False)
        signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
        vt = vt * signs[:, None]
        self.components = vt[:2]
        variance = s**2
        self.explained = variance[:2] / max(variance.sum(), 1e-30)

    def arrays(self) -> dict:
        """What rebuilds this projection: Projection(**arrays())."""
        return dict(latent_dim=self.latent_dim, mean=self.mean, components=self.components, explained=self.explained)

    @property
    def is_pca(self) -> bool:
        return self.components is not None

    @property
    def explained_variance(self) -> tuple[float, float] | None:
        """Fraction of the latents' variance along PC1 and PC2 (None without PCA)."""
        if self.components is None:
            return None
        return float(self.explained[0]), float(self.explained[1])

    @property
    def axis_names(self) -> tuple[str, str]:
        ev = self.explained_variance
        if ev is None:  # no PCA
            return ("z1", "z2") if self.latent_dim == 2 else ("z1", "(unused)")
        return f"PC1 ({ev[0]:.0%})", f"PC2 ({ev[1]:.0%})"  # the share of the latents' variance

    def transform(self, latents: np.ndarray) -> np.ndarray:
        latents = np.asarray(latents, dtype=np.float32)
        if self.components is not None:
            return ((latents - self.mean) @ self.components.T).astype(np.float32)
        if self.latent_dim == 1:
            return np.concatenate([latents, np.zeros_like(latents)], axis=1)
        return latents

    def map_covariances(self, logvar: np.ndarray) -> np.ndarray:
        """The diagonal Gaussians q(z|x) (log-variances (K, D)) as 2x2 covariances on the map, (K, 2, 2):
        W diag(sigma^2) W^T for PCA's orthonormal components W, the first two variances otherwise."""
        var = np.exp(np.asarray(logvar, dtype=np.float64))
        if self.components is not None:
            w = self.components  # (2, D)
            return np.einsum("id,kd,jd->kij", w, var, w)
        covs = np.zeros((len(var), 2, 2))
        d = min(self.latent_dim, 2)
        covs[:, range(d), range(d)] = var[:, :d]
        return covs

    def map_prior(self) -> tuple[np.ndarray, np.ndarray]:
        """The prior N(0, I) as seen on the map: its mean (2,) and covariance (2, 2) in map coordinates
        (for PCA, N(W(0 - m), W W^T) with orthonormal components W, so the covariance is I)."""
        if self.components is not None:
            return -(self.components @ self.mean), self.components @ self.components.T
        return np.zeros(2), np.diag([1.0, 1.0 if self.latent_dim >= 2 else 0.0])

    def inverse(self, points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        if self.components is not None:
            return (points @ self.components + self.mean).astype(np.float32)
        return points[:, : self.latent_dim].astype(np.float32)


# One colour per label on every map, from palettes made to stay distinct with colour blindness (Okabe & Ito
# 2008, Tol 2021), all dark enough to read on white; more labels than colours repeat the cycle.
LABEL_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#332288", "#000000", "#999933", "#882255")


def label_name(class_names, label: int) -> str:
    """A label's class name (its number when the dataset names no classes, or not this one)."""
    label = int(label)
    return class_names[label] if label < len(class_names) else str(label)


@dataclass
class MapData:
    """Everything a latent map of a test set needs, in plain arrays."""

    xy: np.ndarray  # (N, 2) map positions of the test images (empty without data)
    mu: np.ndarray  # (N, D) posterior means
    logvar: np.ndarray  # (N, D)
    labels: np.ndarray  # (N,)
    class_names: list
    projection: Projection | NonlinearProjection  # PCA (or the identity), or a UMAP or t-SNE map
    x_range: tuple
    y_range: tuple
    missing_data: str | None = None  # why no points are drawn
    factors: np.ndarray | None = None  # (N, K) the test images' true factors, for data that have them
    factor_names: list = field(default_factory=list)
    factor_categories: dict = field(default_factory=dict)  # categorical factors: name -> label of each code

    def label_name(self, label: int) -> str:
        return label_name(self.class_names, label)

    def factor(self, name: str) -> np.ndarray:
        """One factor's value per point."""
        column = self.factor_names.index(name)
        if self.factors is None:
            raise TypeError("this map has no factors")
        return self.factors[:, column]
