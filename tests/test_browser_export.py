"""Real browser: the exported HTML view opens from disk with the network blocked, decodes under the cursor and
shows a clicked dot's test image; and a VAE from someone else's code, brought in as ONNX, is explored in the app."""

import sys

import pytest

from browser import (
    ARTIFACTS,
    chromium_page,
    offline,
    select_checkpoint,
    streamlit_server,
    wait_for_app_idle,
    wait_for_decoder_report,
    wait_for_map_clicks,
)
from conftest import ROOT
from test_browser_explore import wait_for_image
from test_onnx_io import export_outside_vae

pytestmark = pytest.mark.browser


def export(tmp_path, checkpoint: str, *options) -> str:
    import subprocess

    out = tmp_path / "view.html"
    subprocess.run(
        [sys.executable, "-m", "vae_core", "export", str(ROOT / "checkpoints" / checkpoint), "--html", str(out), *options],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def dot_position(page, trace: int = 0, point: int = 0) -> tuple[float, float]:
    """Where a dot of the map is on the screen, from plotly's own axes."""
    return page.evaluate(
        """([t, p]) => {
        const gd = document.getElementById("map"), L = gd._fullLayout, r = gd.getBoundingClientRect();
        const d = gd.data[t];
        return [r.left + L._size.l + L.xaxis.c2p(d.x[p]), r.top + L._size.t + L.yaxis.c2p(d.y[p])];
    }""",
        [trace, point],
    )


def test_the_html_view_works_from_disk_with_no_network(tmp_path):
    out = export(tmp_path, "digits-16d.pt", "--grid-only")  # the grid of decodes (the decoder inside: test_browser_decode)
    assert out.stat().st_size < 8 * 2**20
    with chromium_page(height=1300) as page:
        asked = offline(page, ("file:", "data:"))
        page.goto(out.as_uri())
        page.locator("#map .main-svg").first.wait_for()
        assert page.locator("#map .legendtext").count() == 10  # a trace per label, as in the app
        x, y = dot_position(page, trace=3, point=0)
        page.mouse.move(x + 5, y + 5)
        page.wait_for_function("document.getElementById('hover').style.display === 'block'")
        assert page.evaluate("document.getElementById('hover').dataset.tile").count(",") == 1
        page.screenshot(path=str(ARTIFACTS / "export-hover.png"))
        painted = (
            "(id) => { const c = document.getElementById(id), d = c.getContext('2d').getImageData(0, 0, c.width, "
            "c.height).data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s; }"
        )
        page.mouse.click(x, y)
        page.wait_for_function("document.getElementById('picked').textContent.startsWith('Test image #')")
        assert page.evaluate(painted, "original") > 0 and page.evaluate(painted, "recon") > 0
        page.locator("#curves .main-svg").first.wait_for()  # the run's curves, from its history
        page.screenshot(path=str(ARTIFACTS / "export-view.png"))
    assert all(url.startswith(("file:", "data:")) for url in asked), [u for u in asked if not u.startswith("file:")]


def test_a_vae_from_outside_vae_core_is_explored_in_chromium(tmp_path):
    folder = tmp_path / "checkpoints"
    export_outside_vae(folder / "theirs")
    with streamlit_server({"VAE_EXPLORER_CHECKPOINTS": str(folder)}) as url, chromium_page(height=1100) as page:
        page.goto(url)
        page.get_by_text("theirs: onnx VAE").wait_for(timeout=60_000)
        select_checkpoint(page, "theirs")
        wait_for_decoder_report(page, "theirs")
        wait_for_map_clicks(page)
        gd = page.locator('[data-testid="stMain"] .js-plotly-plot').first
        box = gd.locator(".nsewdrag").first.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.04, box["y"] + box["height"] * 0.04)  # a corner: no dot there
        wait_for_image(page, "decoded image")
        wait_for_app_idle(page)
        page.screenshot(path=str(ARTIFACTS / "onnx-explore.png"))


def test_explore_downloads_the_view_it_shows_as_html(tmp_path):
    with streamlit_server() as url, chromium_page(height=1100) as page:
        page.goto(url)
        page.get_by_role("button", name="Download this view as HTML").wait_for(timeout=60_000)
        wait_for_decoder_report(page, "digits-2d")
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="Download this view as HTML").click()
        text, name = info.value.path().read_text(), info.value.suggested_filename
    assert text.startswith("<!doctype html>") and "Plotly.newPlot" in text and len(text) < 32 * 2**20
    assert '"decoder":{"onnx":"' in text  # the decoder and onnxruntime-web inside: it decodes exactly, offline
    assert "digits-2d · latent map" in text and '"name":"7"' in text  # the label traces, as on the page
    assert name == "digits-2d-pca-label.html"


def test_the_view_of_an_uploaded_zips_model_names_the_zip_and_its_manifold_fits_at_1400_px(tmp_path):
    import subprocess

    import numpy as np
    from PIL import Image

    folder = tmp_path / "uploads" / "upload-0123456789abcdef"  # as the app unpacks a zip, its name beside it
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / cls / f"{i}.png")
    (tmp_path / "uploads" / "upload-0123456789abcdef.name").write_text("my icons.zip")
    model, out = tmp_path / "icons.pt", tmp_path / "view.html"
    for args in (
        ("train", "--data", str(folder), "--epochs", "1", "--out", str(model), "--quiet"),
        ("export", str(model), "--html", str(out)),
    ):
        subprocess.run([sys.executable, "-m", "vae_core", *args], cwd=ROOT, check=True, capture_output=True, timeout=300)
    with chromium_page(width=1400) as page:
        page.goto(out.as_uri())
        page.locator("#map .main-svg").first.wait_for()
        page.wait_for_function("document.getElementById('manifold').complete")
        lead = page.locator("p.lead").inner_text()
        assert "on my icons.zip (uploaded)" in lead and "upload-0123" not in lead
        right = page.evaluate("(id) => document.getElementById(id).getBoundingClientRect().right", "manifold")
        assert right <= page.evaluate("document.getElementById('side').getBoundingClientRect().right")
        assert right <= 1400
        page.screenshot(path=str(ARTIFACTS / "export-uploaded.png"), full_page=True)
