"""The aggregate-posterior estimators against closed forms on Gaussian toys."""

import math

import numpy as np
import pytest

from vae_core.stats.estimators import aggregate_log_densities, gaussian_mixture_density_2d, posterior_estimates


def gaussian_kl(cov: np.ndarray, mean: np.ndarray) -> float:
    """KL(N(mean, cov) || N(0, I))."""
    d = len(mean)
    return 0.5 * (np.trace(cov) + mean @ mean - d - np.linalg.slogdet(cov)[1])


def test_identical_posteriors_carry_no_information():
    """Every image encoded to the same N(m, s^2): q(z) is that Gaussian, I(x;z) = 0, TC = 0 (diagonal)."""
    n, m, s2 = 400, np.array([0.5, -1.0, 0.2]), np.array([0.3, 2.0, 1.0])
    mu, logvar = np.tile(m, (n, 1)), np.tile(np.log(s2), (n, 1))
    est = posterior_estimates(mu, logvar, samples=4)
    exact = gaussian_kl(np.diag(s2), m)
    assert est.avg_kl == pytest.approx(exact, rel=1e-9)
    assert est.mutual_info == pytest.approx(0.0, abs=1e-9)
    assert est.total_correlation == pytest.approx(0.0, abs=1e-9)
    assert est.kl_aggregate == pytest.approx(exact, abs=0.1)  # Monte Carlo over z only
    assert est.dimwise_kl == pytest.approx(exact, abs=0.1)


def test_correlated_means_give_the_gaussian_total_correlation_and_mutual_information():
    """Means drawn from N(0, A) with posterior variance s^2 I: q(z) is close to N(0, A + s^2 I). Its TC is
    1/2 (sum log diag - log det), its KL to the prior the Gaussian KL, and I(x;z) the Gaussian channel's
    1/2 log det(I + A / s^2), less what N images can hold (log N)."""
    rng = np.random.default_rng(1)
    a = np.array([[1.0, 0.8], [0.8, 1.0]])
    s2, n = 0.25, 3000
    mu = rng.multivariate_normal(np.zeros(2), a, size=n)
    logvar = np.full((n, 2), math.log(s2))
    est = posterior_estimates(mu, logvar, samples=2)
    cov = a + s2 * np.eye(2)
    tc = 0.5 * (np.log(np.diag(cov)).sum() - np.linalg.slogdet(cov)[1])
    mi = 0.5 * np.linalg.slogdet(np.eye(2) + a / s2)[1]
    assert est.total_correlation == pytest.approx(tc, abs=0.05)
    assert est.kl_aggregate == pytest.approx(gaussian_kl(cov, np.zeros(2)), abs=0.05)
    assert est.mutual_info == pytest.approx(mi, abs=0.08)
    assert est.avg_kl == pytest.approx(est.mutual_info + est.total_correlation + est.dimwise_kl, abs=0.05)
    assert est.kl_aggregate == pytest.approx(est.total_correlation + est.dimwise_kl, abs=1e-9)


def test_mixture_log_density_matches_a_direct_sum():
    rng = np.random.default_rng(2)
    mu, logvar, z = rng.normal(size=(7, 3)), rng.normal(size=(7, 3)) * 0.3, rng.normal(size=(5, 3))
    log_q, log_q_dims = aggregate_log_densities(z, mu, logvar, chunk=2)
    var = np.exp(logvar)
    dens = np.exp(-0.5 * (z[:, None] - mu[None]) ** 2 / var) / np.sqrt(2 * np.pi * var)  # (5, 7, 3)
    assert np.allclose(log_q, np.log(dens.prod(-1).mean(1)))
    assert np.allclose(log_q_dims, np.log(dens.mean(1)))


def test_2d_mixture_density_integrates_to_one():
    rng = np.random.default_rng(3)
    means = rng.normal(size=(20, 2))
    covs = np.stack([np.diag(rng.uniform(0.1, 0.5, 2)) for _ in range(20)])
    covs[:, 0, 1] = covs[:, 1, 0] = 0.05
    xs = np.linspace(-6, 6, 241)
    grid = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    mass = gaussian_mixture_density_2d(grid, means, covs).sum() * (xs[1] - xs[0]) ** 2
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_the_prior_as_seen_on_a_pca_map():
    """N(0, I) sampled and projected onto the PCA plane has the mean and covariance map_prior gives."""
    from vae_core.maps.projection import Projection

    rng = np.random.default_rng(4)
    projection = Projection(rng.normal(size=(500, 6)) * [3, 2, 1, 1, 0.5, 0.1] + 1.5)
    mean, cov = projection.map_prior()
    prior_on_map = projection.transform(rng.standard_normal((200_000, 6)))
    assert np.allclose(prior_on_map.mean(0), mean, atol=0.01) and np.allclose(np.cov(prior_on_map.T), cov, atol=0.01)
