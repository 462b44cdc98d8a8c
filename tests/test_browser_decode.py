"""Real browser: the Explore page decodes clicks and the hover preview itself, with onnxruntime-web (WebAssembly, one
thread), and shows the same images as the server's decodes of the same points, to 1e-4. Without the runtime's
files, with them blocked, or after a NaN in the page, the server decodes as before and one caption says why.

The runtime's files must be in static/onnxruntime-web (tools/fetch_onnxruntime_web.py; `make test` fetches them)."""

import re

import numpy as np
import pytest

from browser import (
    SERVER_WAIT_MS,
    chromium_page,
    offline,
    select_checkpoint,
    streamlit_server,
    wait_for_app_idle,
    wait_for_map_clicks,
)
from conftest import ROOT
from test_browser_explore import POINTS, emptiest_spot, wait_for_image
from test_browser_factors import choose
from ui.explore.browser_decode import runtime_problem
from vae_core import ModelChoice, RunSpec, TrainConfig, load_checkpoint
from vae_core.analysis.latent import decode_points
from vae_core.model.onnx_io import export_onnx
from vae_core.runs.sweep import train_one
from vae_core.store.files import dataset_signature
from vae_core.store.map_cache import read_map

pytestmark = pytest.mark.browser

READY = "() => !!(window.__vaeDecoder && window.__vaeDecoder.ready)"
DECODED = "figure[data-vae-figure] canvas[data-vae-decoded]"
FALLBACK = "decode on the server"
SIDEBAR = '[data-testid="stSidebar"]'  # where the page says the server decodes, and why


def server_decodes(name: str, points, folder=ROOT / "checkpoints", label: int | None = None) -> np.ndarray:
    """The server's images (N, C*H*W) of map points of the model `name` in folder (a .pt, or else a model folder):
    the map's inverse (from the map cache the app keeps beside it), then the decode, under `label` if given."""
    path = folder / f"{name}.pt" if (folder / f"{name}.pt").exists() else folder / name
    model, meta = load_checkpoint(path)
    md = read_map(path, dataset_signature(meta.data_options))
    assert md is not None, f"no map cache beside {path.name}"
    return decode_points(model.with_label(label), md.projection.inverse(points)).reshape(len(points), -1).numpy()


def decode_in_page(page, points) -> np.ndarray:
    images = page.evaluate("points => window.__vaeDecoder.decode(points).then(Array.from)", points)
    return np.array(images).reshape(len(points), -1)


def map_points(page, count: int = 6) -> list[list[float]]:
    """Points spread over the map's shown region."""
    (x0, x1), (y0, y1) = page.evaluate(
        "() => { const l = document.querySelector('[data-testid=\"stMain\"] .js-plotly-plot')._fullLayout;"
        " return [l.xaxis.range, l.yaxis.range]; }"
    )
    t = np.linspace(0.1, 0.9, count)
    return [[float(x0 + (x1 - x0) * a), float(y0 + (y1 - y0) * b)] for a, b in zip(t, t[::-1])]


def open_explore(page, url: str, name: str = "digits-2d") -> None:
    page.goto(url)
    page.wait_for_selector(POINTS, timeout=SERVER_WAIT_MS)
    wait_for_app_idle(page)
    select_checkpoint(page, name)
    page.wait_for_function(
        "name => !!(window.__vaeDecoder && window.__vaeDecoder.ready && window.__vaeDecoder.key.includes(name))",
        arg=name,
        timeout=SERVER_WAIT_MS,
    )
    wait_for_app_idle(page)


def click_empty_spot(page) -> tuple[list[float], np.ndarray]:
    """Click the emptiest spot; the map point the page decoded there and its floats."""
    wait_for_map_clicks(page)
    page.mouse.click(*emptiest_spot(page))
    page.wait_for_selector(DECODED, timeout=SERVER_WAIT_MS)
    point = page.evaluate(f"() => JSON.parse(document.querySelector('{DECODED}').getAttribute('data-vae-decoded'))")
    last = page.evaluate("() => window.__vaeDecoder.last")
    assert last["points"] == [point]
    return point, np.array(last["images"], dtype=np.float32).reshape(1, -1)


