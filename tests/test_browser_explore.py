"""Real browser: `streamlit run app.py` on 127.0.0.1, Chromium driven by Playwright, clicks on the map."""

import pytest

from browser import ARTIFACTS, SERVER_WAIT_MS, chromium_page, streamlit_server, wait_for_app_idle, wait_for_map_clicks
from ui.figures import RING_RADIUS

pytestmark = pytest.mark.browser

POINTS = ".js-plotly-plot .scatterlayer .trace .point"


def point_centers(page) -> list[tuple[float, float]]:
    return page.eval_on_selector_all(
        POINTS,
        """els => els.map(e => {
        const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })""",
    )


def emptiest_spot(page) -> tuple[float, float]:
    """The spot inside the plot area (away from its edges) farthest from every drawn data point."""
    area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    centers = point_centers(page)
    # inset from the edges: plotly's corner handles (zoom drags) take the clicks there
    candidates = [
        (
            area["x"] + area["width"] * (0.08 + 0.84 * (i + 0.5) / 12),
            area["y"] + area["height"] * (0.08 + 0.84 * (j + 0.5) / 12),
        )
        for i in range(12)
        for j in range(12)
    ]
    return max(candidates, key=lambda c: min((c[0] - x) ** 2 + (c[1] - y) ** 2 for x, y in centers))


# the server's images, and the click's image that the page decodes itself where it can (ui/js/decoded.js)
LOADED_IMAGES = """caption => [...document.querySelectorAll('[data-testid="stImage"]')]
    .filter(el => el.innerText.includes(caption))
    .filter(el => { const img = el.querySelector('img'); return img && img.complete && img.naturalWidth > 0; })
    .length + [...document.querySelectorAll('figure[data-vae-figure]')]
    .filter(el => el.style.display !== 'none' && el.innerText.includes(caption) && el.querySelector('[data-vae-decoded]'))
    .length"""


def wait_for_image(page, caption: str) -> None:
    """Until exactly one image with this caption is displayed and decoded by the browser."""
    try:
        page.wait_for_function(f"caption => ({LOADED_IMAGES})(caption) === 1", arg=caption, timeout=SERVER_WAIT_MS)
    except Exception as err:
        page.screenshot(path=str(ARTIFACTS / "explore-failure.png"))
        shown = page.eval_on_selector_all('[data-testid="stImage"]', "els => els.map(e => e.innerText)")
        raise AssertionError(f"no single loaded image captioned {caption!r}; images shown: {shown}") from err


def click_map(page, x: float, y: float, shown: str) -> None:
    """Click the map once and wait for the panel's text: every click must register (ui.selection)."""
    wait_for_map_clicks(page)
    page.mouse.click(x, y)
    page.get_by_text(shown).wait_for(timeout=SERVER_WAIT_MS)


def test_click_a_point_and_empty_space_in_chromium():
    with streamlit_server() as url, chromium_page() as page:
        page.goto(url)
        page.wait_for_selector(POINTS, timeout=60_000)
        wait_for_app_idle(page)
        assert len(point_centers(page)) == 359

        x, y = point_centers(page)[100]
        click_map(page, x, y, "Test image #")
        wait_for_app_idle(page)
        for caption in ("original", "decoded mean"):
            wait_for_image(page, caption)
        page.screenshot(path=str(ARTIFACTS / "explore-point-click.png"))

        page.evaluate("() => { window.__map = document.querySelector('.js-plotly-plot'); }")
        x, y = emptiest_spot(page)
        click_map(page, x, y, "Decoded at")
        wait_for_app_idle(page)
        wait_for_image(page, "decoded image")
        # the page shows the point at once (ui/js/decoded.js); the server's panel of the dot goes with its run
        page.get_by_text("Test image #").wait_for(state="detached", timeout=SERVER_WAIT_MS)
        # a ring where the click landed, drawn onto the same chart: a click does not make a new plot
        ring = page.wait_for_function(
            """() => { const gd = document.querySelector('.js-plotly-plot');
            const ring = (gd.layout.shapes || []).find(s => s.name === 'selection' && s.type === 'circle');
            if (!ring) return null;
            const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return [box.x + xa.d2p((ring.x0 + ring.x1) / 2), box.y + ya.d2p((ring.y0 + ring.y1) / 2),
                    xa.d2p(ring.x1) - xa.d2p(ring.x0), gd === window.__map]; }""",
            timeout=SERVER_WAIT_MS,
        ).json_value()
        # centred where the click landed, RING_RADIUS pixels round, on the same chart
        assert abs(ring[0] - x) < 3 and abs(ring[1] - y) < 3 and abs(ring[2] - 2 * RING_RADIUS) < 1 and ring[3]
        page.screenshot(path=str(ARTIFACTS / "explore-free-click.png"))


