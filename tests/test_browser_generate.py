"""Real browser: the Generate page's four sections on both shipped models, downloads included."""

import csv
import io

import pytest
from PIL import Image

from browser import (
    ARTIFACTS,
    SERVER_WAIT_MS,
    chromium_page,
    select_checkpoint,
    server_log,
    streamlit_server,
    wait_for_app_idle,
    wait_for_map_clicks,
)
from test_app_generate import drawn_seven
from test_browser_explore import POINTS, emptiest_spot, point_centers, wait_for_image

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_for_app_idle(page)


def download(page, label: str, nth: int = 0):
    with page.expect_download(timeout=SERVER_WAIT_MS) as info:
        page.get_by_role("button", name=label).nth(nth).click()
    return info.value.path().read_bytes()


@pytest.mark.parametrize("name", ["digits-2d", "digits-16d"])
def test_all_sections_work_in_chromium(server, name, tmp_path):
    with chromium_page(height=1200) as page:
        page.goto(f"{server}/generate")
        wait_for_image(page, "64 samples · T = 1 · seed 0")
        select_checkpoint(page, name)
        page.get_by_text(f"{name}: mlp VAE").wait_for()

        page.get_by_role("button", name="New samples").click()
        wait_for_image(page, "64 samples · T = 1 · seed 1")
        grid = Image.open(io.BytesIO(download(page, "Grid as PNG")))
        assert grid.format == "PNG" and grid.size == (8 * 10 + 2, 8 * 10 + 2)  # make_grid of 8x8 images, padding 2
        rows = list(csv.reader(io.StringIO(download(page, "Latent points as CSV").decode())))
        latent_dim = 2 if name == "digits-2d" else 16
        assert rows[0] == ["sample"] + [f"z{d + 1}" for d in range(latent_dim)] and len(rows) == 65
        page.screenshot(path=str(ARTIFACTS / f"generate-prior-{name}.png"))

        open_tab(page, "Interpolation")
        page.get_by_text("Top row: linear. Bottom row: spherical (slerp).").wait_for()  # the page's or the server's
        page.locator('canvas[data-vae-decoded]:visible, [data-testid="stImage"]:visible img').first.wait_for()
        for trace in ("linear", "slerp", "A, B"):
            page.locator(".js-plotly-plot .legendtext", has_text=trace).first.wait_for()
        page.screenshot(path=str(ARTIFACTS / f"generate-interpolation-{name}.png"))

        open_tab(page, "Traversal")
        page.get_by_text("columns from −3 to 3").wait_for()
        assert page.locator("strong", has_text="z1").count() >= 1
        page.screenshot(path=str(ARTIFACTS / f"generate-traversal-{name}.png"))

        open_tab(page, "Your own image")
        (tmp_path / "seven.png").write_bytes(drawn_seven())
        page.locator('input[type="file"]').set_input_files(str(tmp_path / "seven.png"))
        wait_for_image(page, "as the model sees it")
        page.get_by_text("−ELBO").wait_for()
        page.locator(".js-plotly-plot .legendtext", has_text="your image").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / f"generate-upload-{name}.png"), full_page=True)
        (tmp_path / "notes.png").write_text("not a picture at all")
        page.locator('input[type="file"]').set_input_files(str(tmp_path / "notes.png"))
        page.get_by_text("This file is not an image that can be read").wait_for(timeout=SERVER_WAIT_MS)


def test_points_clicked_on_explore_are_the_endpoints_on_generate(server):
    with chromium_page() as page:
        page.goto(server)
        page.wait_for_selector(POINTS, timeout=60_000)
        wait_for_app_idle(page)
        wait_for_map_clicks(page)
        page.mouse.click(*point_centers(page)[100])
        page.get_by_text("Test image #").wait_for(timeout=SERVER_WAIT_MS)
        for caption in ("original", "decoded mean"):  # loaded: the button below them stays where it is
            wait_for_image(page, caption)
        wait_for_app_idle(page)
        page.get_by_role("button", name="Use as A").click()
        page.get_by_text("is now A on the Generate page").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        wait_for_map_clicks(page)
        page.mouse.click(*emptiest_spot(page))
        page.get_by_text("Decoded at").wait_for(timeout=SERVER_WAIT_MS)
        page.get_by_role("button", name="Use as B").click()
        page.get_by_text("is now B on the Generate page").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        assert "not officially supported" not in server_log(server)  # a quiet terminal: no fragment warnings

        page.get_by_role("link", name="Generate").click()
        wait_for_app_idle(page)
        open_tab(page, "Interpolation")
        caption = page.get_by_text("From A (test image #")
        caption.wait_for(timeout=SERVER_WAIT_MS)
        assert "to B (map point (" in caption.inner_text()
        page.screenshot(path=str(ARTIFACTS / "generate-from-explore.png"))