def test_the_page_decodes_clicks_and_hovers_as_the_server_does():
    assert runtime_problem() is None, f"{runtime_problem()}: run python tools/fetch_onnxruntime_web.py"
    with streamlit_server() as url, chromium_page() as page:
        for name in ("digits-2d", "digits-16d"):  # the latent space as the map; a PCA map of 16 dimensions
            open_explore(page, url, name)
            points = map_points(page)
            np.testing.assert_allclose(decode_in_page(page, points), server_decodes(name, points), atol=1e-4)

            point, image = click_empty_spot(page)
            np.testing.assert_allclose(image, server_decodes(name, [point]), atol=1e-4)
            page.get_by_text("Decoded at").wait_for(timeout=SERVER_WAIT_MS)
            wait_for_app_idle(page)
            wait_for_image(page, "decoded image")  # the page's canvas: the server drew none
            assert page.locator('[data-testid="stImage"]', has_text="decoded image").count() == 0
            assert page.get_by_text(FALLBACK).count() == 0

            box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6, steps=3)
            page.wait_for_function("() => window.__vaeHover && window.__vaeHover.exact", timeout=SERVER_WAIT_MS)
            hover, last = page.evaluate("() => [window.__vaeHover, window.__vaeDecoder.last]")
            assert last["points"] == [[hover["x"], hover["y"]]]
            np.testing.assert_allclose([last["images"]], server_decodes(name, [[hover["x"], hover["y"]]]), atol=1e-4)

        # a NaN from the decoder: this model decodes on the server from then on, and the page says so once
        page.evaluate("""() => { window.__vaeDecoder.session.run = async () => ({
            mean: {data: new Float32Array([NaN])}, param: {data: new Float32Array([NaN])}}); }""")
        page.mouse.move(0, 0)
        wait_for_map_clicks(page)
        page.mouse.click(*emptiest_spot(page))
        page.get_by_text(FALLBACK).wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        wait_for_image(page, "decoded image")
        assert page.locator('[data-testid="stImage"]', has_text="decoded image").count() == 1  # the server's
        assert page.get_by_text(FALLBACK).count() == 1 and page.locator(SIDEBAR).get_by_text(FALLBACK).count() == 1
        assert "not a number" in page.get_by_text(FALLBACK).inner_text()
        assert page.locator(DECODED).count() == 0

        # a browser that cannot load the runtime (blocked here): the server decodes, and the page says why
        blocked = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
        blocked.route("**/app/static/onnxruntime-web/**", lambda route: route.abort())
        blocked.goto(url)
        blocked.get_by_text(FALLBACK).wait_for(timeout=SERVER_WAIT_MS)
        assert "could not run the decoder" in blocked.locator(SIDEBAR).get_by_text(FALLBACK).inner_text()
        wait_for_app_idle(blocked)
        wait_for_map_clicks(blocked)
        blocked.mouse.click(*emptiest_spot(blocked))
        blocked.get_by_text("Decoded at").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_image(blocked, "decoded image")
        assert blocked.locator(DECODED).count() == 0


def test_without_the_runtimes_files_the_server_decodes_and_says_so(tmp_path):
    requested = []
    with streamlit_server(env={"VAE_EXPLORER_ORT_DIR": str(tmp_path)}) as url, chromium_page() as page:
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url)
        page.wait_for_selector(POINTS, timeout=SERVER_WAIT_MS)
        page.get_by_text(FALLBACK).wait_for(timeout=SERVER_WAIT_MS)
        caption = page.locator(SIDEBAR).get_by_text(FALLBACK).inner_text()
        assert "not installed" in caption and "make run" in caption and "Traceback" not in page.content()
        wait_for_app_idle(page)
        wait_for_map_clicks(page)
        page.mouse.click(*emptiest_spot(page))
        page.get_by_text("Decoded at").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        wait_for_image(page, "decoded image")
        assert page.locator('[data-testid="stImage"]', has_text="decoded image").count() == 1
        assert page.locator(DECODED).count() == 0 and page.evaluate("() => !window.__vaeDecoder")
        assert page.get_by_text(FALLBACK).count() == 1  # said once
        assert not [u for u in requested if "onnxruntime-web" in u]


