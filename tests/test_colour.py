"""Colour images end to end: a folder (or zip) of RGB images through the CLI, the Train page, Explore,
Generate (your own image included) and the PNG export, at 32x32 and 64x64, on a small set made here."""

import base64
import io
import json
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown
from test_app_explore import click_on
from test_app_train import current_run_id
from vae_core import VAE, TrainConfig, VAEConfig, load_checkpoint, load_dataset, save_run, train
from vae_core.analysis.latent import encode_means
from vae_core.maps.projection import Projection

APP = str(ROOT / "app.py")


def colour_image(rng, side: int, cls: str) -> np.ndarray:
    """A red disc or a blue square on a light, noisy background: tells the two classes apart by colour."""
    img = (200 + rng.integers(0, 40, (side, side, 3))).astype(np.uint8)
    yy, xx = np.mgrid[:side, :side]
    cy, cx, r = rng.integers(side // 3, 2 * side // 3, 2).tolist() + [side // 4]
    inside = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r) if cls == "discs" else (abs(yy - cy) < r) & (abs(xx - cx) < r)
    img[inside] = (220, 30, 30) if cls == "discs" else (30, 30, 220)
    return img


def make_colour_folder(folder, side: int, per_class: int = 20):
    rng = np.random.default_rng(side)
    for cls in ("discs", "squares"):
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(colour_image(rng, side, cls)).save(folder / cls / f"{i}.png")
    return folder


def png_of(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def decoded_pixels(data_url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


@pytest.mark.parametrize("side", [32, 64])
def test_the_cli_trains_and_evaluates_a_colour_folder(tmp_path, side):
    folder = make_colour_folder(tmp_path / "shapes", side)
    out = tmp_path / "m.pt"
    cli = [sys.executable, "-m", "vae_core"]
    subprocess.run(
        [
            *cli,
            "train",
            "--data",
            str(folder),
            "--arch",
            "conv",
            "--epochs",
            "2",
            "--latent-dim",
            "4",
            "--likelihood",
            "continuous-bernoulli",
            "--quiet",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    result = json.loads(
        subprocess.run(
            [*cli, "eval", str(out), "--json"], cwd=ROOT, check=True, capture_output=True, text=True, timeout=300
        ).stdout
    )
    assert result["likelihood"] == "continuous-bernoulli" and result["n_test"] == 8
    assert result["bits_per_dim"] == pytest.approx(result["test_loss"] / (3 * side * side * np.log(2)))
    model, meta = load_checkpoint(out)
    assert model.config.image_shape == (3, side, side) and meta.data_options.name == str(folder)


@pytest.fixture(params=[32, 64])
def colour_checkpoint(tmp_path, monkeypatch, request):
    """A 3-D conv model, trained briefly on 32x32 or 64x64 colour shapes, saved as an ordinary checkpoint."""
    data = load_dataset(str(make_colour_folder(tmp_path / "shapes", request.param)))
    model = VAE(VAEConfig(image_shape=data.image_shape, latent_dim=3, arch="conv", likelihood="gaussian"))
    config = TrainConfig(epochs=3)
    history = [e for e in train(model, data, config) if e["type"] == "epoch"]
    folder = tmp_path / "checkpoints"
    save_run(folder / "shapes.pt", model, data, config, history)
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(folder))
    return folder / "shapes.pt", data


def test_explore_and_generate_show_colour_images(colour_checkpoint):
    path, data = colour_checkpoint
    model, _ = load_checkpoint(path)
    mu, _ = encode_means(model, data.test_x)
    xy = Projection(mu).transform(mu)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = "shapes"
    click_on(at, "shapes", *xy[2])
    at.run()
    assert not at.exception and "Test image #2" in " ".join(m.value for m in at.markdown)
    assert f"· {data.test_names[2]} ·" in " ".join(shown(m.value) for m in at.markdown)  # named by its file
    assert data.test_names[2].split("/")[0] in ("discs", "squares")
    pictures = {img.caption: decoded_pixels(img.url) for el in at.get("image") for img in el.proto.imgs}
    original = pictures["original"]
    assert original.shape[2] == 3 and np.ptp(original.reshape(-1, 3).mean(0)) > 5  # channels differ: colour
    assert pictures["decoded mean"].shape == original.shape

    at.switch_page("pages/generate.py").run()
    assert not at.exception
    rng = np.random.default_rng(0)
    at.file_uploader(key="gen_upload").upload("disc.png", png_of(colour_image(rng, 300, "discs")), "image/png").run()
    assert not at.exception and len(at.metric) == 4
    seen = next(img.url for el in at.get("image") for img in el.proto.imgs if img.caption == "as the model sees it")
    pixels = decoded_pixels(seen).reshape(-1, 3).astype(float)
    assert (pixels[:, 0] - pixels[:, 2]).max() > 100  # the red disc stayed red through the conversion


def test_a_colour_grid_exports_as_an_rgb_png(colour_checkpoint):
    from ui.export import png_bytes
    from vae_core.analysis.latent import sample_prior

    model, _ = load_checkpoint(colour_checkpoint[0])
    side = model.config.image_shape[-1]
    image = Image.open(io.BytesIO(png_bytes(sample_prior(model, 4), nrow=2)))
    assert image.mode == "RGB" and image.size == (2 * side + 3 * 2, 2 * side + 3 * 2)


def test_the_train_page_trains_on_a_zip_of_colour_images(tmp_path, monkeypatch):
    folder = make_colour_folder(tmp_path / "shapes", 32, per_class=10)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for png in folder.rglob("*.png"):
            archive.write(png, png.relative_to(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(tmp_path / "data"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    at.file_uploader(key="train_zip").upload("shapes.zip", buffer.getvalue(), "application/zip").run()
    preview = " ".join(c.value for c in at.caption)  # what the zip holds, before training on it
    assert "20 images" in preview and "discs 10, squares 10" in preview and "32×32 (20)" in preview and "colour" in preview
    assert any(img.caption == "a sample of the upload" for el in at.get("image") for img in el.proto.imgs)
    at.number_input(key="train_test_share").set_value(0.3)
    at.number_input(key="train_image_size").set_value(32)
    at.radio(key="train_arch").set_value("conv")
    at.selectbox(key="train_likelihood").set_value("continuous-bernoulli")
    at.number_input(key="train_epochs").set_value(2)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.main.error, [e.value for e in at.main.error]
    deadline = time.monotonic() + 60
    while not any("Status: **finished**" in m.value for m in at.markdown):
        assert time.monotonic() < deadline
        time.sleep(0.3)
        at.run()
    run_caption = next(shown(c.value) for c in at.caption if "continuous-bernoulli likelihood" in c.value)
    assert "shapes.zip (uploaded)" in run_caption and "/uploads/" not in run_caption  # no server paths
    assert "(14 train / 6 test images)" in run_caption  # the chosen test share
    run_id = current_run_id(at)
    at.button(key=f"save_{run_id}").click().run()
    (saved,) = (tmp_path / "checkpoints").glob("*.pt")
    model, meta = load_checkpoint(saved)
    assert model.config.image_shape == (3, 32, 32) and model.config.likelihood == "continuous-bernoulli"
