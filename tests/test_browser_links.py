"""Real browser: a shared link to a UMAP map opens on a fresh server, a free click is decoded, and the URL it
leaves brings the same view back on another fresh server."""

import re

import pytest

from browser import ARTIFACTS, SERVER_WAIT_MS, chromium_page, streamlit_server, wait_for_app_idle, wait_for_map_clicks
from test_browser_explore import emptiest_spot, wait_for_image

pytestmark = pytest.mark.browser


def decoded_at(page) -> str:
    return page.get_by_text(re.compile(r"^Decoded at")).first.inner_text()


def test_a_umap_link_restores_the_view_and_follows_clicks(tmp_path):
    with chromium_page() as page:
        with streamlit_server(env={"VAE_EXPLORER_CACHE": str(tmp_path)}) as url:  # no fitted map on disk yet
            page.goto(f"{url}/?model=digits-16d&proj=umap&point=5")
            page.get_by_text("Fitting UMAP on 359 points").wait_for(timeout=60_000)  # the fit shows its progress
            page.get_by_text("Test image #5").wait_for(timeout=120_000)
            wait_for_app_idle(page, timeout=60_000)
            assert page.locator(".js-plotly-plot .xtitle").text_content() == "UMAP 1"
            wait_for_map_clicks(page)
            page.mouse.click(*emptiest_spot(page))
            page.get_by_text(re.compile(r"^Decoded at")).wait_for(timeout=SERVER_WAIT_MS)
            wait_for_image(page, "decoded image")
            wait_for_app_idle(page)
            assert page.get_by_text("Round trip here").count() == 1
            # the URL follows the click
            page.wait_for_url(re.compile(r".*[?&]x=[-\d.e+]+&y=[-\d.e+]+$"), timeout=SERVER_WAIT_MS)
            shared, spot = page.url, decoded_at(page)
            page.screenshot(path=str(ARTIFACTS / "explore-umap-link.png"))
        assert re.search(r"model=digits-16d&proj=umap&x=[-\d.e+]+&y=[-\d.e+]+$", shared), shared
        with streamlit_server(env={"VAE_EXPLORER_CACHE": str(tmp_path)}) as url:  # fresh: only the URL carries the view
            page.goto(url + shared[shared.index("/?") :])
            page.get_by_text(re.compile(r"^Decoded at")).wait_for(timeout=120_000)
            wait_for_image(page, "decoded image")
            assert decoded_at(page) == spot
            assert page.url.endswith(shared[shared.index("/?") :])
