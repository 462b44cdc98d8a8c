"""Images with transparency read on one background, the same everywhere: a folder or zip in training (through the
cache), the upload's preview, Generate's own image and the CLI, with the choice kept in the checkpoint."""

import base64
import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from vae_core import DatasetError, load_checkpoint
from vae_core.config import DataOptions, InputError
from vae_core.data.datasets import decode_for_preview, describe_folder, image_to_tensor, load_data

APP = str(ROOT / "app.py")
HIDDEN = (255, 0, 255)  # the bright colour an icon keeps under its transparent pixels


def icon(side: int = 16) -> np.ndarray:
    """An RGBA icon: a dark opaque square in the middle, transparent elsewhere with a bright colour hidden there."""
    rgba = np.zeros((side, side, 4), np.uint8)
    rgba[..., :3] = HIDDEN
    rgba[side // 4 : 3 * side // 4, side // 4 : 3 * side // 4] = (40, 40, 40, 255)
    return rgba


def png(array: np.ndarray, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, format="PNG")
    return out.getvalue()


def palette_icon(side: int = 16) -> bytes:
    """The same icon as a palette PNG whose index 0 is transparent (and magenta)."""
    im = Image.new("P", (side, side), 0)
    im.putpalette([*HIDDEN, 40, 40, 40] + [0] * 762)
    im.paste(1, (side // 4, side // 4, 3 * side // 4, 3 * side // 4))
    out = io.BytesIO()
    im.save(out, format="PNG", transparency=0)
    return out.getvalue()


@pytest.fixture
def icons(tmp_path, monkeypatch):
    """A folder of 8 RGBA and 8 palette icons in two classes; the cache in this test's folder."""
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "icons"
    for cls, data in (("rgba", png(icon())), ("palette", palette_icon())):
        (folder / cls).mkdir(parents=True)
        for i in range(8):
            (folder / cls / f"{i}.png").write_bytes(data)
    return folder


@pytest.mark.parametrize("background, level", [("white", 255), ("black", 0)])
def test_a_folder_composites_transparent_pixels_on_its_background_never_the_hidden_colour(icons, background, level):
    for _ in range(2):  # decoded, then read from the cache: the same pixels
        data = load_data(DataOptions(str(icons), channels="rgb", test_fraction=0.25, background=background))
        images = torch.cat([data.train_x, data.test_x])
        corners = images[:, :, 0, 0]  # transparent in every icon
        assert (corners == level).all(), corners.unique()
        assert (images[:, :, 8, 8] == 40).all()  # the opaque square as it is
        assert data.options.background == background


def test_the_preview_shows_what_training_reads_and_counts_the_transparent_images(icons):
    summary = describe_folder(icons)
    assert summary.transparent == 16 and summary.n_images == 16
    for background, level in (("white", 1.0), ("black", 0.0)):
        preview = decode_for_preview(summary.samples, size=16, background=background)
        assert torch.allclose(preview[:, :, 0, 0], torch.full_like(preview[:, :, 0, 0], level))


@pytest.mark.parametrize("background", ["white", "black"])
def test_your_own_image_is_composited_on_the_models_background(background):
    level = 1.0 if background == "white" else 0.0
    for data in (png(icon(64)), palette_icon(64)):
        x = image_to_tensor(data, (3, 16, 16), background=background)
        assert torch.allclose(x[:, 0, 0], torch.full((3,), level)), x[:, 0, 0]  # a corner: the background, not magenta


def test_only_white_or_black_is_a_background():
    with pytest.raises(InputError, match="background must be one of white, black"):
        DataOptions("x", background="magenta")


def test_the_cli_keeps_the_background_in_the_checkpoint(icons, tmp_path):
    out = tmp_path / "icons.pt"
    args = ["train", "--data", str(icons), "--background", "black", "--epochs", "1", "--out", str(out), "--quiet"]
    proc = subprocess.run([sys.executable, "-m", "vae_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    _, meta = load_checkpoint(out)
    assert meta.data_options.background == "black"
    proc = subprocess.run(
        [sys.executable, "-m", "vae_core", "train", "--background", "grey"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "invalid choice: 'grey'" in proc.stderr


def preview_pixels(at) -> np.ndarray:
    (url,) = [img.url for el in at.get("image") for img in el.proto.imgs if img.caption == "a sample of the upload"]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def test_the_train_page_offers_the_background_previews_it_and_proposes_the_images_size(icons, tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in icons.rglob("*.png"):
            archive.write(path, path.relative_to(icons.parent))
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(tmp_path / "data"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    at.file_uploader(key="train_zip").upload("icons.zip", buffer.getvalue(), "application/zip").run()
    assert not at.exception
    choice = at.radio(key="train_background")
    assert choice.label.startswith("16 of 16 images have transparent pixels") and choice.value == "white"
    assert at.number_input(key="train_image_size").value == 16  # the icons' own side, not 28
    assert not [c for c in at.caption if "mid-tones" in c.value]  # flat icons: the likelihood needs no word
    white = preview_pixels(at)
    choice.set_value("black").run()
    black = preview_pixels(at)
    magenta = np.array(HIDDEN)
    assert not (white == magenta).all(axis=-1).any() and not (black == magenta).all(axis=-1).any()
    assert white.mean() > black.mean() + 50  # the transparent areas turned from white to black


def test_a_file_that_is_not_an_image_is_still_refused_with_a_background():
    with pytest.raises(DatasetError, match="not an image"):
        image_to_tensor(b"not an image", (3, 8, 8), background="black")
