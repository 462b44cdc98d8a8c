"""`export CHECKPOINT --html FILE`: one self-contained page of a model's map (the browser side is in
test_browser_export.py)."""

import json

import pytest

from conftest import ROOT
from test_cli import cli
from test_onnx_io import export_outside_vae
from vae_core import DataOptions, ModelChoice, RunSpec, TrainConfig, save_run, train
from vae_core.data.datasets import load_data
from vae_core.training.build import build_model


def view_of(path) -> dict:
    """The data the page draws, as embedded in it."""
    text = path.read_text()
    start = text.index("const VIEW = ") + len("const VIEW = ")
    return json.loads(text[start : text.index("\n", start)].rstrip(";").replace("<\\/", "</"))


def test_a_checkpoint_becomes_one_page_with_its_map_decodes_thumbnails_and_curves(tmp_path):
    out = tmp_path / "view.html"
    cli("export", str(ROOT / "checkpoints" / "digits-16d.pt"), "--html", str(out))
    size = out.stat().st_size
    assert size < 8 * 2**20  # the README says ~5 MB
    text = out.read_text()
    assert "<script src" not in text and "<link" not in text  # nothing loaded from elsewhere
    view = view_of(out)
    assert [t["name"] for t in view["figure"]["data"]] == [str(d) for d in range(10)]
    assert sum(len(t["x"]) for t in view["figure"]["data"]) == 359
    assert view["sprite"]["n"] == 32 and view["sprite"]["sprite"].startswith("data:image/png;base64,")
    assert view["thumbs"]["count"] == 359 and view["thumbs"]["tile"] == [8, 8]
    assert len(view["curves"]["step"]) > 100 and view["curves"]["loss"][-1] < view["curves"]["loss"][0]
    again = cli("export", str(ROOT / "checkpoints" / "digits-16d.pt"), "--html", str(out), check=False)
    assert again.returncode == 1 and "--force" in again.stderr


def test_an_imported_model_has_no_curves_to_show(tmp_path):
    export_outside_vae(tmp_path / "theirs")
    cli("export", str(tmp_path / "theirs"), "--html", str(tmp_path / "view.html"))
    view = view_of(tmp_path / "view.html")
    assert view["curves"] is None and view["thumbs"]["count"] == 359
    assert "no training history" in (tmp_path / "view.html").read_text()


@pytest.fixture(scope="module")
def sprites_checkpoint(tmp_path_factory):
    spec = RunSpec(DataOptions("sprites", image_size=16, sprites_n=200), ModelChoice(latent_dim=3), TrainConfig(epochs=1))
    data = load_data(spec.data)
    model = build_model(spec, data)
    history = [e for e in train(model, data, spec.train) if e["type"] in ("step", "epoch")]
    return save_run(tmp_path_factory.mktemp("s") / "s.pt", model, data, spec.train, history)[0]


def test_a_factor_colours_the_page_as_it_colours_the_app(tmp_path, sprites_checkpoint):
    cli("export", str(sprites_checkpoint), "--html", str(tmp_path / "x.html"), "--colour", "pos_x")
    (trace,) = view_of(tmp_path / "x.html")["figure"]["data"]
    assert trace["marker"]["colorscale"] == "Viridis" and trace["marker"]["colorbar"]["title"]["text"] == "pos_x"
    cli("export", str(sprites_checkpoint), "--html", str(tmp_path / "s.html"), "--colour", "shape")
    assert {t["name"] for t in view_of(tmp_path / "s.html")["figure"]["data"]} == {"square", "ellipse", "heart"}
    bad = cli("export", str(sprites_checkpoint), "--html", str(tmp_path / "b.html"), "--colour", "hue", check=False)
    assert bad.returncode == 1 and "--colour must be label, shape, scale, orientation, pos_x, pos_y" in bad.stderr


def test_a_t_sne_view(tmp_path):
    cli("export", str(ROOT / "checkpoints" / "digits-16d.pt"), "--html", str(tmp_path / "t.html"), "--map", "tsne")
    view = view_of(tmp_path / "t.html")
    assert view["figure"]["layout"]["xaxis"]["title"]["text"].startswith("t-SNE")
    assert "a t-SNE projection of the 16-D latent space" in (tmp_path / "t.html").read_text()
