"""Real browser: Generate's interpolation and traversal are decoded in the page by the decoder Explore uses
(onnxruntime-web), and the page's images of a slider position are the server's decodes of the same codes, to 1e-4,
before and after a slider moves. Without the runtime's files the server draws them, and one caption says so.

The runtime's files must be in static/onnxruntime-web (tools/fetch_onnxruntime_web.py; `make test` fetches them)."""

import numpy as np
import pytest

from browser import SERVER_WAIT_MS, chromium_page, streamlit_server, wait_for_app_idle
from conftest import ROOT
from test_browser_explore import wait_for_image
from ui.explore.browser_decode import runtime_problem
from vae_core import load_checkpoint
from vae_core.analysis.latent import decode_points

pytestmark = pytest.mark.browser

GRIDS = "canvas[data-vae-decoded]:visible"  # Playwright's selector: the open tab's grids
# the same in the page: the tags of the grids drawn in the open tab
TAGS = "[...document.querySelectorAll('canvas[data-vae-decoded]')].filter(c => c.checkVisibility())"
TAGS += ".map(c => c.getAttribute('data-vae-decoded'))"


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_for_app_idle(page)


def shown_tags(page) -> list[str]:
    return page.evaluate(f"() => {TAGS}")


def agree_with_server(page, model, tag: str) -> int:
    """Compare the page's floats of one drawn grid with the server's decode of its codes; the number of images."""
    grid = page.evaluate("tag => window.__vaeGrids[tag]", tag)
    codes = np.array(grid["codes"], np.float32).reshape(-1, model.config.latent_dim)
    server = decode_points(model, codes, "mean").reshape(len(codes), -1).numpy()
    page_images = np.array(grid["images"], np.float32).reshape(len(codes), -1)
    assert np.abs(server - page_images).max() < 1e-4
    return len(codes)


def move_slider(page, label: str, key: str, presses: int) -> None:
    slider = page.locator('[data-testid="stSlider"]:visible', has_text=label).get_by_role("slider")
    slider.focus()
    for _ in range(presses):
        page.keyboard.press(key)
    wait_for_app_idle(page)


def wait_for_new_grids(page, sizes: list[int], latent_dim: int, old: list[str]) -> list[str]:
    """Until the open tab shows grids of these numbers of images, none of them one of `old`; their tags.

    Presses of a key can reach the server in more than one run of the page (under load, one per press), so a
    grid that is merely new may still be of an earlier slider position: the number of images tells the last."""
    page.wait_for_function(
        f"""([sizes, dim, old]) => {{
            const tags = {TAGS};
            return tags.length === sizes.length && tags.every((tag, i) => !old.includes(tag)
                && window.__vaeGrids[tag] && window.__vaeGrids[tag].codes.length === sizes[i] * dim);
        }}""",
        arg=[sizes, latent_dim, old],
        timeout=SERVER_WAIT_MS,
    )
    return shown_tags(page)


@pytest.mark.skipif(runtime_problem() is not None, reason="onnxruntime-web's files are not fetched")
def test_interpolation_and_traversal_decode_in_the_page_as_the_server_does():
    model, _ = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    with streamlit_server() as url, chromium_page(height=1200) as page:
        page.goto(f"{url}/generate")
        page.get_by_text("digits-2d: mlp VAE").wait_for(timeout=60_000)
        wait_for_app_idle(page)

        open_tab(page, "Interpolation")
        page.wait_for_selector(GRIDS, timeout=SERVER_WAIT_MS)
        assert page.get_by_text("Top row: linear. Bottom row: spherical (slerp).").count() == 1
        [first] = shown_tags(page)
        assert agree_with_server(page, model, first) == 2 * 10  # two paths of 10 steps
        move_slider(page, "Steps", "ArrowRight", 3)
        [moved] = wait_for_new_grids(page, [2 * 13], model.config.latent_dim, old=[first])
        assert agree_with_server(page, model, moved) == 2 * 13

        open_tab(page, "Traversal")
        page.wait_for_function(f"() => {TAGS}.length === 2", timeout=SERVER_WAIT_MS)
        before = shown_tags(page)
        assert [agree_with_server(page, model, tag) for tag in before] == [9, 9]  # z1 and z2, 9 steps each
        move_slider(page, "Range r", "ArrowLeft", 2)
        moved = wait_for_new_grids(page, [9, 9], model.config.latent_dim, old=before)
        assert [agree_with_server(page, model, tag) for tag in moved] == [9, 9]
        assert page.get_by_text("decode on the server").count() == 0


def test_without_the_runtime_the_server_draws_them_and_says_so_once(tmp_path):
    with streamlit_server(env={"VAE_EXPLORER_ORT_DIR": str(tmp_path)}) as url, chromium_page(height=1200) as page:
        page.goto(f"{url}/generate")
        page.get_by_text("digits-2d: mlp VAE").wait_for(timeout=60_000)
        page.get_by_text("Interpolation and traversals decode on the server").wait_for(timeout=SERVER_WAIT_MS)
        assert page.get_by_text("decode on the server").count() == 1
        assert page.locator('[data-testid="stSidebar"]').get_by_text("decode on the server").count() == 1
        open_tab(page, "Interpolation")
        wait_for_image(page, "Top row: linear. Bottom row: spherical (slerp).")
        assert page.locator("canvas[data-vae-decoded]").count() == 0
