"""The helpers behind the Side by side page: one image read by several models, one z decoded by several, and
which checkpoints can stand beside which."""

import shutil
from dataclasses import replace

import pytest
import torch

from conftest import ROOT
from vae_core import VAE, DataOptions, VAEConfig, image_terms, load_checkpoint, save_checkpoint
from vae_core.analysis.estimates import read_with_each
from vae_core.analysis.latent import decode_points, decode_with_each, prior_latents

SHIPPED = [load_checkpoint(ROOT / "checkpoints" / f"{name}.pt")[0] for name in ("digits-2d", "digits-16d")]


def test_one_image_through_two_models_gives_each_models_own_terms_and_decodings(digits):
    x = digits.test_x[7]
    readings = read_with_each(SHIPPED, x, samples=64, seed=3)
    for model, reading in zip(SHIPPED, readings):
        direct = image_terms(model, x, samples=64, seed=3)
        assert (reading.terms.loss, reading.terms.recon, reading.terms.kl) == (direct.loss, direct.recon, direct.kl)
        torch.testing.assert_close(reading.mean, decode_points(model, direct.mu[None])[0])
        torch.testing.assert_close(reading.reconstruction, decode_points(model, direct.z_sample[None])[0])
        assert reading.terms.loss == pytest.approx(reading.terms.recon + reading.terms.kl)
    assert readings[0].terms.kl != readings[1].terms.kl  # two models, two readings of the same image


def test_an_image_of_another_shape_is_refused():
    with pytest.raises(ValueError, match="cannot go through all"):
        read_with_each(SHIPPED, torch.rand(1, 28, 28))


def test_the_same_z_is_decoded_by_each_model_and_a_z_of_another_size_is_refused():
    torch.manual_seed(0)
    other = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    z = prior_latents(5, 2, seed=1)
    a, b = decode_with_each([SHIPPED[0], other], z)
    torch.testing.assert_close(a, decode_points(SHIPPED[0], z))
    torch.testing.assert_close(b, decode_points(other, z))
    assert a.shape == b.shape == (5, 1, 8, 8) and not torch.allclose(a, b)
    with pytest.raises(ValueError, match="the same z cannot go through all"):
        decode_with_each(SHIPPED, z)


@pytest.fixture
def folder(tmp_path, monkeypatch, digits):
    """The shipped models, a 28x28 one, and a 2-D digits model trained on another split."""
    for name in ("digits-2d", "digits-16d"):
        shutil.copy(ROOT / "checkpoints" / f"{name}.pt", tmp_path)
    torch.manual_seed(0)
    save_checkpoint(
        tmp_path / "big.pt",
        VAE(VAEConfig(image_shape=(1, 28, 28), latent_dim=2, hidden=(16,))),
        dataset="mnist",
        data_options={"name": "mnist"},
    )
    save_checkpoint(
        tmp_path / "resplit.pt",
        VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,))),
        dataset="digits",
        data_options=replace(digits.options, split_seed=1),
    )
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    return tmp_path


def test_partners_take_the_same_images_and_an_unusable_file_is_none(folder):
    from ui import catalogue

    rows = {r.name: r for r in catalogue.checkpoints()}
    assert rows["big"].image_shape == (1, 28, 28) and rows["digits-2d"].image_shape == (1, 8, 8)
    assert [r.name for r in catalogue.partners(list(rows.values()), rows["digits-2d"])] == ["digits-16d", "resplit"]
    assert catalogue.partners(list(rows.values()), rows["big"]) == []
    assert rows["broken"].error is not None and rows["broken"] not in catalogue.partners(list(rows.values()), rows["resplit"])


def test_same_data_means_the_same_split(folder):
    from ui import catalogue

    metas = {name: load_checkpoint(folder / f"{name}.pt")[1] for name in ("digits-2d", "digits-16d", "resplit", "big")}

    assert catalogue.same_data(metas["digits-2d"], metas["digits-16d"])
    assert not catalogue.same_data(metas["digits-2d"], metas["resplit"])  # digits too, but another test set
    assert not catalogue.same_data(metas["digits-2d"], metas["big"])
    older = replace(metas["big"], data_options=DataOptions.from_dict({"name": "mnist", "download": True}))
    assert catalogue.same_data(metas["big"], older)  # an option that names no data (an old file's) is no matter


def test_partners_on_the_same_dataset_come_first(folder):
    from ui import catalogue

    torch.manual_seed(0)
    save_checkpoint(
        folder / "a-elsewhere.pt",
        VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,))),
        dataset="/somewhere/else",
        data_options={"name": "/somewhere/else"},
    )
    rows = {r.name: r for r in catalogue.checkpoints()}
    order = [r.name for r in catalogue.partners(list(rows.values()), rows["digits-2d"])]
    assert order == ["digits-16d", "resplit", "a-elsewhere"]  # by name it would come first
