"""Conditional VAEs (VAEConfig.num_classes): the label into encoder and decoder, MLP and conv, from Python, the CLI
and the app (Explore's label control, Generate's rows per class and "one style, every class", Compare's planes)."""

import json
import re

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from test_app_explore import click_on, figure
from test_app_generate import generate
from test_app_train import current_run_id, train_page, wait_until_done
from vae_core import (
    VAE,
    DataOptions,
    ModelChoice,
    RunSpec,
    TrainConfig,
    VAEConfig,
    cli,
    evaluate,
    load_checkpoint,
    train,
)
from vae_core.analysis.latent import decode_grid, decode_points, every_label, prior_latents, samples_by_class
from vae_core.data.datasets import as_float, load_data
from vae_core.maps.projection import Projection
from vae_core.model.bounds import iwae_nll, training_terms
from vae_core.model.vae import parameter_count
from vae_core.runs.sweep import train_one
from vae_core.training.build import build_model

APP = str(ROOT / "app.py")
CONDITIONAL = RunSpec(model=ModelChoice(conditional=True), train=TrainConfig(epochs=30))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A conditional digits model (2-D MLP, 30 epochs) and the shipped unconditional one."""
    folder = tmp_path_factory.mktemp("checkpoints")
    (folder / "digits-2d.pt").write_bytes((ROOT / "checkpoints" / "digits-2d.pt").read_bytes())
    assert train_one(CONDITIONAL, str(folder / "cond.pt"))["status"] == "trained"
    return folder


@pytest.fixture
def checkpoints(folder, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(folder))
    return folder


def conditional(arch="mlp", shape=(1, 8, 8), k=10) -> VAE:
    torch.manual_seed(0)
    return VAE(
        VAEConfig(image_shape=shape, latent_dim=3, arch=arch, hidden=(16, 8) if arch == "conv" else (32,), num_classes=k)
    )


def test_a_stored_config_without_labels_is_unconditional_and_a_conditional_one_round_trips():
    old = dict(image_shape=[1, 8, 8], latent_dim=2, hidden=[512, 256], arch="mlp", likelihood="bernoulli")
    assert VAEConfig.from_dict(old).num_classes == 0 and not VAEConfig.from_dict(old).conditional
    config = VAEConfig(latent_dim=2, num_classes=10)
    assert VAEConfig.from_dict(config.to_dict()) == config and config.conditional
    with pytest.raises(ValueError, match="num_classes"):
        VAEConfig(num_classes=1)


@pytest.mark.parametrize("arch, shape", [("mlp", (1, 8, 8)), ("conv", (1, 28, 28))])
def test_parameter_count_counts_the_label_inputs(arch, shape):
    model = conditional(arch, shape)
    assert sum(p.numel() for p in model.parameters()) == parameter_count(model.config)
    plain = VAEConfig(image_shape=shape, latent_dim=3, arch=arch, hidden=model.config.hidden)
    assert parameter_count(model.config) > parameter_count(plain)


@pytest.mark.parametrize("arch, shape", [("mlp", (1, 8, 8)), ("conv", (1, 28, 28))])
def test_encoder_and_decoder_both_read_the_label(arch, shape):
    model = conditional(arch, shape).eval()
    x, z = torch.rand(4, *shape), torch.randn(4, 3)
    with torch.no_grad():
        assert not torch.allclose(model.encode(x, 0)[0], model.encode(x, 1)[0])
        assert not torch.allclose(model.decode(z, 0), model.decode(z, 1))
        per_row = model.decode(z, torch.tensor([0, 1, 0, 1]))
        assert torch.allclose(per_row[1], model.decode(z, 1)[1]) and torch.allclose(per_row[0], model.decode(z, 0)[0])


def test_a_conditional_model_refuses_missing_or_wrong_labels_and_a_plain_one_ignores_them():
    model, x = conditional(), torch.rand(3, 1, 8, 8)
    with pytest.raises(ValueError, match="conditional VAE"):
        model.encode(x)
    with pytest.raises(ValueError, match="0..9"):
        model.decode(torch.zeros(3, 3), torch.tensor([0, 1, 10]))
    with pytest.raises(ValueError, match="3 class numbers"):
        model.encode(x, torch.tensor([0, 1]))
    torch.manual_seed(0)
    plain = VAE(VAEConfig(latent_dim=3, hidden=(32,)))
    assert torch.equal(plain.encode(x, 5)[0], plain.encode(x)[0])


def test_a_labelled_view_decodes_under_its_label_for_code_written_for_plain_models():
    model = conditional().eval()
    projection = Projection(np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32))
    view = model.with_label(7)
    grid = decode_grid(view, projection, (-1, 1), (-1, 1), n=3)
    z = projection.inverse(np.stack(np.meshgrid(np.linspace(-1, 1, 3), np.linspace(1, -1, 3)), -1).reshape(-1, 2))
    assert torch.allclose(grid, decode_points(model, z, y=7), atol=1e-6)
    assert view.config is model.config and view.device == model.device
    assert conditional(k=0).with_label(3).config.num_classes == 0  # a plain model is itself


@pytest.mark.parametrize("objective", ["elbo", "iwae", "tcvae"])
def test_every_objective_trains_a_conditional_model_on_its_labels(objective, digits):
    model = conditional()
    config = TrainConfig(objective=objective, iwae_k=3, free_bits=0.1)
    x, y = as_float(digits.train_x[:64]), digits.train_y[:64]
    terms = training_terms(model, x, 1.0, config, y)
    terms.loss.backward()
    assert torch.isfinite(terms.loss) and model.to_stats.weight.grad[:, -10:].abs().sum() > 0  # the label's weights
    with pytest.raises(ValueError, match="conditional VAE"):
        training_terms(model, x, 1.0, config)


def test_a_trained_conditional_model_draws_the_class_it_is_given(digits):
    model = build_model(CONDITIONAL, digits)
    for _ in train(model, digits, CONDITIONAL.train):
        pass
    model.eval()
    images = samples_by_class(model, per_class=20, seed=1)  # (10 * 20, 1, 8, 8): one row per class
    means = torch.stack([as_float(digits.train_x[digits.train_y == k]).mean(0) for k in range(10)])
    nearest = ((images.flatten(1)[:, None] - means.flatten(1)[None]) ** 2).sum(-1).argmin(1)
    drawn = torch.arange(10).repeat_interleave(20)
    assert (nearest == drawn).float().mean() > 0.7, "the decoded classes should follow the labels given"
    style = every_label(model, prior_latents(20, 2, seed=1)[:2])  # 2 codes, each under every label
    assert style.shape == (20, 1, 8, 8) and torch.allclose(style[:10], images[::20], atol=1e-6)  # a column above
    # its bound is on -log p(x|y), and the label helps: lower than the same network's with wrong labels
    right = iwae_nll(model, digits.test_x, digits.test_y, k=20)
    wrong = iwae_nll(model, digits.test_x, (digits.test_y + 1) % 10, k=20)
    assert right < wrong - 2
    assert (
        evaluate(model, digits.test_x, y=digits.test_y)["test_loss"]
        < evaluate(model, digits.test_x, y=(digits.test_y + 1) % 10)["test_loss"]
    )


def test_data_without_labels_is_refused_with_a_message(tmp_path, capsys):
    with pytest.raises(ValueError, match="no labels"):
        ModelChoice(conditional=True).config_for((1, 8, 8), ["only"])
    from PIL import Image

    for i in range(6):
        Image.fromarray((np.random.default_rng(i).random((8, 8)) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    assert (
        cli.main(
            ["train", "--data", str(tmp_path), "--epochs", "1", "--conditional", "--out", str(tmp_path / "m.pt"), "--quiet"]
        )
        == 1
    )
    assert "no labels" in capsys.readouterr().err and not (tmp_path / "m.pt").exists()


def test_cli_trains_sweeps_and_evaluates_conditional_models(tmp_path, capsys):
    out = tmp_path / "c.pt"
    assert cli.main(["train", "--data", "digits", "--epochs", "2", "--conditional", "--out", str(out), "--quiet"]) == 0
    model, meta = load_checkpoint(out)
    assert model.config.num_classes == 10 and meta.vae_config.conditional
    capsys.readouterr()
    assert cli.main(["eval", str(out), "--json", "--iwae-k", "5"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["conditional"] is True and np.isfinite(result["iwae_nll"])
    assert cli.main(["eval", str(ROOT / "checkpoints" / "digits-2d.pt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["conditional"] is False
    assert (
        cli.main(
            [
                "sweep",
                "--data",
                "digits",
                "--epochs",
                "1",
                "--conditional",
                "--betas",
                "1",
                "--seeds",
                "0",
                "--out-dir",
                str(tmp_path / "sweep"),
                "--quiet",
            ]
        )
        == 0
    )
    (swept,) = (tmp_path / "sweep").glob("*.pt")
    assert load_checkpoint(swept)[0].config.num_classes == 10


def test_conv_conditional_runs_through_a_run_spec():
    data = load_data(DataOptions("sprites", image_size=16, sprites_n=200))
    spec = RunSpec(
        data=data.options,
        model=ModelChoice(arch="conv", latent_dim=4, conditional=True),
        train=TrainConfig(epochs=1, batch_size=64),
    )
    model = build_model(spec, data)
    assert model.config.num_classes == len(data.class_names) == 3
    events = list(train(model, data, spec.train))
    assert events[-1]["type"] == "end" and np.isfinite(events[-2]["test_loss"])


def test_onnx_export_refuses_a_conditional_model(tmp_path, folder):
    pytest.importorskip("onnx")
    from vae_core.model.onnx_io import OnnxModelError, export_onnx

    model, meta = load_checkpoint(folder / "cond.pt")
    with pytest.raises(OnnxModelError, match="conditional"):
        export_onnx(model, meta, tmp_path / "out")


# --- the app --------------------------------------------------------------------------------------------------


def explore(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = name
    return at.run()


def image_urls(at) -> list[str]:
    return [img.url for el in at.get("image") for img in el.proto.imgs]


def test_explore_says_what_a_conditional_map_shows_and_decodes_a_click_under_the_chosen_label(checkpoints):
    at = explore("cond")
    assert not at.exception
    assert any("conditional VAE" in i.value and "style" in i.value for i in at.info)
    assert {t["name"] for t in figure(at)["data"]} >= {"0", "9"}  # coloured by label
    label = at.selectbox(key="explore_label")
    assert label.options[:2] == ["0", "1"] and label.value == 0
    layout = figure(at)["layout"]
    (x0, _), (_, y1) = layout["xaxis"]["range"], layout["yaxis"]["range"]
    click_on(at, "cond", x0 + 0.01, y1 - 0.01)  # the map's corner, away from every dot: a free point
    at.run()
    assert not at.exception
    under_0 = image_urls(at)
    assert any("under the label 0" in c for c in [i.caption for el in at.get("image") for i in el.proto.imgs])
    at.selectbox(key="explore_label").set_value(7).run()
    assert not at.exception
    captions = [i.caption for el in at.get("image") for i in el.proto.imgs]
    assert any("under the label 7" in c for c in captions) and "decoded image" in captions
    assert image_urls(at)[0] != under_0[0]  # the same point, decoded as another class


def test_generate_shows_one_row_per_class_and_one_style_in_every_class(checkpoints):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = "cond"
    at = generate(at=at)
    assert at.selectbox(key="gen_label").value == 0
    captions = [i.caption for el in at.get("image") for i in el.proto.imgs]
    assert any(c.startswith("One row per class, from the top: 0, 1, 2") for c in captions)
    assert [t.label for t in at.tabs][-1] == "One style, every class"
    assert any(c.startswith("One style, every class: the code of test image #0") for c in captions)
    at.selectbox(key="gen_label").set_value(3).run()
    assert not at.exception


def test_an_unconditional_model_gets_no_label_controls(checkpoints):
    at = explore("digits-2d")
    assert not at.exception and not [s for s in at.selectbox if s.key == "explore_label"]
    at = generate("digits-2d")
    assert "One style, every class" not in [t.label for t in at.tabs]


def test_compare_puts_conditional_bounds_on_a_plane_of_their_own(checkpoints):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    groups = at.selectbox(key="compare_group").options
    assert any("bounds −log p(x|y)" in g for g in groups) and any("bounds −log p(x)" in g and "|y" not in g for g in groups)


def test_train_page_switch_trains_a_conditional_model(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = train_page()
    at.number_input(key="train_epochs").set_value(2)
    at.toggle(key="train_conditional").set_value(True)
    at.button(key="train_start").click().run()
    at = wait_until_done(at)
    assert not at.exception
    assert any(re.search(r"mlp conditional VAE, 2-D latent", c.value) for c in at.caption)
    assert at.text_input(key=f"save_name_{current_run_id(at)}").value == "digits-mlp-cond-z2-beta1"


def test_the_marginal_bound_sums_the_label_out():
    """With the label's weights zeroed the model ignores y, so p(x) = Σ_y p(y) p(x|y) is p(x|y) for any y; and the
    marginal is never below the p(y)-weighted bound of one label alone (a sum of positive terms)."""
    from vae_core.model.bounds import iwae_log_likelihood, marginal_log_likelihood

    model = conditional().eval()
    x = torch.rand(6, 1, 8, 8)
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    marginal = marginal_log_likelihood(model, x, k=50, generator=gen())
    one = iwae_log_likelihood(model, x, 50, gen(), 0)  # the first label's, with the marginal's first noise
    assert (marginal >= one + np.log(0.1) - 1e-4).all()
    with torch.no_grad():
        model.to_stats.weight[:, -10:] = 0
        model.decoder[0].weight[:, -10:] = 0
    blind = marginal_log_likelihood(model, x, k=2000, generator=gen())
    assert torch.allclose(blind, iwae_log_likelihood(model, x, 2000, gen(), 3), atol=0.05)
    prior = torch.tensor([0.5, 0.5] + [0.0] * 8)
    assert torch.allclose(marginal_log_likelihood(model, x, 2000, gen(), prior), blind, atol=0.05)


def test_eval_reports_the_marginal_bound_of_a_conditional_model(folder, capsys):
    assert cli.main(["eval", str(folder / "cond.pt"), "--json", "--iwae-k", "10"]) == 0
    result = json.loads(capsys.readouterr().out)
    # -log p(x) >= -log p(x|y) - log p(y) on average: the label's information, at most log 10 nats
    assert result["iwae_nll"] - 0.5 < result["iwae_nll_marginal"] < result["iwae_nll"] + np.log(10) + 0.5


def test_html_export_of_a_conditional_model_draws_it_under_a_label(folder, tmp_path, capsys):
    out = tmp_path / "cond.html"
    assert cli.main(["export", str(folder / "cond.pt"), "--html", str(out), "--label", "7"]) == 0
    assert out.stat().st_size > 100_000
    assert cli.main(["export", str(folder / "cond.pt"), "--html", str(tmp_path / "x.html"), "--label", "cat"]) == 1
    assert "--label must be one of the model's classes (0, 1" in capsys.readouterr().err


def test_side_by_side_reads_a_test_image_under_its_label_and_says_the_bounds_differ(checkpoints):
    from test_app_side_by_side import side_by_side

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = "cond"
    at = side_by_side(at)
    captions = " ".join(c.value for c in at.caption)
    assert "A's −ELBO bounds −log p(x|y) and B's −log p(x)" in captions
    assert any("decoded under the label" in i.caption for el in at.get("image") for i in el.proto.imgs)
