"""Real browser: an exported HTML view whose checkpoint, dataset folder and classes have hostile names opens from
disk, runs no script of theirs, asks no host for anything, and shows each name as the characters it is."""

from dataclasses import replace

import numpy as np
import pytest

from browser import ARTIFACTS, chromium_page
from test_browser_export import dot_position
from test_html_export import HOSTILE, digits_16d, page_with_names
from vae_core.analysis.html_export import WEBGL_ABOVE, export_html

pytestmark = pytest.mark.browser

CLASSES = [*HOSTILE, "<b>bold</b><br>", "__VIEW__", "__PLOTLY__"]  # the 10 digits
NAME = "__VIEW__<img src=x onerror=alert(1)>"
# what the page's CSP refused (a script, an inline handler, an eval, an image...), recorded before the page runs
RECORD_VIOLATIONS = """document.addEventListener("securitypolicyviolation",
    (e) => (window.violations = window.violations || []).push(e.violatedDirective + " " + e.blockedURI));"""


def test_hostile_names_are_shown_as_text_and_run_nothing(tmp_path):
    out = tmp_path / "view.html"
    out.write_text(page_with_names(NAME, "/data/__VIEW__", CLASSES), encoding="utf-8")
    dialogs, requests = [], []
    with chromium_page(height=1300) as page:
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: requests.append(request.url))
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(out.as_uri())
        page.locator("#map .main-svg").first.wait_for()
        page.wait_for_function("document.getElementById('map').data.length === 10")  # the map is drawn
        assert page.title() == f"{NAME} · latent map" and page.locator("h1").text_content() == f"{NAME} · latent map"
        assert page.locator("p.lead").text_content().startswith(f"{NAME}: a ")
        legend = page.locator("#map .legend")
        assert legend.locator(".legendtext").all_text_contents() == CLASSES  # each name, literally
        assert legend.locator("a").count() == 0 and legend.locator("b").count() == 0
        assert page.locator("body img").count() == 1  # the manifold's own
        x, y = dot_position(page, trace=1, point=0)
        page.mouse.move(x, y)
        page.wait_for_function("document.getElementById('hover').style.display === 'block'")
        assert page.evaluate("document.getElementById('hover').dataset.tile").count(",") == 1
        label = page.locator(".hoverlayer .hovertext")
        label.first.wait_for()
        assert label.first.text_content().startswith(CLASSES[1])  # the hover label names the class as it is
        page.screenshot(path=str(ARTIFACTS / "export-hostile-hover.png"))
        page.mouse.click(x, y)
        page.wait_for_function("document.getElementById('picked').textContent.startsWith('Test image #')")
        assert page.locator("#picked").text_content().endswith(f" ({CLASSES[1]})")
        page.locator("#curves .main-svg").first.wait_for()
        # nothing of the page's own was refused: its two scripts run by their hashes, and an SVG map needs no eval
        assert page.evaluate("window.violations || []") == []
    assert not dialogs, dialogs
    assert all(url.startswith(("data:", "blob:", "file:")) for url in requests), requests


def test_a_webgl_map_draws_under_the_policy(tmp_path):
    """Beyond WEBGL_ABOVE dots the map is scattergl, drawn by regl, which compiles its code with Function(): the
    page's CSP allows eval for such a map (and only for it), else the map is blank."""
    model, meta, md, test_x = digits_16d()
    k = WEBGL_ABOVE // len(md.xy) + 1
    md = replace(md, xy=np.concatenate([md.xy + 0.01 * i for i in range(k)]), labels=np.tile(md.labels, k))
    out = tmp_path / "view.html"
    out.write_text(export_html(model, meta, md, test_x, name="big"), encoding="utf-8")
    with chromium_page() as page:
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(out.as_uri())
        page.locator("#map .gl-container canvas").first.wait_for(state="attached")
        page.wait_for_function("document.querySelectorAll('#map .legendtext').length === 10")
        assert page.evaluate("document.getElementById('map')._fullData[0].type") == "scattergl"
        csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        assert "'unsafe-eval'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert page.get_by_text("WebGL is not supported").count() == 0 and page.evaluate("window.violations || []") == []
