"""The Side by side page through Streamlit's AppTest: one test image through two models, one z through both."""

import base64
import io
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown
from vae_core import VAE, TrainConfig, VAEConfig, image_terms, load_checkpoint, save_checkpoint, train
from vae_core.analysis.latent import decode_points, prior_latents
from vae_core.data.images import to_grid_image
from vae_core.training.save import save_run

APP = str(ROOT / "app.py")
SHIPPED = ROOT / "checkpoints"


def side_by_side(at: AppTest | None = None) -> AppTest:
    if at is None:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["checkpoint"] = "digits-2d"
    at.switch_page("pages/side_by_side.py").run()
    assert not at.exception
    return at


def images(at) -> dict:
    """caption -> the image's pixels, (H, W, 3) uint8."""
    return {
        shown(img.caption): np.asarray(Image.open(io.BytesIO(base64.b64decode(img.url.split(",", 1)[1]))).convert("RGB"))
        for el in at.get("image")
        for img in el.proto.imgs
    }


def offered(at, key: str) -> list[str]:
    """The checkpoint names a selectbox offers (its options read "z=... · β=... · name")."""
    return [option.split(" · ")[-1] for option in at.selectbox(key=key).options]


def terms(at) -> dict:
    """The terms table: {"−ELBO": ["A's", "B's", "B − A"], "reconstruction": [...], "KL": [...]}, as shown."""
    table = next(m.value for m in at.markdown if m.value.startswith("| nats per image"))
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    return {row[0]: row[1:] for row in cells}


@pytest.fixture(scope="module")
def tiny_2d(tmp_path_factory, digits):
    """A second 2-D digits model, trained for one quick epoch: it can decode the z of the shipped 2-D one."""
    torch.manual_seed(1)
    model = VAE(VAEConfig(image_shape=digits.image_shape, latent_dim=2, hidden=(32,)))
    config = TrainConfig(epochs=1, seed=1)
    history = list(train(model, digits, config))
    path, _ = save_run(tmp_path_factory.mktemp("tiny") / "tiny-2d.pt", model, digits, config, history)
    return path


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    return tmp_path


def test_the_same_test_image_through_both_shipped_models(digits):
    at = side_by_side()
    assert (at.selectbox(key="sbs_a").value, at.selectbox(key="sbs_b").value) == ("digits-2d", "digits-16d")
    at.number_input(key="sbs_index").set_value(11).run()
    a, b = (
        image_terms(load_checkpoint(SHIPPED / f"{name}.pt")[0], digits.test_x[11], samples=500, seed=0)
        for name in ("digits-2d", "digits-16d")
    )
    shown = terms(at)
    assert shown == {
        label: [f"{getattr(a, key):.2f}", f"{getattr(b, key):.2f}", f"{getattr(b, key) - getattr(a, key):+.2f}"]
        for label, key in (("−ELBO", "loss"), ("reconstruction", "recon"), ("KL", "kl"))
    }
    assert all(shown[label][0] != shown[label][1] for label in shown)  # two models, two readings of one image
    original = images(at)[f"original · #11 · label {digits.class_names[int(digits.test_y[11])]}"]
    assert (original[::21, ::21, 0] == np.round(digits.test_x[11, 0].numpy() * 255)).all()  # 168 px: 21 per pixel
    assert {"A: reconstruction", "A: decoded mean", "B: reconstruction", "B: decoded mean"} <= images(at).keys()
    assert "A has a 2-D code, B 16-D: the same z cannot go through both" in at.info[0].value
    at.button(key="sbs_random").click().run()
    index = at.number_input(key="sbs_index").value
    assert index != 11 and 0 <= index < len(digits.test_x) and terms(at) != shown
    assert f"original · #{index} · label" in " ".join(images(at))


def test_a_second_model_with_the_same_code_size_decodes_the_same_z(folder, tiny_2d):
    shutil.copy(SHIPPED / "digits-2d.pt", folder)
    shutil.copy(SHIPPED / "digits-16d.pt", folder)
    shutil.copy(tiny_2d, folder)
    at = side_by_side()
    assert offered(at, "sbs_b") == ["digits-16d", "tiny-2d"]
    at.selectbox(key="sbs_b").set_value("tiny-2d").run()
    assert not at.exception and not at.info
    shown = images(at)
    z = prior_latents(8, 2, seed=0)
    for slot, name in (("A", "digits-2d"), ("B", "tiny-2d")):
        row = shown[f"8 prior samples (seed 0) through {slot} · {name}"]
        scale = row.shape[1] // (8 * 9 + 1)
        expected = to_grid_image(decode_points(load_checkpoint(folder / f"{name}.pt")[0], z), nrow=8, scale=scale)
        np.testing.assert_array_equal(row, expected)
    at.number_input(key="sbs_seed").set_value(4).run()
    assert "8 prior samples (seed 4) through B · tiny-2d" in images(at)
    at.radio(key="sbs_z_source").set_value("posterior").run()
    mean = images(at)["A's posterior mean of the test image through A · digits-2d"]
    assert mean.shape[:2] == images(at)["A's posterior mean of the test image through B · tiny-2d"].shape[:2]


def test_models_on_different_data_get_a_message_not_a_traceback(folder, digits):
    shutil.copy(SHIPPED / "digits-2d.pt", folder)
    torch.manual_seed(0)
    save_checkpoint(
        folder / "resplit.pt",
        VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,))),
        dataset="digits",
        data_options=replace(digits.options, split_seed=1),
    )
    (folder / "broken.pt").write_bytes(b"not a checkpoint")
    at = side_by_side()
    assert offered(at, "sbs_a") == ["digits-2d", "resplit"] and offered(at, "sbs_b") == ["resplit"]
    assert "A and B were trained on different splits of digits: they share no test image" in at.warning[0].value
    assert not [m for m in at.markdown if m.value.startswith("| nats")] and "broken" in " ".join(c.value for c in at.caption)
    assert images(at)  # the same z still goes through both
    assert at.radio(key="sbs_z_source").options == ["prior samples"]  # no shared test image to take a mean of


def test_with_one_usable_checkpoint_the_page_says_how_to_get_a_second(folder):
    shutil.copy(SHIPPED / "digits-2d.pt", folder)
    (folder / "broken.pt").write_bytes(b"not a checkpoint")
    at = side_by_side()
    assert "needs two usable checkpoints" in at.info[0].value and "Train page" in at.info[0].value
    assert not at.get("selectbox")[1:] and not at.get("image")


def test_only_a_conditional_model_is_said_to_decode_under_a_label(folder, digits):
    shutil.copy(SHIPPED / "digits-2d.pt", folder)
    torch.manual_seed(1)
    model = VAE(VAEConfig(image_shape=digits.image_shape, latent_dim=2, hidden=(32,), num_classes=10))
    config = TrainConfig(epochs=1, seed=1)
    save_run(folder / "cond-2d.pt", model, digits, config, list(train(model, digits, config)))
    at = side_by_side()
    at.selectbox(key="sbs_b").set_value("cond-2d").run()
    assert not at.exception
    captions = [c for c in images(at) if "prior samples" in c]
    (a_caption,) = [c for c in captions if "through A" in c]
    (b_caption,) = [c for c in captions if "through B" in c]
    assert "under the label" not in a_caption and "decoded under the label" in b_caption
