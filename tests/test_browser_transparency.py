"""Real browser: a zip of RGBA icons, whose transparent pixels hide a bright colour, is previewed and trained on the
background chosen in the preview, and what the trained model decodes shows that background, not the hidden colour."""

import io
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from browser import ARTIFACTS, SERVER_WAIT_MS, chromium_page, fill_input, streamlit_server, wait_for_app_idle
from conftest import ROOT
from test_browser_explore import wait_for_image
from test_browser_hostile import choose_upload
from test_transparency import icon, png

pytestmark = pytest.mark.browser

PREVIEW = '[data-testid="stImage"]:has-text("a sample of the upload") img'
SAMPLES = '[data-testid="stImage"]:has-text(" samples · T = ") img'  # Generate's samples from the prior


def icons_zip() -> bytes:
    """48 RGBA icons in two classes: an opaque dark square on transparent pixels that hide magenta."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for cls in ("a", "b"):
            for i in range(24):
                z.writestr(f"icons/{cls}/{i}.png", png(icon()))
    return out.getvalue()


def colour_of(page, selector: str) -> np.ndarray:
    """The median colour (R, G, B) of the first element the selector finds, as the page shows it."""
    element = page.locator(selector).first
    element.wait_for(timeout=SERVER_WAIT_MS)
    shot = Image.open(io.BytesIO(element.screenshot())).convert("RGB")
    return np.median(np.asarray(shot).reshape(-1, 3), axis=0)


def test_transparent_icons_are_previewed_trained_and_decoded_on_the_background_chosen(tmp_path):
    shutil.copytree(ROOT / "checkpoints", tmp_path / "checkpoints")
    env = {"VAE_EXPLORER_CHECKPOINTS": str(tmp_path / "checkpoints"), "VAE_EXPLORER_CACHE": str(tmp_path / "cache")}
    with streamlit_server(env=env) as url, chromium_page(height=1100) as page:
        choose_upload(page, url, icons_zip(), "icons.zip", count="48 images")
        page.get_by_text("48 of 48 images have transparent pixels").wait_for(timeout=SERVER_WAIT_MS)
        white = colour_of(page, PREVIEW)
        assert white.min() > 200  # the preview composites on white by default: no magenta shows through
        before = page.locator(PREVIEW).first.get_attribute("src")
        page.locator("[data-testid=stRadio]").get_by_text("black", exact=True).click()
        page.wait_for_function(  # the preview redrawn: another image, loaded
            """before => [...document.querySelectorAll('[data-testid="stImage"]')]
              .filter(el => el.innerText.includes('a sample of the upload')).map(el => el.querySelector('img'))
              .some(img => img && img.src !== before && img.complete && img.naturalWidth > 0)""",
            arg=before,
            timeout=SERVER_WAIT_MS,
        )
        wait_for_app_idle(page)
        black = colour_of(page, PREVIEW)
        assert black.max() < 60, black
        assert page.get_by_label("Image size (pixels)").input_value() == "16"  # the icons' own size
        fill_input(page, "Epochs", "150")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("Status: finished").wait_for(timeout=180_000)
        fill_input(page, "Checkpoint name", "icons-on-black")
        page.get_by_role("button", name="Save checkpoint").click()
        page.get_by_text("It is selected in the sidebar").wait_for(timeout=SERVER_WAIT_MS)

        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Generate", exact=True).click()
        wait_for_image(page, " samples · T = ")
        samples = colour_of(page, SAMPLES)  # samples from the prior, decoded: on black, as trained
        page.screenshot(path=str(ARTIFACTS / "transparency-generate.png"), full_page=True)
        assert samples.max() < 60, samples  # neither white nor the magenta hidden under the transparency
