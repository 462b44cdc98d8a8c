"""The notebook front end (vae_explorer): Explorer and Monitor's Python side, their messages to the page, bad input,
and the example notebook run headless through nbclient."""

import math
import os

import numpy as np
import pytest
import torch
from torch import nn

from conftest import ROOT, scrubber
from vae_core import load_checkpoint
from vae_core.analysis.latent import decode_points
from vae_core.analysis.replay import from_history
from vae_explorer import Explorer, Monitor
from vae_explorer.data import MAX_POINTS

CHECKPOINT = ROOT / "checkpoints" / "digits-2d.pt"


class TinyVAE(nn.Module):
    """A user's own model: not a vae_core VAE, decode gives flat Bernoulli logits."""

    def __init__(self, latent_dim=4, pixels=64):
        super().__init__()
        self.pixels = pixels
        self.encoder = nn.Linear(pixels, 2 * latent_dim)
        self.decoder = nn.Linear(latent_dim, pixels)

    def encode(self, x):
        return self.encoder(x.flatten(1)).chunk(2, dim=1)

    def decode(self, z):
        return self.decoder(z)


def page_sends(widget, request: dict) -> None:
    """What the page's click, box or lasso arrives as: a comm message that updates the widget's `request` trait."""
    data = {"method": "update", "state": {"request": request}, "buffer_paths": []}
    widget._handle_msg({"content": {"data": data}, "buffers": []})


@pytest.fixture(scope="module")
def explorer():
    from vae_core import load_dataset

    return Explorer(CHECKPOINT, load_dataset("digits"))


def test_the_explorer_sends_the_map_labels_and_hover_sprite(explorer):
    n = len(explorer.data.x)
    assert len(explorer.points["x"]) == len(explorer.points["y"]) == len(explorer.points["labels"]) == n
    assert explorer.axis_names == ["z1", "z2"]  # a 2-D code: the latent space itself
    assert explorer.names == [str(d) for d in range(10)]
    assert explorer.hover["sprite"].startswith("data:image/png;base64,") and explorer.hover["n"] >= 8
    assert explorer.hover["x_range"] == explorer.x_range
    assert explorer.selected == [] and explorer.clicked == {} and explorer.error == ""


def test_decode_at_decodes_the_map_point_with_the_model_in_the_kernel(explorer):
    image = explorer.decode_at(0.5, -1.0)
    assert image.shape == (1, 8, 8)
    assert torch.allclose(image, decode_points(explorer.model, [[0.5, -1.0]])[0])


def test_a_click_on_a_dot_shows_its_image_reconstruction_and_decoded_mean(explorer):
    x, y = (float(v) for v in explorer.map.xy[5])
    page_sends(explorer, {"type": "click", "x": x, "y": y, "n": 1})
    assert explorer.clicked == {"x": x, "y": y, "index": 5}
    assert list(explorer.images) == ["original", "reconstruction", "decoded mean"]
    page_sends(explorer, {"type": "click", "x": 40.0, "y": 40.0, "n": 2})  # far from every dot
    assert explorer.clicked["index"] is None and list(explorer.images) == ["decoded"]


def test_a_box_or_lasso_from_the_page_sets_selected_which_code_can_observe(explorer):
    seen = []
    explorer.observe(lambda change: seen.append(change["new"]), names="selected")
    page_sends(explorer, {"type": "box", "xs": [0.0, 2.0], "ys": [2.0, 0.0], "n": 3})
    xy = explorer.map.xy
    inside = np.flatnonzero((xy[:, 0] >= 0) & (xy[:, 0] <= 2) & (xy[:, 1] >= 0) & (xy[:, 1] <= 2))
    assert explorer.selected == inside.tolist() and seen == [inside.tolist()] and len(inside) > 0
    page_sends(explorer, {"type": "lasso", "xs": [0.0, 2.0, 2.0, 0.0], "ys": [0.0, 0.0, 2.0, 2.0], "n": 4})
    assert explorer.selected == inside.tolist()


def test_any_module_with_encode_and_decode_is_explored_with_its_likelihood():
    torch.manual_seed(0)
    images = torch.rand(50, 8, 8)  # (N, H, W): grey images
    model = TinyVAE()  # in train mode, as it leaves a training loop: explored in eval mode, left in train mode
    explorer = Explorer(model, images, labels=np.arange(50) % 3, likelihood="gaussian")
    assert model.training
    assert explorer.axis_names[0].startswith("PC1")  # 4-D codes: a PCA map
    assert explorer.model.config.likelihood == "gaussian" and explorer.model.config.latent_dim == 4
    assert explorer.decode_at(0.0, 0.0).shape == (1, 8, 8)
    assert sorted(set(explorer.points["labels"])) == [0, 1, 2]


