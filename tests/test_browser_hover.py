"""Real browser: hover over the Explore map shows the decode under the cursor, drawn in the page without the server.

docs/hover.png is a copy of the screenshot this test takes (test-artifacts/hover.png).
"""

import base64
import io
import time

import numpy as np
import pytest
from PIL import Image

from browser import ARTIFACTS, SERVER_WAIT_MS, chromium_page, streamlit_server, wait_for_app_idle, wait_for_map_clicks
from conftest import ROOT
from test_browser_explore import POINTS, point_centers, wait_for_image
from vae_core import load_checkpoint
from vae_core.analysis.hover import grid_size
from vae_core.analysis.latent import decode_points, grid_node, grid_points

pytestmark = pytest.mark.browser

HOVER = "() => window.__vaeHover"
PREVIEW = "#vae-hover-preview"
PLOT_AREA = """() => { const gd = document.querySelector('[data-testid="stMain"] .js-plotly-plot');
    const r = gd.getBoundingClientRect(), s = gd._fullLayout._size;
    return {left: r.left + s.l, top: r.top + s.t, width: s.w, height: s.h,
            x_range: gd._fullLayout.xaxis.range, y_range: gd._fullLayout.yaxis.range}; }"""


def empty_spots(page, area: dict, count: int = 2, apart: float = 150) -> list[tuple[float, float]]:
    """Spots inside the plot area far from every data point (so no plotly hover label), `apart` pixels apart."""
    centers = np.array(point_centers(page))
    grid = [
        (area["left"] + area["width"] * (0.1 + 0.8 * i / 15), area["top"] + area["height"] * (0.1 + 0.8 * j / 15))
        for i in range(16)
        for j in range(16)
    ]
    grid.sort(key=lambda c: -np.min(((centers - c) ** 2).sum(axis=1)))
    spots = []
    for c in grid:
        if all(np.hypot(c[0] - s[0], c[1] - s[1]) > apart for s in spots):
            spots.append(c)
        if len(spots) == count:
            return spots
    raise AssertionError("no empty spots on the map")


class Node:
    """The hover grid node nearest a page position, and that node's exact page position and map position."""

    def __init__(self, area: dict, n: int, px: float, py: float):
        (x0, x1), (y0, y1) = area["x_range"], area["y_range"]
        x = x0 + (px - area["left"]) / area["width"] * (x1 - x0)
        y = y1 - (py - area["top"]) / area["height"] * (y1 - y0)
        self.i, self.j = grid_node(x, y, (x0, x1), (y0, y1), n)
        self.x, self.y = (float(v) for v in grid_points((x0, x1), (y0, y1), n)[self.i * n + self.j])
        self.px = area["left"] + (self.x - x0) / (x1 - x0) * area["width"]
        self.py = area["top"] + (y1 - self.y) / (y1 - y0) * area["height"]


def preview_box(page):
    return page.evaluate(f"""() => {{ const el = document.querySelector('{PREVIEW}');
        if (!el || getComputedStyle(el).display === 'none') return null;
        const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }}""")


