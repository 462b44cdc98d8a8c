"""Data with known factors in the app (AppTest): the map coloured by a factor, traversals that name the factor of
each dimension, disentanglement against β on Compare, and the metrics while a sprites run trains."""

import json
import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from test_app_explore import click_on, figure, trace_length
from test_app_generate import generate
from test_app_train import train_page, wait_until_done
from vae_core import DataOptions, ModelChoice, RunSpec, TrainConfig, load_checkpoint
from vae_core.analysis.latent import encode_means
from vae_core.data import sprites
from vae_core.data.datasets import load_data
from vae_core.maps.projection import Projection
from vae_core.runs.sweep import train_one
from vae_core.stats import metrics

APP = str(ROOT / "app.py")
SMALL = DataOptions("sprites", image_size=16, sprites_n=300)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return sprites_checkpoints(tmp_path_factory.mktemp("checkpoints"))


def sprites_checkpoints(folder):
    """A sprites model, a small β sweep on sprites (β 1 and 4, two seeds each), and the shipped digits model."""
    shutil.copy(ROOT / "checkpoints" / "digits-2d.pt", folder)
    spec = RunSpec(data=SMALL, model=ModelChoice(latent_dim=4), train=TrainConfig(epochs=3))
    assert train_one(spec, str(folder / "sprites.pt"))["status"] == "trained"
    for beta in (1, 4):
        for seed in (0, 1):
            run = spec.with_beta_and_seed(beta, seed)
            assert train_one(run, str(folder / "sweep" / f"beta{beta}-seed{seed}.pt"))["status"] == "trained"
    return folder


@pytest.fixture
def checkpoints(folder, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(folder))
    return folder


def explore(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = name
    return at.run()


def codes(folder, name="sprites.pt"):
    model, _ = load_checkpoint(folder / name)
    data = load_data(SMALL)
    return encode_means(model, data.test_x)[0], data


def test_explore_colours_the_map_by_each_true_factor(checkpoints):
    at = explore("sprites")
    assert not at.exception
    choice = at.selectbox(key="explore_colour")
    assert choice.options == ["label", *sprites.FACTOR_NAMES] and choice.value == "label"
    _, data = codes(checkpoints)
    choice.set_value("pos_x").run()
    (points,) = [t for t in figure(at)["data"] if t.get("customdata") is not None]
    assert points["marker"]["colorbar"]["title"]["text"] == "pos_x"
    shown = [float(t) for t in points["text"]]
    np.testing.assert_allclose(shown, data.factors.test[:, 3], rtol=1e-3)  # each point's own x position
    at.selectbox(key="explore_colour").set_value("shape").run()
    traces = {t["name"]: trace_length(t["x"]) for t in figure(at)["data"] if t.get("customdata") is not None}
    counts = np.bincount(data.factors.test[:, 0].astype(int), minlength=3)
    assert traces == {name: n for name, n in zip(sprites.SHAPES, counts) if n}
    assert figure(at)["layout"]["legend"]["title"]["text"] == "shape"


def test_a_map_without_factors_offers_no_colouring(checkpoints):
    at = explore("digits-2d")
    assert not at.exception and not [s for s in at.selectbox if s.key == "explore_colour"]


def test_a_clicked_sprite_shows_its_true_factors(checkpoints):
    mu, data = codes(checkpoints)
    xy = Projection(mu).transform(mu)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = "sprites"
    click_on(at, "sprites", *xy[5])
    at.run()
    assert not at.exception
    shape, scale, angle, px, py = data.factors.test[5]
    (caption,) = [c.value for c in at.caption if c.value.startswith("True factors")]
    assert f"shape **{sprites.SHAPES[int(shape)]}**" in caption and f"orientation **{angle:.3g}**" in caption
    assert f"pos_x **{px:.3g}**" in caption


def test_each_traversal_row_names_the_factor_its_dimension_captures(checkpoints):
    at = generate("sprites")
    mu, data = codes(checkpoints)
    expected = metrics.best_factors(mu, data.factors.test)
    rows = [m.value for m in at.markdown if m.value.startswith("**z")]
    assert len(rows) == 4
    for text in rows:
        d = int(text.split("**")[1][1:]) - 1
        factor, share = expected[d]
        assert f"{sprites.FACTOR_NAMES[factor]} **{share:.2f}**" in text if share >= 0.1 else "no one factor" in text
    assert any("normalized mutual information" in c.value for c in at.caption)


def test_compare_sets_disentanglement_against_beta_beside_the_rate_distortion_plane(checkpoints):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/compare.py").run()
    at.selectbox(key="compare_group").set_value(("sprites", "bernoulli", (1, 16, 16), "−log p(x)")).run()
    assert not at.exception
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    (chart,) = [c for c in charts.values() if c["layout"]["xaxis"].get("type") == "log"]
    by_name = {t["name"]: t for t in chart["data"]}
    assert list(by_name) == ["MIG", "DCI disentanglement", "DCI completeness"]
    runs = {
        1: ["sprites.pt", "sweep/beta1-seed0.pt", "sweep/beta1-seed1.pt"],  # the lone model has β 1 too
        4: ["sweep/beta4-seed0.pt", "sweep/beta4-seed1.pt"],
    }
    for key, name in (("mig", "MIG"), ("dci_disentanglement", "DCI disentanglement")):
        medians = [np.median([load_checkpoint(checkpoints / path)[1].metrics[key] for path in runs[b]]) for b in (1, 4)]
        assert by_name[name]["x"] == [1.0, 4.0]
        np.testing.assert_allclose(by_name[name]["y"], medians)
    assert any("Locatello" in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert "MIG" in table.columns and table["MIG"].notna().sum() == 5


def test_a_sprites_run_on_train_measures_disentanglement_every_few_epochs(checkpoints):
    at = train_page()
    at.selectbox(key="train_source").set_value("sprites").run()
    assert (at.radio(key="train_arch").value, at.number_input(key="train_latent_dim").value) == ("conv", 20)  # 64 px
    at.selectbox(key="train_sprites_size").set_value(16).run()
    at.number_input(key="train_sprites_n").set_value(300)
    at.number_input(key="train_epochs").set_value(2)
    at.button(key="train_start").click().run()
    at = wait_until_done(at)
    assert not at.exception and "Status: **finished**" in [m.value for m in at.markdown]
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "FactorVAE score" in c.proto.spec)
    assert [t["x"] for t in chart["data"]][0] == [1, 2]
    assert any("Measuring took" in c.value and "left out of the samples/s" in c.value for c in at.caption)