def test_the_map_is_coloured_by_a_factor_when_asked(digits):
    from dataclasses import replace

    from vae_core.data.datasets import Factors

    n_train, n_test = len(digits.train_x), len(digits.test_x)
    shape = np.r_[np.zeros(n_train), np.arange(n_test) % 2][:, None]  # categorical: 0 or 1
    size = np.r_[np.zeros(n_train), np.linspace(0, 1, n_test)][:, None]
    values = np.hstack([shape, size])
    factors = Factors(["shape", "size"], values[:n_train], values[n_train:], {"shape": ["square", "heart"]})
    data = replace(digits, factors=factors)
    by_shape = Explorer(CHECKPOINT, data, color_by="shape")
    assert by_shape.names == ["square", "heart"] and by_shape.points["labels"][:3] == [0, 1, 0]
    by_size = Explorer(CHECKPOINT, data, color_by="size")
    assert len(by_size.names) == 5 and sorted(set(by_size.points["labels"])) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="one of the data's factors \\('shape', 'size'\\); got 'colour'"):
        Explorer(CHECKPOINT, data, color_by="colour")


def test_a_torchvision_dataset_is_explored_with_its_class_names():
    from torchvision.datasets import FakeData

    data = FakeData(size=12, image_size=(1, 8, 8), num_classes=3)
    data.classes = ["a", "b", "c"]
    explorer = Explorer(TinyVAE(), data)
    assert len(explorer.points["x"]) == 12 and explorer.names == ["a", "b", "c"]


class OneTensor(TinyVAE):
    def encode(self, x):
        return self.encoder(x.flatten(1))


class WrongShapes(TinyVAE):
    def encode(self, x):
        mu, logvar = super().encode(x)
        return mu, logvar[:, :1]


class NaNEncoder(TinyVAE):
    def encode(self, x):
        mu, logvar = super().encode(x)
        return mu * float("nan"), logvar


class NaNDecoder(TinyVAE):
    def decode(self, z):
        return super().decode(z) * float("nan")


@pytest.mark.parametrize(
    "model, data, error, words",
    [
        (OneTensor(), torch.rand(4, 1, 8, 8), TypeError, "must return two tensors (mu, logvar)"),
        (WrongShapes(), torch.rand(4, 1, 8, 8), ValueError, "(2, 4) and (2, 1)"),
        (TinyVAE(), torch.rand(4, 1, 28, 28), ValueError, "model.encode failed on the data's images of 28x28 pixels"),
        (CHECKPOINT, torch.rand(4, 1, 28, 28), ValueError, "The data's images are 28x28 pixels"),
        (NaNEncoder(), torch.rand(4, 1, 8, 8), ValueError, "encoder gave NaN or infinite codes"),
        (NaNEncoder(latent_dim=2), torch.rand(4, 1, 8, 8), ValueError, "NaN or infinite codes for 4 of the 4 images"),
        (NaNDecoder(), torch.rand(4, 1, 8, 8), ValueError, "decoded NaN or infinite pixels"),
        (TinyVAE(), torch.zeros(10**6, 1, 8, 8, dtype=torch.uint8), ValueError, f"at most {MAX_POINTS:,} points"),
        (TinyVAE(), torch.rand(4, 1, 8, 8) * 3, ValueError, "floats in [0, 1]"),
        ("no-such.pt", torch.rand(4, 1, 8, 8), ValueError, "no such checkpoint file"),
        (object(), torch.rand(4, 1, 8, 8), TypeError, "model must be a vae_core VAE"),
    ],
)
def test_bad_input_is_one_plain_sentence(model, data, error, words):
    with pytest.raises(error) as caught:
        Explorer(model, data)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_failing_click_shows_in_the_widget_not_as_a_traceback(explorer, monkeypatch):
    monkeypatch.setattr(explorer.model, "decode_image", lambda z, shown="mean", y=None: torch.full((len(z), 1, 8, 8), math.nan))
    page_sends(explorer, {"type": "click", "x": 40.0, "y": 40.0, "n": 5})
    assert "NaN" in explorer.error


