"""Saying when a view shows nothing (vae_core.analysis.effects): how much a conditional model's label, and each
traversed latent dimension, change the decoded image; in `eval --json` and beside Generate's rows."""

import numpy as np
import pytest
import torch

from conftest import ROOT
from test_app_generate import generate
from vae_core import VAE, TrainConfig, VAEConfig, cli, load_checkpoint, train
from vae_core.analysis.effects import LITTLE, label_effect, row_effects, sample_spread, spread
from vae_core.analysis.latent import decode_points, traverse
from vae_core.training.save import save_run


def deaf(model: VAE) -> VAE:
    """The model with its decoder's label inputs cut: it draws the same image under every label."""
    first = model.decoder[0]
    assert isinstance(first, torch.nn.Linear) and first.in_features == model.config.latent_dim + model.config.num_classes
    with torch.no_grad():
        first.weight[:, model.config.latent_dim :] = 0
    return model


def conditional(seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,), num_classes=10)).eval()


def test_the_spread_of_images_is_their_rms_distance_from_their_mean():
    images = torch.tensor([[0.0, 0.0], [1.0, 1.0]]).reshape(2, 1, 1, 2)  # mean 0.5 everywhere: every pixel 0.5 off
    assert spread(images) == 0.5 and spread(images[:1]) == 0.0


def test_a_decoder_that_ignores_the_label_has_no_label_effect_and_one_that_draws_it_has_a_large_one():
    assert label_effect(deaf(conditional())) == 0.0  # every label draws the same image, exactly
    loud = conditional()
    with torch.no_grad():
        loud.decoder[0].weight[:, 3:] *= 100  # the label outweighs the code
    assert label_effect(loud) > 1
    assert label_effect(VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,)))) is None


def test_a_traversal_row_of_a_dimension_the_decoder_ignores_changes_nothing():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,))).eval()
    with torch.no_grad():
        model.decoder[0].weight[:, 2] = 0  # z3 is cut off
    images = decode_points(model, traverse(np.zeros(3), [0, 1, 2], steps=9))
    effects = row_effects(images, 9, sample_spread(model))
    assert effects[2] == 0.0 and min(effects[:2]) > 0


def test_eval_json_reports_the_label_effect_of_a_conditional_model(digits, tmp_path, capsys):
    model = deaf(conditional())
    config = TrainConfig(epochs=1)
    save_run(tmp_path / "deaf.pt", model, digits, config, [])
    capsys.readouterr()
    assert cli.main(["eval", str(tmp_path / "deaf.pt"), "--json"]) == 0
    assert '"label_effect": 0.0' in capsys.readouterr().out
    assert cli.main(["eval", str(ROOT / "checkpoints" / "digits-2d.pt"), "--json"]) == 0
    assert '"label_effect": null' in capsys.readouterr().out


@pytest.fixture
def deaf_checkpoint(digits, tmp_path, monkeypatch):
    """A conditional digits model trained one epoch, then cut off from its label, in this test's folder."""
    model = conditional()
    config = TrainConfig(epochs=1)
    history = list(train(model, digits, config))
    save_run(tmp_path / "deaf.pt", deaf(model.eval()), digits, config, history)
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    return tmp_path / "deaf.pt"


def test_generate_says_when_the_label_changes_little(deaf_checkpoint):
    at = generate("deaf")
    warnings = [w.value for w in at.warning if w.value.startswith("The label changes little")]
    assert warnings and all("0.00 of what separates two codes" in w for w in warnings)


def test_generate_marks_the_traversal_rows_that_change_little():
    at = generate("digits-16d")
    _, meta = load_checkpoint(ROOT / "checkpoints" / "digits-16d.pt")
    kl = np.asarray(meta.metrics["kl_per_dim"])
    at.slider(key="gen_dims").set_value(16).run()
    marked = {m.value.split("**")[1] for m in at.markdown if m.value.startswith("**z") and "changes little" in m.value}
    collapsed = {f"z{d + 1}" for d in np.flatnonzero(kl < 0.01)}
    assert collapsed and collapsed <= marked  # a dimension with no KL moves nothing
    assert f"z{int(np.argmax(kl)) + 1}" not in marked  # the most informative one does
    assert any(f"under {LITTLE:.0%} of what separates two prior samples" in c.value for c in at.caption)
