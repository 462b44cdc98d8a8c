"""Real browser: data with known factors. The sprites map coloured by a factor, the traversal rows that name
each dimension's factor, and disentanglement against β on Compare."""

import pytest

from browser import ARTIFACTS, chromium_page, select_checkpoint, streamlit_server, wait_for_app_idle
from test_app_factors import sprites_checkpoints

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = sprites_checkpoints(tmp_path_factory.mktemp("checkpoints"))
    with streamlit_server({"VAE_EXPLORER_CHECKPOINTS": str(folder)}) as url:
        yield url


def choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app_idle(page)


def test_factor_colouring_named_traversals_and_disentanglement_against_beta_in_chromium(server):
    with chromium_page(height=1200) as page:
        page.goto(server)
        page.get_by_text("digits-2d: mlp VAE").wait_for(timeout=60_000)
        select_checkpoint(page, "sprites")
        page.get_by_text("sprites: conv VAE").wait_for()
        choose(page, "Colour by", "orientation")
        title = page.locator(".js-plotly-plot .colorbar .cbtitle")
        title.wait_for()
        assert title.text_content() == "orientation"  # an SVG node
        page.screenshot(path=str(ARTIFACTS / "factors-explore-orientation.png"))
        choose(page, "Colour by", "shape")
        for shape in ("square", "ellipse", "heart"):
            page.locator(".js-plotly-plot .legendtext", has_text=shape).first.wait_for()

        page.get_by_role("link", name="Generate").click()
        page.get_by_role("tab", name="Traversal").click()
        page.get_by_text("columns from −3 to 3").wait_for()
        rows = page.locator("[data-testid=stMarkdownContainer]", has_text="KL").filter(has_text="z")
        texts = rows.all_inner_texts()
        assert len(texts) == 4 and all(
            any(f in t for f in ("shape", "scale", "orientation", "pos_x", "pos_y", "no one factor")) for t in texts
        )
        page.screenshot(path=str(ARTIFACTS / "factors-generate-traversal.png"), full_page=True)

        page.get_by_role("link", name="Compare").click()
        choose(page, "Dataset and likelihood", "sprites · bernoulli · 16×16 · bounds −log p(x)")
        page.get_by_text("β (log scale)").wait_for()
        for name in ("MIG", "DCI disentanglement", "DCI completeness"):
            page.locator(".js-plotly-plot .legendtext", has_text=name).first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "factors-compare.png"), full_page=True)