def preview_image(page) -> np.ndarray:
    """The preview canvas as grey levels in [0, 1], one value per image pixel (the canvas is an integer upscale)."""
    url = page.evaluate(f"() => document.querySelector('{PREVIEW} canvas').toDataURL('image/png')")
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L")) / 255.0
    scale = pixels.shape[0] // 8
    return pixels[scale // 2 :: scale, scale // 2 :: scale]


def hover_at(page, node: Node) -> dict:
    page.mouse.move(node.px, node.py, steps=4)
    page.wait_for_function(
        "([i, j]) => window.__vaeHover && window.__vaeHover.i === i && window.__vaeHover.j === j",
        arg=[node.i, node.j],
        timeout=SERVER_WAIT_MS,
    )
    return page.evaluate(HOVER)


def data_to_page(area: dict, x: float, y: float) -> tuple[float, float]:
    (x0, x1), (y0, y1) = area["x_range"], area["y_range"]
    return area["left"] + (x - x0) / (x1 - x0) * area["width"], area["top"] + (y1 - y) / (y1 - y0) * area["height"]


# headless Chromium draws no cursor: the screenshot gets an arrow where the mouse is, so it shows what is decoded
CURSOR = """([x, y]) => { const el = document.createElement('div'); el.id = 'shot-cursor';
    el.style.cssText = `position:fixed;left:${x}px;top:${y}px;z-index:2000;pointer-events:none`;
    el.innerHTML = '<svg width="18" height="26" viewBox="0 0 18 26"><path d="M1 1 L1 20 L6 15 L10 24 L13 23 L9 14 ' +
                   'L16 14 Z" fill="black" stroke="white" stroke-width="1.5"/></svg>';
    document.body.appendChild(el); }"""


def screenshot(page, node: Node) -> None:
    hover_at(page, node)
    page.evaluate(CURSOR, [node.px, node.py])
    page.screenshot(path=str(ARTIFACTS / "hover.png"))
    page.evaluate("() => document.getElementById('shot-cursor').remove()")


def wait_for_hover_grid(page) -> None:
    """It is on by default: wait for its grid of decodes to reach the browser."""
    page.get_by_text("Hover preview").wait_for(timeout=SERVER_WAIT_MS)
    wait_for_app_idle(page)
    page.wait_for_function("() => window.__vaeHoverState && window.__vaeHoverState.image.complete", timeout=SERVER_WAIT_MS)


def test_hover_shows_the_decode_under_the_cursor_without_the_server_in_chromium():
    model, _ = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    n = grid_size(model.config.image_shape)
    sent = []
    with streamlit_server() as url, chromium_page(1400, 1000) as page:
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(time.monotonic())))
        page.goto(url)
        page.wait_for_selector(POINTS, timeout=60_000)
        wait_for_app_idle(page)
        wait_for_hover_grid(page)
        area = page.evaluate(PLOT_AREA)
        nodes = [Node(area, n, *spot) for spot in empty_spots(page, area)]
        before = len(sent)

        shown = []
        for node in nodes:
            hover = hover_at(page, node)
            assert abs(hover["x"] - node.x) < 0.01 and abs(hover["y"] - node.y) < 0.01  # the cursor's map position
            left, top, right, bottom = preview_box(page)
            assert 96 <= right - left <= 120 and not (left <= node.px <= right and top <= node.py <= bottom)
            # the latent space is the map here; the page's own decoder shows the exact point under the cursor, the
            # sprite the grid node's (tests/test_browser_decode.py checks the exact one to 1e-4)
            at = [[hover["x"], hover["y"]]] if hover.get("exact") else [[node.x, node.y]]
            expected = decode_points(model, at)[0, 0].numpy()
            np.testing.assert_allclose(preview_image(page), expected, atol=2 / 255)
            shown.append((hover["i"], hover["j"]))
        assert shown[0] != shown[1]
        screenshot(page, Node(area, n, *data_to_page(area, 0.25, 0.75)))  # between the clusters of 5 and 9
        time.sleep(0.5)  # a rerun the movement started would have sent its request by now
        assert len(sent) == before, "moving the mouse over the map sent messages to the server"

        # under the toolbar (top right of the plot): the preview goes below the cursor, not over the toolbar
        page.mouse.move(area["left"] + area["width"] - 40, area["top"] + 30, steps=4)
        page.wait_for_function("() => window.__vaeHover", timeout=SERVER_WAIT_MS)
        bar = page.evaluate("""() => { const r = document.querySelector('[data-testid="stMain"] .modebar')
            .getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }""")
        left, top, right, bottom = preview_box(page)
        assert bar[2] > bar[0] and (right <= bar[0] or left >= bar[2] or bottom <= bar[1] or top >= bar[3]), (bar, left, top)

        page.mouse.move(area["left"] - 60, area["top"] + 40, steps=4)  # off the plot area, beside the map
        page.wait_for_function("() => !window.__vaeHover", timeout=SERVER_WAIT_MS)
        assert preview_box(page) is None

        wait_for_map_clicks(page)
        page.mouse.click(nodes[1].px, nodes[1].py)  # a click decodes the spot exactly (in the page, or on the server)
        page.get_by_text("Decoded at").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        wait_for_image(page, "decoded image")
        assert hover_at(page, nodes[0])["i"] == nodes[0].i  # the click's rerun (the fragment) kept the preview
