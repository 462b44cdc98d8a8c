"""Real browser: draw on Generate's canvas with the mouse, and see it scored and on the map; latent arithmetic."""

import pytest

from browser import ARTIFACTS, SERVER_WAIT_MS, chromium_page, streamlit_server, wait_for_app_idle
from test_browser_explore import wait_for_image
from test_browser_generate import open_tab

pytestmark = pytest.mark.browser

METRIC_VALUES = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(e => e.innerText)"""


def stroke(page, canvas: dict, points: list[tuple[float, float]]) -> None:
    """Press, move through `points` (fractions of the canvas) in small steps, release: one freehand stroke."""
    at = [(canvas["x"] + fx * canvas["width"], canvas["y"] + fy * canvas["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def terms_shown(page, other_than: list[str] | None = None, timeout: float = SERVER_WAIT_MS) -> list[str]:
    """The four ELBO terms once they are on the page (and differ from `other_than`)."""
    page.wait_for_function(
        f"""old => {{ const v = ({METRIC_VALUES})();
        return v.length === 4 && JSON.stringify(v) !== JSON.stringify(old); }}""",
        arg=other_than,
        timeout=timeout,
    )
    wait_for_app_idle(page)
    return page.evaluate(METRIC_VALUES)


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


def test_draw_a_digit_and_see_it_scored_and_on_the_map(server):
    url = server
    with chromium_page(1400, 1000) as page:
        page.goto(f"{url}/generate")
        wait_for_image(page, "64 samples · T = 1 · seed 0")
        open_tab(page, "Your own image")
        page.get_by_text("Draw one", exact=True).click()
        hint = page.get_by_text("Draw on the canvas")
        hint.wait_for(timeout=SERVER_WAIT_MS)
        upper = page.locator("canvas.upper-canvas")  # fabric's canvas that takes the mouse
        upper.wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        canvas = upper.bounding_box()
        assert canvas["width"] == canvas["height"] == 280

        stroke(page, canvas, [(0.5, 0.12), (0.52, 0.35), (0.5, 0.6), (0.48, 0.88)])  # a 1
        first = terms_shown(page)
        assert all(v.endswith("nats") for v in first)
        wait_for_image(page, "as the model sees it")
        page.locator(".js-plotly-plot .legendtext", has_text="your image").first.wait_for()
        assert page.locator(".js-plotly-plot .scatterlayer .trace .point").count() > 359  # the data and the mark
        assert hint.count() == 0

        stroke(page, canvas, [(0.2, 0.15), (0.5, 0.13), (0.8, 0.12)])  # a bar on top: a 7
        second = terms_shown(page, other_than=first)
        assert second != first
        page.locator(".js-plotly-plot .legendtext", has_text="your image").first.wait_for()
        # from the tabs down: canvas, map, reconstruction and terms in one view, the toolbar shown by the hover
        page.get_by_role("tab", name="Your own image").evaluate("e => e.scrollIntoView({block: 'start'})")
        canvas = upper.bounding_box()
        page.mouse.move(canvas["x"] + 0.9 * canvas["width"], canvas["y"] + 0.6 * canvas["height"])
        page.wait_for_timeout(600)
        page.screenshot(path=str(ARTIFACTS / "draw.png"))  # docs/draw.png is a copy of it
        page.get_by_text("Nearest test images in latent space").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "generate-draw-nearest.png"))


def test_latent_arithmetic_draws_its_row_and_path(server):
    with chromium_page(1400, 1000) as page:
        page.goto(f"{server}/generate")
        wait_for_image(page, "64 samples · T = 1 · seed 0")
        open_tab(page, "Latent arithmetic")
        wait_for_image(page, "test image #11 + s·v for s from 0 to 1")
        for trace in ("z + s·v", "start, end", "group means"):
            page.locator(".js-plotly-plot .legendtext", has_text=trace).first.wait_for()
        page.get_by_role("tab", name="Latent arithmetic").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(ARTIFACTS / "generate-arithmetic.png"))