def test_a_conditional_model_and_an_onnx_folder_decode_in_the_page_as_on_the_server(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / "digits-2d.pt").write_bytes((ROOT / "checkpoints" / "digits-2d.pt").read_bytes())
    spec = RunSpec(model=ModelChoice(conditional=True), train=TrainConfig(epochs=3))
    assert train_one(spec, str(folder / "cond.pt"))["status"] == "trained"
    export_onnx(*load_checkpoint(ROOT / "checkpoints" / "digits-16d.pt"), folder / "imported")
    with streamlit_server({"VAE_EXPLORER_CHECKPOINTS": str(folder)}) as url, chromium_page(height=1200) as page:
        open_explore(page, url, "cond")
        choose(page, "Decode under the label", "7")  # the label goes to the page's decoder as a one-hot input
        page.wait_for_function("() => window.__vaeDecoder.info.label === 7", timeout=SERVER_WAIT_MS)
        points = map_points(page)
        np.testing.assert_allclose(decode_in_page(page, points), server_decodes("cond", points, folder, 7), atol=1e-4)
        point, image = click_empty_spot(page)
        np.testing.assert_allclose(image, server_decodes("cond", [point], folder, 7), atol=1e-4)
        wait_for_app_idle(page)
        choose(page, "Decode under the label", "3")  # the clicked spot again, under the new label, in the page
        page.wait_for_function(
            "p => { const l = window.__vaeDecoder.last; return l.label === 3 && JSON.stringify(l.points) === `[[${p}]]`; }",
            arg=point,
            timeout=SERVER_WAIT_MS,
        )
        image = np.array([page.evaluate("() => window.__vaeDecoder.last.images")])
        np.testing.assert_allclose(image, server_decodes("cond", [point], folder, 3), atol=1e-4)
        assert page.locator('[data-testid="stImage"]', has_text="decoded image").count() == 0

        open_explore(page, url, "imported")  # its decoder.onnx as the server checked it, on a PCA map
        points = map_points(page)
        np.testing.assert_allclose(decode_in_page(page, points), server_decodes("imported", points, folder), atol=1e-4)
        assert page.get_by_text(FALLBACK).count() == 0


def test_the_html_view_decodes_exactly_from_disk_with_no_network(tmp_path):
    from test_browser_export import export

    out = export(tmp_path, "digits-16d.pt")
    with chromium_page(height=1300) as page:
        asked = offline(page, ("file:", "data:", "blob:"))
        page.goto(out.as_uri())
        page.wait_for_function("() => document.body.dataset.decoder", timeout=SERVER_WAIT_MS)
        assert page.evaluate("() => document.body.dataset.decoder") == "ready"
        box = page.locator("#map .nsewdrag").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.6, steps=3)
        page.wait_for_function("() => document.getElementById('hover').dataset.decoded", timeout=SERVER_WAIT_MS)
        point, last = page.evaluate("() => [JSON.parse(document.getElementById('hover').dataset.decoded), PAGE.last]")
        assert last["point"] == point
        np.testing.assert_allclose([last["image"]], server_decodes("digits-16d", [point]), atol=1e-4)

        page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)  # an empty spot, not a dot
        page.wait_for_selector("#decoded[data-vae-decoded]", timeout=SERVER_WAIT_MS)
        point = page.evaluate("() => JSON.parse(document.getElementById('decoded').getAttribute('data-vae-decoded'))")
        last = page.evaluate("() => PAGE.last")
        assert last["point"] == point
        np.testing.assert_allclose([last["image"]], server_decodes("digits-16d", [point]), atol=1e-4)
    assert all(url.startswith(("file:", "data:", "blob:")) for url in asked), asked


