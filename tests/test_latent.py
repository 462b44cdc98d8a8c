import numpy as np
import pytest
import torch

from vae_core import VAE, VAEConfig
from vae_core.analysis.latent import (
    decode_grid,
    decode_points,
    encode_means,
    grid_points,
    interpolate,
    prior_latents,
    sample_prior,
    traversal_order,
    traverse,
)
from vae_core.data.images import to_grid_image
from vae_core.maps.projection import Projection


def test_identity_projection_for_2d():
    z = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    proj = Projection(z)
    assert proj.explained_variance is None and proj.axis_names == ("z1", "z2")
    np.testing.assert_array_equal(proj.transform(z), z)
    np.testing.assert_array_equal(proj.inverse(z[:3]), z[:3])


def test_pca_projection_round_trip():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 16))
    z = (rng.normal(size=(200, 2)) @ basis + 0.5).astype(np.float32)  # lies on a 2-D plane in 16-D
    proj = Projection(z)
    ev = proj.explained_variance
    assert ev[0] >= ev[1] and sum(ev) > 0.999 and proj.axis_names[0].startswith("PC1")
    back = proj.inverse(proj.transform(z))
    np.testing.assert_allclose(back, z, atol=1e-4)
    pts = np.array([[0.3, -1.2]], dtype=np.float32)
    np.testing.assert_allclose(proj.transform(proj.inverse(pts)), pts, atol=1e-4)


def test_encode_decode_and_grid(digits):
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=4, hidden=(16,))).eval()
    mu, logvar = encode_means(model, digits.test_x, batch_size=100)
    assert mu.shape == logvar.shape == (len(digits.test_x), 4)
    with torch.no_grad():
        np.testing.assert_allclose(mu[:5], model.encode(digits.test_x[:5])[0].numpy(), atol=1e-5)
    images = decode_points(model, mu[:3])
    assert images.shape == (3, 1, 8, 8) and 0 <= images.min() and images.max() <= 1
    grid = decode_grid(model, Projection(mu), (-1, 1), (-2, 2), n=5)
    assert grid.shape == (25, 1, 8, 8)
    pts = grid_points((-1, 1), (-2, 2), 3)
    assert pts[0].tolist() == [-1, 2] and pts[-1].tolist() == [1, -2]  # top-left first, like an image


def test_interpolation_endpoints_and_slerp_norm():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    lin = interpolate(a, b, 5)
    np.testing.assert_allclose(lin[0], a)
    np.testing.assert_allclose(lin[-1], b)
    np.testing.assert_allclose(lin[2], [0.5, 0.5])
    slerp = interpolate(a, b, 5, method="slerp")
    np.testing.assert_allclose(np.linalg.norm(slerp, axis=1), 1.0, atol=1e-6)  # stays on the circle
    np.testing.assert_allclose(slerp[-1], b, atol=1e-6)
    with pytest.raises(ValueError):
        interpolate(a, b, 3, method="cubic")


def test_traversal_varies_one_dim_at_a_time():
    z = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    t = traverse(z, dims=[2, 0], span=2.0, steps=5)
    assert t.shape == (10, 3)
    np.testing.assert_allclose(t[:5, 2], np.linspace(-2, 2, 5))
    np.testing.assert_allclose(t[:5, :2], [[0.1, 0.2]] * 5)
    np.testing.assert_allclose(t[5:, 0], np.linspace(-2, 2, 5))
    np.testing.assert_allclose(t[5:, 1:], [[0.2, 0.3]] * 5)


def test_traversal_order_puts_informative_dimensions_first():
    assert traversal_order([0.001, 2.5, 0.0, 1.1]) == [1, 3, 0, 2]
    assert traversal_order([0.0, 0.0]) == [0, 1]  # ties keep their natural order


def test_prior_latents_are_seeded_and_scaled_by_temperature():
    a, b = prior_latents(4000, 3, temperature=0.5, seed=7), prior_latents(4000, 3, temperature=0.5, seed=7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4000, 3) and a.dtype == np.float32
    assert abs(a.std() - 0.5) < 0.02
    assert not np.array_equal(a, prior_latents(4000, 3, temperature=0.5, seed=8))


def test_prior_samples_and_grid_image():
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    a, b = sample_prior(model, 6, seed=1), sample_prior(model, 6, seed=1)
    assert torch.equal(a, b) and a.shape == (6, 1, 8, 8)
    img = to_grid_image(a, nrow=3, padding=1, scale=4)
    assert img.dtype == np.uint8 and img.shape == ((2 * 9 + 1) * 4, (3 * 9 + 1) * 4, 3)


def test_grid_image_matches_torchvision_make_grid():
    from torchvision.utils import make_grid

    images = torch.rand(7, 1, 5, 4)
    ours = to_grid_image(images, nrow=3, padding=2)
    theirs = (make_grid(images, nrow=3, padding=2, pad_value=1.0) * 255).round().byte().permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_map_covariances_project_the_posterior_onto_the_map():
    rng = np.random.default_rng(0)
    latents = rng.standard_normal((500, 5)).astype(np.float32) * [3, 2, 1, 0.5, 0.1]
    projection = Projection(latents)
    logvar = rng.standard_normal((3, 5)).astype(np.float32)
    covs = projection.map_covariances(logvar)
    # against samples: z ~ N(mu, diag(exp(logvar))) mapped through the projection has these covariances
    z = rng.standard_normal((200_000, 5)) * np.exp(0.5 * logvar[0])
    np.testing.assert_allclose(np.cov(projection.transform(z).T), covs[0], atol=0.02 * np.abs(covs[0]).max())
    assert np.allclose(covs, covs.transpose(0, 2, 1)) and (np.linalg.eigvalsh(covs) > 0).all()
    flat = Projection(latents[:, :2]).map_covariances(logvar[:, :2])  # 2-D: the map is the latent space
    np.testing.assert_allclose(flat, np.stack([np.diag(np.exp(v)) for v in logvar[:, :2]]), rtol=1e-6)