def _train(model, monitor, data, epochs=2):
    """A training loop of the user's own, with the monitor in it."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x_train, step = data.train_x.float()[:256] / 255, 0
    for _ in range(epochs):
        for x in x_train.split(64):
            mu, logvar = model.encode(x)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = model.decode(z).view_as(x)
            recon = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)
            kl = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp()) / len(x)
            optimizer.zero_grad()
            (recon + 0.5 * kl).backward()
            optimizer.step()
            step += 1
            monitor.log(step, recon=recon, kl=kl, beta=0.5)
        monitor.epoch_end()


def test_a_monitor_records_a_vae_core_run_that_the_app_opens_with_its_curves_and_replay(digits, small_model, tmp_path):
    monitor = Monitor(small_model, digits)
    _train(small_model, monitor, digits)
    assert len(monitor.steps) == 8 and len(monitor.epochs) == 2 and monitor.frame["epoch"] == 2
    assert monitor.steps[-1][4] == 0.5 and math.isclose(monitor.steps[-1][2], monitor.steps[-1][1] + 0.5 * monitor.steps[-1][3])
    path = monitor.save(tmp_path / "mine.pt")
    model, meta = load_checkpoint(path)
    assert meta.dataset == "digits" and [e["type"] for e in meta.history].count("step") == 8
    replay = from_history(meta.history, meta.beta_changes, meta.image_shape)
    assert [f.epoch for f in replay.frames] == [1, 2]
    assert torch.allclose(model.decode(torch.zeros(1, 3)), small_model.decode(torch.zeros(1, 3)))


def test_the_app_opens_a_monitored_run_on_images_it_does_not_know_with_its_replay(digits, small_model, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monitor = Monitor(small_model, digits.test_x, labels=digits.test_y)  # plain tensors: the app cannot load them again
    _train(small_model, monitor, digits)
    monitor.save(tmp_path / "mine.pt")
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.selectbox(key="checkpoint").set_value("mine").run()
    at.toggle(key="explore_replay").set_value(True).run()
    assert not at.exception
    assert scrubber(at).value == 2


def test_a_monitor_saves_another_model_as_an_onnx_folder_with_its_history_beside_it(digits, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    model = TinyVAE(latent_dim=2)
    monitor = Monitor(model, digits.test_x, labels=digits.test_y)
    _train(model, monitor, digits, epochs=1)
    folder = monitor.save(tmp_path / "mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        monitor.save(folder)
    assert model.training  # the export's eval mode is undone: the loop may train on
    loaded, meta = load_checkpoint(folder)
    assert meta.vae_config.latent_dim == 2 and meta.image_shape == (1, 8, 8)
    assert [e.get("type") for e in meta.history].count("epoch") == 1  # the app reads the curves with the folder
    replay = from_history(meta.history, image_shape=(1, 8, 8))
    assert len(replay.frames) == 1
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.selectbox(key="checkpoint").set_value("mine").run()
    at.toggle(key="explore_replay").set_value(True).run()  # the app replays how the folder's model trained
    assert not at.exception
    assert "**Epoch 1** · β 0.5" in [
        m.value for m in at.markdown
    ]  # its one epoch (β as _train logged it), as the app shows a checkpoint's


@pytest.mark.parametrize(
    "terms, error, words",
    [
        (dict(kl=1.0), TypeError, "recon missing"),
        (dict(recon=1.0, kl=None, beta=None), TypeError, "kl and beta missing"),
        (dict(recon=float("nan"), kl=1.0), ValueError, "recon = nan at step 3"),
        (dict(recon="12", kl=1.0), TypeError, "must be a number"),
    ],
)
def test_monitor_log_says_which_term_is_missing_or_wrong(digits, small_model, terms, error, words):
    with pytest.raises(error, match=None) as caught:
        Monitor(small_model, digits).log(3, **terms)
    assert words in str(caught.value)


def test_each_widget_module_has_one_default_export_anywidgets():
    for widget in (Explorer, Monitor):
        assert widget._esm.count("export default") == 1 and widget._esm.rstrip().endswith("export default {render};")


def test_the_example_notebook_runs_headless_and_its_widgets_hold_the_map(monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernel's torch: on a busy 2-core machine, 10x faster than two threads
    nb = nbformat.read(ROOT / "examples" / "explore.ipynb", as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    views = [
        o for c in nb.cells for o in c.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(views) == 3  # the explorer, the monitor, the explorer of the model just trained
    states = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    widgets = [states[v.data["application/vnd.jupyter.widget-view+json"]["model_id"]]["state"] for v in views]
    shipped, monitor, trained = widgets
    assert len(shipped["points"]["x"]) == 359 and shipped["axis_names"] == ["z1", "z2"] and shipped["selected"] == []
    assert len(monitor["epochs"]) == 5 and monitor["frame"]["epoch"] == 5
    assert len(trained["points"]["x"]) == 359 and trained["hover"]["sprite"].startswith("data:image/png")


def test_a_conditional_model_decodes_free_points_under_the_chosen_label(digits):
    from vae_core import VAE, VAEConfig

    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(16,), num_classes=10))
    explorer = Explorer(model, digits, label=3)
    z = explorer.map.projection.inverse([[0.0, 0.0]])
    assert torch.allclose(explorer.decode_at(0.0, 0.0), decode_points(model, z, y=3)[0])
