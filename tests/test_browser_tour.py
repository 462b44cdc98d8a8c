"""Real browser: a tour across every page keeps what each page was left with: the Train page its uploaded zip,
its form and its run; Explore its map type, its clicked point and its address."""

import re
import shutil

import pytest

from browser import ARTIFACTS, SERVER_WAIT_MS, chromium_page, fill_input, select_checkpoint, streamlit_server, wait_for_app_idle
from conftest import ROOT
from test_browser_explore import POINTS, click_map, point_centers
from test_browser_hostile import choose_upload
from test_hostile_inputs import zip_of_images

pytestmark = pytest.mark.browser

ACTIVE_MAP_TYPE = '[role="radiogroup"][aria-label="Map"] [role="radio"][aria-checked="true"]'


def go_to(page, title: str) -> None:
    """Open a page through the app's own navigation, as a person does (a new address would be a new session)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    # the server has opened the page (its link is marked once the server says so): until then the old page looks
    # idle. A link's text is its icon's name, then its title.
    page.wait_for_function(
        """title => [...document.querySelectorAll('[data-testid="stSidebarNav"] a[aria-current="page"]')]
        .some(a => a.innerText.trim().split(/\\s*\\n\\s*/).pop() === title)""",
        arg=title,
        timeout=60_000,
    )
    wait_for_app_idle(page, timeout=60_000)


def test_a_tour_across_every_page_loses_neither_the_upload_nor_the_run_nor_the_map_type(tmp_path):
    shutil.copytree(ROOT / "checkpoints", tmp_path / "checkpoints")
    env = {
        "VAE_EXPLORER_CHECKPOINTS": str(tmp_path / "checkpoints"),
        "VAE_EXPLORER_DATA": str(tmp_path / "data"),
        "VAE_EXPLORER_CACHE": str(tmp_path / "cache"),
    }
    with streamlit_server(env=env) as url, chromium_page(height=1100) as page:
        choose_upload(page, url, zip_of_images(0), "characters.zip")
        fill_input(page, "Epochs", "2")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("Status: finished").wait_for(timeout=90_000)
        run_id = re.search(r"run=([\w-]+)", page.url).group(1)

        go_to(page, "Explore")
        select_checkpoint(page, "digits-16d")
        page.get_by_role("radio", name="t-SNE").click()
        page.wait_for_function(
            "() => (document.querySelector('.js-plotly-plot .xtitle') || {}).textContent === 't-SNE 1'", timeout=120_000
        )
        page.wait_for_url(re.compile(r".*proj=tsne.*"), timeout=SERVER_WAIT_MS)
        page.wait_for_selector(POINTS, timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        click_map(page, *point_centers(page)[7], "Test image #")
        page.wait_for_url(re.compile(r".*proj=tsne&point=\d+$"), timeout=SERVER_WAIT_MS)
        shown = page.url[page.url.index("?") :]

        for title in ("Generate", "Compare", "Side by side", "Explore"):
            go_to(page, title)
        page.get_by_text("Test image #").wait_for(timeout=60_000)
        assert page.locator(ACTIVE_MAP_TYPE).inner_text() == "t-SNE"
        assert page.url.endswith(shown) and page.locator(".js-plotly-plot .xtitle").text_content() == "t-SNE 1"
        # a click on the map type already chosen leaves it chosen
        page.locator(ACTIVE_MAP_TYPE).click()
        wait_for_app_idle(page)
        assert page.locator(ACTIVE_MAP_TYPE).inner_text() == "t-SNE" and page.url.endswith(shown)

        go_to(page, "Train")
        page.get_by_text(f"Run {run_id}").wait_for(timeout=SERVER_WAIT_MS)  # the run, reopened
        page.get_by_text("Status: finished").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        assert page.get_by_role("combobox", name="Dataset").input_value() == "a zip of images (upload)"
        kept = page.get_by_text("uploaded earlier in this session")  # the upload, still chosen
        kept.wait_for(timeout=SERVER_WAIT_MS)
        assert "characters.zip" in kept.inner_text()
        assert page.get_by_text("12 images").count() == 1
        assert page.get_by_label("Epochs").input_value() == "2"  # and the form as it was left
        page.screenshot(path=str(ARTIFACTS / "tour-train-again.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
