"""UMAP and t-SNE maps and their inverse: clicks decode near the data, the error is measured, fits are cached."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vae_core import load_checkpoint
from vae_core.analysis.latent import encode_means
from vae_core.data.datasets import load_data
from vae_core.maps.nonlinear import KernelRegression, fit_nonlinear
from vae_core.store.fit_cache import cached_fit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits_latents():
    model, meta = load_checkpoint(ROOT / "checkpoints" / "digits-16d.pt")
    return encode_means(model, load_data(meta.data_options).test_x)[0]


@pytest.fixture(scope="module", params=["umap", "tsne"])
def fitted(request, digits_latents):
    return fit_nonlinear(digits_latents, request.param)


def test_the_inverse_interpolates_between_points_and_returns_the_nearest_far_away():
    xs = np.arange(10.0)
    xy = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    latents = np.stack([2 * xy[:, 0] - xy[:, 1], xy[:, 1], np.ones(len(xy))], 1)  # linear in the map position
    inverse = KernelRegression(xy, latents)
    inside = np.array([[4.0, 5.0], [4.5, 5.5], [3.25, 6.0]])
    expected = np.stack([2 * inside[:, 0] - inside[:, 1], inside[:, 1], np.ones(3)], 1)
    assert np.allclose(inverse(inside), expected, atol=0.15)
    assert np.allclose(inverse([[200.0, 200.0]]), latents[np.argmin(np.abs(xy - [9.0, 9.0]).sum(1))], atol=1e-6)


def test_round_trip_error_on_digits_is_bounded(fitted, digits_latents):
    """Clicking a data point decodes close to its own code, and grid points sent through the inverse and back
    through the method's transform land near where they started."""
    spread = np.linalg.norm(digits_latents - digits_latents.mean(0), axis=1).mean()
    at_data = np.linalg.norm(fitted.inverse(fitted.xy) - digits_latents, axis=1)
    assert np.median(at_data) < 0.2 * spread
    span = max(np.ptp(fitted.xy[:, 0]), np.ptp(fitted.xy[:, 1]))
    assert np.median(fitted.errors) < 0.2 * span
    assert fitted.errors.shape == (20, 20) and np.isfinite(fitted.errors).all()
    corner = (fitted.error_x[0], fitted.error_y[0])
    assert fitted.round_trip_error([corner])[0] == fitted.errors[0, 0]


@pytest.mark.parametrize("kind", ["umap", "tsne"])
def test_large_sets_are_fitted_on_a_subsample_and_the_rest_placed(digits_latents, kind):
    projection = fit_nonlinear(digits_latents, kind, max_fit=200)
    assert len(projection.fit_index) == 200 and np.isfinite(projection.xy).all()
    rest = np.setdiff1d(np.arange(len(digits_latents)), projection.fit_index)
    # a placed point lies among the fitted points whose latents are nearest its own
    fitted_latents = digits_latents[projection.fit_index]
    for i in rest[:20]:
        nearest = projection.fit_index[np.argsort(np.linalg.norm(fitted_latents - digits_latents[i], axis=1))[:5]]
        gap = np.linalg.norm(projection.xy[nearest] - projection.xy[i], axis=1).min()
        assert gap < 0.1 * np.ptp(projection.xy[:, 0])


def test_a_fit_is_cached_on_disk_and_a_damaged_file_is_fitted_again(tmp_path, digits_latents, monkeypatch):
    latents = digits_latents[:150]  # the cache does not depend on the size; each t-SNE fit of all took 20 s or more
    first = cached_fit(latents, "tsne", tmp_path)
    (cache_file,) = tmp_path.glob("map-tsne-*.npz")
    with monkeypatch.context() as patched:  # the second open reads the file: it fits nothing
        patched.setattr("vae_core.maps.nonlinear.fit_nonlinear", lambda *args: pytest.fail("fitted again"))
        again = cached_fit(latents, "tsne", tmp_path)
    assert np.array_equal(first.xy, again.xy) and np.array_equal(first.errors, again.errors)
    cache_file.write_bytes(b"damaged")
    rebuilt = cached_fit(latents, "tsne", tmp_path)
    assert np.allclose(rebuilt.xy, first.xy) and cache_file.stat().st_size > 1000
    cached_fit(latents[:120], "tsne", tmp_path)  # other latents (another model): another file
    assert len(list(tmp_path.glob("map-tsne-*.npz"))) == 2


def test_umap_and_numba_are_imported_only_when_asked_for():
    code = (
        "import sys, vae_core.maps.nonlinear, ui.catalogue, ui.session; "
        "print(sorted(m for m in ('umap', 'numba', 'openTSNE') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_tsne_fit_reports_its_progress_as_it_goes():
    from vae_core.maps.nonlinear import fit_nonlinear

    reports = []
    latents = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
    fit_nonlinear(latents, "tsne", progress=lambda message, fraction: reports.append((message, fraction)))
    fitting = [f for m, f in reports if m.startswith("Fitting t-SNE on 300 points: ")]
    assert len(fitting) == 15 and fitting == sorted(fitting)  # every 50 of its 750 iterations, never backwards
    assert fitting[0] > 0.05 and fitting[-1] == pytest.approx(0.55)
    assert reports[-1] == ("Done", 1.0)