def dark_share(page, box) -> float:
    """The share of near-black pixels inside a page region (x, y, width, height)."""
    import io

    import numpy as np
    from PIL import Image

    x, y, w, h = box
    shot = Image.open(io.BytesIO(page.screenshot(clip=dict(x=x, y=y, width=w, height=h)))).convert("L")
    return float((np.asarray(shot) < 60).mean())


def test_a_box_selection_after_a_click_shows_its_points_not_a_black_blob_in_chromium():
    with streamlit_server() as url, chromium_page() as page:
        page.goto(url)
        page.wait_for_selector(POINTS, timeout=60_000)
        wait_for_app_idle(page)
        click_map(page, *point_centers(page)[100], "Test image #")  # the first box after a click once found nothing
        wait_for_app_idle(page)
        page.locator('.modebar-btn[data-title="Box Select"]').first.click()
        area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
        x0, y0 = area["x"] + area["width"] * 0.3, area["y"] + area["height"] * 0.3
        x1, y1 = area["x"] + area["width"] * 0.6, area["y"] + area["height"] * 0.6
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move(x1, y1, steps=8)
        page.mouse.up()
        page.get_by_text("points selected").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        assert page.get_by_text("Test image #").count() == 0 and page.get_by_text("No data points inside").count() == 0
        inside = (x0 + 4, y0 + 4, x1 - x0 - 8, y1 - y0 - 8)
        page.screenshot(path=str(ARTIFACTS / "explore-box-select.png"))
        assert dark_share(page, inside) < 0.05  # the points in their colours, not the click grid painted black
        page.get_by_text("1σ posterior ellipses").click()  # the map is drawn again, with the ellipses
        page.wait_for_function(
            "() => document.querySelector('.js-plotly-plot').data.some(t => t.name === '1σ of q(z|x)')",
            timeout=SERVER_WAIT_MS,
        )
        wait_for_app_idle(page)
        assert page.get_by_text("points selected").count() == 1  # the panel still matches the drawn outline
        # drawn again onto the new chart by ui/selection.py
        page.wait_for_function(
            "() => (document.querySelector('.js-plotly-plot').layout.shapes || [])"
            ".some(s => s.name === 'selection' && s.type === 'path')",
            timeout=SERVER_WAIT_MS,
        )


SCROLLED = """() => [...document.querySelectorAll('*')].some(el => el.scrollTop > 0) || window.scrollY > 0"""


def test_the_scroll_wheel_over_the_map_scrolls_the_page_and_leaves_the_axes():
    ranges = """() => { const gd = document.querySelector('[data-testid="stMain"] .js-plotly-plot');
        return [gd._fullLayout.xaxis.range, gd._fullLayout.yaxis.range]; }"""
    with streamlit_server() as url, chromium_page(1400, 700) as page:
        page.goto(url)
        page.locator(POINTS).first.wait_for(timeout=60_000)
        wait_for_app_idle(page)
        before = page.evaluate(ranges)
        area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
        page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
        page.mouse.wheel(0, 400)
        page.wait_for_function(SCROLLED, timeout=SERVER_WAIT_MS)  # the page moved
        assert page.evaluate(ranges) == before  # and the map's axes did not
