"""Real browser: names that come from files (a checkpoint's file name, its class names, its dataset's name) are
shown as plain text on every page, so none of them can make the browser fetch another host or draw a live link."""

import io
import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from browser import (
    ARTIFACTS,
    chromium_page,
    requests_elsewhere,
    streamlit_server,
    wait_for_app_idle,
    wait_for_first_run,
)
from conftest import ROOT
from ui.text import WORD_JOINER

pytestmark = pytest.mark.browser
SHIPPED = ROOT / "checkpoints" / "digits-2d.pt"
FILE_NAME = "![n](https:evil.example) [l](https:evil.example)"  # a file name cannot hold "/", a URL needs none
CLASS_NAMES = ["![c0](https:evil.example)", "[c1](https:evil.example)", "<b>c2", "<img src=x onerror=alert(1)>"]
PAGES = {
    "": "Explore the latent space",
    "generate": "Generate",
    "side_by_side": "Two models side by side",
    "train": "Train a VAE",
    "compare": "Compare runs",
}  # each page's title


def hostile_folder(tmp_path):
    """The shipped 2-D digits model twice: as it is, and under a hostile file name, reading a folder of 8x8 images
    (inside the checkpoints folder, where the app reads images) whose class folders have hostile names."""
    folder = tmp_path / "checkpoints"
    images = folder / "![d](https:evil.example)"
    rng = np.random.default_rng(0)
    for name in CLASS_NAMES:
        (images / name).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(images / name / f"{i}.png")
    shutil.copy2(SHIPPED, folder / "plain.pt")  # a second model: Side by side and Compare need two
    payload = torch.load(SHIPPED, weights_only=True)
    options = dict(payload["data_options"], name=str(images), image_size=8, channels="grayscale", test_fraction=0.5)
    payload.update(class_names=CLASS_NAMES, dataset=str(images), data_options=options)
    torch.save(payload, folder / f"{FILE_NAME}.pt")
    return folder


def test_names_from_files_are_plain_text_and_no_page_requests_another_host(tmp_path):
    folder = hostile_folder(tmp_path)
    env = {"VAE_EXPLORER_CHECKPOINTS": str(folder), "VAE_EXPLORER_DATA": str(tmp_path / "data")}
    with streamlit_server(env=env) as url, chromium_page() as page:
        elsewhere = requests_elsewhere(page, url)
        page.goto(url)
        page.get_by_role("combobox", name="Checkpoint").click()
        page.get_by_role("option", name=FILE_NAME, exact=False).first.click()  # the hostile model on every page
        page.locator(".js-plotly-plot").first.wait_for()
        page.locator(".legend").first.wait_for()
        wait_for_app_idle(page)
        legend = page.locator(".legend").first.text_content()
        assert all(name in legend for name in CLASS_NAMES), legend  # literally, tags and all
        for name, title in PAGES.items():
            if name:
                page.goto(f"{url}/{name}")
            page.get_by_role("heading", name=title).first.wait_for()
            page.get_by_text("evil.example", exact=False).first.wait_for()  # the hostile model is on the page
            wait_for_first_run(page)
            page.screenshot(path=str(ARTIFACTS / f"names-{name or 'explore'}.png"), full_page=True)
            assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0, name
            assert page.locator('[data-testid="stMain"] b, .legend a').count() == 0, name
            assert page.locator('[data-testid="stException"]').count() == 0, name
            assert elsewhere == [], name
        assert elsewhere == []


def zip_with_names(corrupt: bool = False) -> bytes:
    """12 images in two classes with hostile folder names; with corrupt, one member is not an image at all."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label in CLASS_NAMES[:2]:
            for i in range(6):
                png = io.BytesIO()
                Image.fromarray(np.full((8, 8), 30 * i, np.uint8)).save(png, format="PNG")
                archive.writestr(f"{label}/{i}.png", png.getvalue())
        if corrupt:
            archive.writestr(f"{CLASS_NAMES[0]}/![e](https:evil.example).png", b"not a png")
    return buffer.getvalue()


def test_an_uploads_names_are_plain_text_in_its_preview_and_its_errors(tmp_path):
    env = {"VAE_EXPLORER_CHECKPOINTS": str(hostile_folder(tmp_path)), "VAE_EXPLORER_DATA": str(tmp_path / "data")}
    with streamlit_server(env=env) as url, chromium_page() as page:
        elsewhere = requests_elsewhere(page, url)
        page.goto(f"{url}/train")
        page.get_by_role("combobox", name="Dataset").click()
        page.get_by_role("option", name="a zip of images (upload)").click()
        uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        uploader.set_input_files(
            files=[{"name": f"{FILE_NAME}.zip", "mimeType": "application/zip", "buffer": zip_with_names()}]
        )
        page.get_by_text("12 images").wait_for()
        wait_for_app_idle(page)
        captions = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
        assert any(CLASS_NAMES[0] in text.replace(WORD_JOINER, "") for text in captions), captions  # as it is
        assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
        uploader.set_input_files(files=[{"name": "bad.zip", "mimeType": "application/zip", "buffer": zip_with_names(True)}])
        page.locator('[data-testid="stAlertContentError"]').first.wait_for()
        wait_for_app_idle(page)
        page.screenshot(path=str(ARTIFACTS / "names-upload.png"), full_page=True)
        error = page.locator('[data-testid="stAlertContentError"]').first.inner_text()
        assert "evil.example" in error and str(tmp_path) not in error  # the member named as text; no server path
        assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
        assert elsewhere == []
