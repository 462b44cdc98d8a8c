"""How the encoder's posteriors fill the prior: the aggregate posterior q(z) and the terms of the average KL.

The aggregate posterior of a data set of N images is the mixture of their encoder Gaussians,

    q(z) = 1/N sum_n q(z | x_n),   q(z | x_n) = N(mu_n, diag sigma_n^2),

and the average KL term of the ELBO splits into (Hoffman & Johnson 2016; Chen et al. 2018, beta-TCVAE):

    E_x KL(q(z|x) || p(z)) = I(x; z) + KL(q(z) || p(z))
                           = I(x; z) + TC + sum_d KL(q(z_d) || p(z_d))

- I(x; z), the mutual information between an image and its code under q(x, z) = q(z|x)/N;
- TC = KL(q(z) || prod_d q(z_d)), the total correlation: how far the dimensions of q(z) are from independent;
- the dimension-wise KL: how far each marginal q(z_d) is from N(0, 1).

Each expectation over q(z) is a Monte Carlo mean over z_n ~ q(z|x_n), `samples` per image; the densities
log q(z) and log q(z_d) are the exact mixtures over all N images, so the only error is Monte Carlo (and the
test set standing in for the data distribution). Memory is O(N^2 D) in chunks; use a few thousand images.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class PosteriorEstimates:
    """Nats, averaged over the images: kl_aggregate = tc + dimwise_kl; avg_kl (closed form) = mutual_info +
    kl_aggregate up to Monte Carlo error."""

    avg_kl: float
    mutual_info: float
    kl_aggregate: float
    total_correlation: float
    dimwise_kl: float
    n_images: int

    def to_dict(self) -> dict:
        return asdict(self)


DEFINITIONS = {
    "avg_kl": "E_x KL(q(z|x) ‖ p(z)): the KL term of the ELBO, averaged over the images",
    "mutual_info": "I(x; z) = E_x KL(q(z|x) ‖ q(z)): how much the code tells about the image (at most log N)",
    "kl_aggregate": "KL(q(z) ‖ p(z)): how far the aggregate posterior is from the prior (holes, clumps)",
    "total_correlation": "KL(q(z) ‖ ∏_d q(z_d)): dependence between the code's dimensions",
    "dimwise_kl": "∑_d KL(q(z_d) ‖ N(0, 1)): how far each dimension's marginal is from the prior's",
}


def _log_normal(z: np.ndarray, mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Elementwise log N(z; mu, exp(logvar)) (broadcast), per dimension: -0.5 * (log 2pi + logvar + (z - mu)^2 /
    exp(logvar)), worked in place in one array of the broadcast shape (the same operations in the same order, so
    the same numbers, without four temporaries of it: the estimates run after every epoch)."""
    out = np.subtract(z, mu)
    np.square(out, out=out)
    out *= np.exp(-logvar)
    out += LOG_2PI + logvar
    out *= -0.5
    return out


def _logsumexp(a: np.ndarray, axis: int, in_place: bool = False) -> np.ndarray:
    """log sum exp along `axis`, stably; in_place: `a` is used as the work array (its values are lost)."""
    top = np.max(a, axis=axis, keepdims=True)
    work = np.subtract(a, top, out=a if in_place else None)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(work, out=work), axis=axis))


def aggregate_log_densities(z: np.ndarray, mu: np.ndarray, logvar: np.ndarray, chunk: int = 256):
    """For points z (M, D): log q(z) (M,) and log q(z_d) per dimension (M, D), q the mixture of N(mu_n, sigma_n^2)."""
    z, mu, logvar = (np.asarray(a, dtype=np.float64) for a in (z, mu, logvar))
    log_n = math.log(len(mu))
    joint, marginal = [], []
    for i in range(0, len(z), chunk):
        per_dim = _log_normal(z[i : i + chunk, None, :], mu[None], logvar[None])  # (m, N, D)
        joint.append(_logsumexp(per_dim.sum(-1), axis=1) - log_n)
        marginal.append(_logsumexp(per_dim, axis=1, in_place=True) - log_n)  # per_dim's last use
    return np.concatenate(joint), np.concatenate(marginal)


def posterior_estimates(mu, logvar, samples: int = 1, seed: int = 0) -> PosteriorEstimates:
    """The decomposition of the average KL for posteriors N(mu_n, exp(logvar_n)) (arrays (N, D))."""
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    n, d = mu.shape
    # the closed-form KL of each diagonal Gaussian to N(0, I)
    avg_kl = float(np.mean(0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar, axis=1)))
    rng = np.random.default_rng(seed)
    mu_s, logvar_s = np.repeat(mu, samples, axis=0), np.repeat(logvar, samples, axis=0)
    z = mu_s + np.exp(0.5 * logvar_s) * rng.standard_normal(mu_s.shape)
    log_q, log_q_dims = aggregate_log_densities(z, mu, logvar)
    log_posterior = _log_normal(z, mu_s, logvar_s).sum(1)
    log_prior_dims = -0.5 * (LOG_2PI + z**2)
    # each term straight from the same samples (lower variance than differences of the others); the identity
    # avg_kl = I + TC + dimwise KL then holds up to Monte Carlo error
    mutual_info = float(np.mean(log_posterior - log_q))
    tc = float(np.mean(log_q - log_q_dims.sum(1)))
    dimwise = float(np.mean((log_q_dims - log_prior_dims).sum(1)))
    return PosteriorEstimates(
        avg_kl=avg_kl, mutual_info=mutual_info, kl_aggregate=tc + dimwise, total_correlation=tc, dimwise_kl=dimwise, n_images=n
    )


def gaussian_mixture_density_2d(points: np.ndarray, means: np.ndarray, covs: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Density at points (M, 2) of the equal-weight mixture of 2-D Gaussians N(means_k, covs_k) ((K, 2), (K, 2, 2))."""
    points, means, covs = (np.asarray(a, dtype=np.float64) for a in (points, means, covs))
    covs = covs + 1e-9 * np.eye(2)
    det = covs[:, 0, 0] * covs[:, 1, 1] - covs[:, 0, 1] * covs[:, 1, 0]
    inv = (
        np.stack([np.stack([covs[:, 1, 1], -covs[:, 0, 1]], -1), np.stack([-covs[:, 1, 0], covs[:, 0, 0]], -1)], 1)
        / det[:, None, None]
    )
    norm = 1.0 / (2 * math.pi * np.sqrt(det))
    out = []
    for i in range(0, len(points), chunk):
        diff = points[i : i + chunk, None, :] - means[None]  # (m, K, 2)
        maha = np.einsum("mki,kij,mkj->mk", diff, inv, diff)
        out.append((norm * np.exp(-0.5 * maha)).mean(1))
    return np.concatenate(out)


def density_grid(means: np.ndarray, covs: np.ndarray, x_range, y_range, n: int = 60):
    """The mixture density on an n x n grid over the ranges: (xs (n,), ys (n,), density (n, n), rows by y)."""
    xs = np.linspace(float(x_range[0]), float(x_range[1]), n)
    ys = np.linspace(float(y_range[0]), float(y_range[1]), n)
    points = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    return xs, ys, gaussian_mixture_density_2d(points, means, covs).reshape(n, n)
