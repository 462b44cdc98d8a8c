"""Latent arithmetic: the attribute vector between two groups of codes, applied to a point over strengths."""

import numpy as np
import pytest
import torch

from vae_core import VAE, VAEConfig
from vae_core.analysis.latent import apply_attribute, attribute_row, attribute_vector, decode_points


def two_clusters(n_a: int = 30, n_b: int = 50, d: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of two groups around different centres, shuffled together, and the index arrays of each group."""
    rng = np.random.default_rng(0)
    mu = np.concatenate([rng.normal(-1.0, 0.3, (n_a, d)), rng.normal(2.0, 0.3, (n_b, d))]).astype(np.float32)
    order = rng.permutation(n_a + n_b)
    mu = mu[order]
    return mu, np.flatnonzero(order < n_a), np.flatnonzero(order >= n_a)


def test_the_attribute_vector_is_the_difference_of_the_group_means():
    mu, a, b = two_clusters()
    v = attribute_vector(mu, a, b)
    assert v.shape == (5,) and v.dtype == np.float32
    np.testing.assert_allclose(v, mu[b].mean(0) - mu[a].mean(0), atol=1e-6)
    np.testing.assert_allclose(attribute_vector(mu, b, a), -v, atol=1e-6)  # the other way round: the opposite step
    mask_a = np.isin(np.arange(len(mu)), a)
    np.testing.assert_allclose(attribute_vector(mu, mask_a, ~mask_a), v, atol=1e-6)  # masks mean the same groups


def test_an_empty_group_is_refused():
    mu, a, _ = two_clusters()
    with pytest.raises(ValueError, match="at least one point"):
        attribute_vector(mu, a, [])


def test_strength_zero_is_the_point_and_strength_one_moves_mean_a_onto_mean_b():
    mu, a, b = two_clusters()
    v = attribute_vector(mu, a, b)
    z = mu[a].mean(0)
    points = apply_attribute(z, v, [0.0, 0.5, 1.0, -1.0])
    assert points.shape == (4, 5)
    np.testing.assert_allclose(points[0], z, atol=1e-6)
    np.testing.assert_allclose(points[1], (mu[a].mean(0) + mu[b].mean(0)) / 2, atol=1e-5)
    np.testing.assert_allclose(points[2], mu[b].mean(0), atol=1e-5)
    np.testing.assert_allclose(points[3], z - v, atol=1e-6)


def test_a_row_is_decoded_from_the_point_out_along_the_vector():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,))).eval()
    z, v = np.array([0.2, -0.1, 0.4], np.float32), np.array([1.0, 0.0, -2.0], np.float32)
    strengths, points, images = attribute_row(model, z, v, strength=2.0, steps=7)
    np.testing.assert_allclose(strengths, np.linspace(0, 2, 7), atol=1e-6)
    assert points.shape == (7, 3) and images.shape == (7, 1, 8, 8)
    np.testing.assert_allclose(points[-1], z + 2 * v, atol=1e-6)
    torch.testing.assert_close(images[0], decode_points(model, z[None])[0])  # the first column is the point itself
    assert (images[-1] - images[0]).abs().max() > 1e-3  # and the row moves away from it
    assert 0 <= float(images.min()) and float(images.max()) <= 1