def test_free_clicks_after_a_free_click_stay_in_the_page_until_a_button_asks_for_the_point():
    """While the panel shows a free point the page decoded, the next free clicks never reach the server: the page
    writes the point, its z, the ring and the address itself; "Use as B" then hands the page's point to the server."""
    assert runtime_problem() is None, f"{runtime_problem()}: run python tools/fetch_onnxruntime_web.py"
    with streamlit_server() as url, chromium_page() as page:
        open_explore(page, url, "digits-2d")
        point, _ = click_empty_spot(page)  # the first goes to the server: its panel showed nothing yet
        page.get_by_text("Decoded at").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        wait_for_map_clicks(page)
        sent = page.evaluate("() => window.__vaeClickNumber")
        x, y = emptiest_spot(page)
        for dx in (-25, 25):
            page.mouse.click(x + dx, y)
            page.wait_for_function(
                "x => { const c = document.querySelector('figure[data-vae-figure] canvas[data-vae-decoded]');"
                " return c && JSON.parse(c.getAttribute('data-vae-decoded'))[0] !== x; }",
                arg=point[0],
                timeout=SERVER_WAIT_MS,
            )
            point = page.evaluate(f"() => JSON.parse(document.querySelector('{DECODED}').getAttribute('data-vae-decoded'))")
            assert page.evaluate("() => window.__vaeClickNumber") == sent  # the server was not told
            assert page.locator("[data-vae-where]").inner_text() == f"Decoded at ({point[0]:.2f}, {point[1]:.2f})"
            assert page.locator("[data-vae-z]").inner_text() == f"z = [{point[0]:.2f}, {point[1]:.2f}]"
            assert page.evaluate("() => window.__vaeSelection[0].xanchor") == point[0]  # the ring moved
            x_param = float(re.search(r"[?&]x=([^&]+)", page.url).group(1))  # the address follows, to 4 digits
            assert abs(x_param - point[0]) <= 1e-3 * max(1.0, abs(point[0]))
        page.get_by_role("button", name="Use as B").click()
        page.get_by_text(f"Map point ({point[0]:.2f}, {point[1]:.2f}) is now B").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        assert page.get_by_text("Decoded at").count() == 1


def test_the_manifold_is_decoded_in_the_page_as_the_server_does():
    """Once the page holds the decoder, the decoded manifold is drawn by the page from the grid's codes (the server
    computes only those), and its floats are the server's decode of them, to 1e-4."""
    assert runtime_problem() is None, f"{runtime_problem()}: run python tools/fetch_onnxruntime_web.py"
    model, _ = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    with streamlit_server() as url, chromium_page(height=1200) as page:
        open_explore(page, url, "digits-2d")
        slider = page.locator('[data-testid="stSlider"]', has_text="Manifold grid").get_by_role("slider")
        slider.focus()
        page.keyboard.press("ArrowLeft")  # a run of the page: the manifold of 14 x 14, by the page now
        wait_for_app_idle(page)
        page.get_by_text("Decoded manifold: 14×14 grid").wait_for(timeout=SERVER_WAIT_MS)
        # the manifold's canvas is drawn again in place: it keeps the 15 x 15 grid's tag until the new one is drawn
        tag = page.wait_for_function(
            "() => { const c = [...document.querySelectorAll('canvas[data-vae-decoded]')]"
            ".find(c => !c.closest('figure[data-vae-figure]')); const tag = c && c.getAttribute('data-vae-decoded');"
            " return tag && window.__vaeGrids[tag].codes.length === 14 * 14 * 2 && tag; }",
            timeout=SERVER_WAIT_MS,
        ).json_value()
        grid = page.evaluate("tag => window.__vaeGrids[tag]", tag)
        codes = np.array(grid["codes"], np.float32).reshape(-1, 2)
        server = decode_points(model, codes, "mean").reshape(len(codes), -1).numpy()
        np.testing.assert_allclose(np.array(grid["images"]).reshape(len(codes), -1), server, atol=1e-4)
        assert page.locator('[data-testid="stImage"]', has_text="Decoded manifold").count() == 0
