"""Real browser: hostile files in the checkpoints folder (issue 29) cost one row of the sidebar, never a page."""

import json
import shutil
from urllib.parse import quote

import numpy as np
import pytest
import torch

from browser import (
    ARTIFACTS,
    SERVER_WAIT_MS,
    chromium_page,
    fill_input,
    requests_elsewhere,
    streamlit_server,
    wait_for_app_idle,
    wait_for_decoder_report,
    wait_for_first_run,
)
from conftest import ROOT
from test_browser_explore import wait_for_image
from vae_core.store.map_cache import cache_path

pytestmark = pytest.mark.browser
SHIPPED = ROOT / "checkpoints" / "digits-2d.pt"
PAGES = {
    "": "Explore the latent space",
    "generate": "Generate",
    "train": "Train a VAE",
    "compare": "Compare runs",
    "side_by_side": "Two models side by side",
}  # each page's title


def test_a_malformed_checkpoint_and_a_malformed_cache_break_no_page(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy2(SHIPPED, folder)
    torch.save(dict(torch.load(SHIPPED, weights_only=True), metrics="a string"), folder / "bad.pt")
    shutil.copy2(SHIPPED, folder / "listed.pt")  # a good model whose cache header is a JSON list
    np.savez(cache_path(folder / "listed.pt"), header=np.array(json.dumps([1, 2])))
    env = {"VAE_EXPLORER_CHECKPOINTS": str(folder), "VAE_EXPLORER_DATA": str(tmp_path / "data")}
    with streamlit_server(env=env) as url, chromium_page() as page:
        for name, title in PAGES.items():
            page.goto(f"{url}/{name}")
            page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
            page.get_by_text("bad is unusable").wait_for(timeout=60_000)
            wait_for_first_run(page)
            page.screenshot(path=str(ARTIFACTS / f"hostile-{name or 'explore'}.png"))
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.get_by_text("Something went wrong").count() == 0, name
            assert page.get_by_text("its metrics is a str").count() == 1
        page.goto(url)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # Explore draws its map
        chosen = page.get_by_role("combobox", name="Checkpoint").input_value()
        assert chosen.startswith("z=2") and chosen.endswith("· digits-2d")  # the good model is the one selected


def test_a_url_parameter_is_never_markdown_and_no_page_requests_another_host():
    params = [
        "model=" + quote("![t](http://evil.example/t.png)"),
        "model=" + quote("[here](http://evil.example/)"),
        "proj=" + quote("![p](http://evil.example/p.png)"),
        "model=digits-2d&point=" + quote("![q](//evil.example/q)"),
        "model=digits-2d&x=" + quote("[x](http://evil.example/)") + "&y=1",
    ]
    with streamlit_server() as url, chromium_page() as page:
        elsewhere = requests_elsewhere(page, url)
        for query in params:
            page.goto(f"{url}/?{query}")
            page.locator('[data-testid="stAlertContentWarning"]').first.wait_for(timeout=60_000)
            wait_for_decoder_report(page, "digits-2d")  # its report reruns the page: the warning stays to be read
            warnings = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
            assert any("evil.example" in text for text in warnings), (query, warnings)  # shown as text
            assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0, query
        assert elsewhere == []


def test_a_model_with_nan_weights_is_named_unusable_with_no_script_error(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy2(SHIPPED, folder)
    payload = torch.load(SHIPPED, weights_only=True)
    payload["model_state"] = {
        k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in payload["model_state"].items()
    }
    torch.save(payload, folder / "nan.pt")
    env = {"VAE_EXPLORER_CHECKPOINTS": str(folder), "VAE_EXPLORER_DATA": str(tmp_path / "data")}
    with streamlit_server(env=env) as url, chromium_page() as page:
        script_errors = []
        page.on("pageerror", lambda err: script_errors.append(str(err)))
        page.on("console", lambda msg: script_errors.append(msg.text) if "SyntaxError" in msg.text else None)
        page.goto(f"{url}/?model=nan")
        page.get_by_text("non-finite weights").wait_for(timeout=60_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the good model's map instead
        wait_for_first_run(page)
        page.screenshot(path=str(ARTIFACTS / "hostile-nan.png"))
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not [e for e in script_errors if "SyntaxError" in e], script_errors


def choose_upload(page, url: str, zip_bytes: bytes, name: str, count: str = "12 images") -> None:
    """On the Train page, choose "a zip of images" and upload one; wait for its preview (which counts them)."""
    page.goto(f"{url}/train")
    page.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name="a zip of images (upload)").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": name, "mimeType": "application/zip", "buffer": zip_bytes}]
    )
    page.get_by_text(count, exact=True).wait_for(timeout=60_000)
    wait_for_image(page, "a sample of the upload")  # loaded: nothing above the form moves under a click any more
    wait_for_app_idle(page)


def test_an_upload_shown_in_one_session_survives_another_sessions_start(tmp_path):
    from test_hostile_inputs import zip_of_images

    env = {"VAE_EXPLORER_CHECKPOINTS": str(tmp_path / "checkpoints"), "VAE_EXPLORER_DATA": str(tmp_path / "data")}
    shutil.copytree(ROOT / "checkpoints", tmp_path / "checkpoints")
    with streamlit_server(env=env) as url, chromium_page() as a:
        choose_upload(a, url, zip_of_images(0), "first.zip")
        b = a.context.browser.new_page()  # another session
        b.set_default_timeout(SERVER_WAIT_MS)  # as chromium_page gives its page
        choose_upload(b, url, zip_of_images(100), "second.zip")
        b.get_by_role("button", name="Start training").click()
        b.get_by_text("Status:").wait_for(timeout=60_000)  # its start cleaned up the uploads nobody uses
        fill_input(a, "Epochs", "2")  # session A carries on with its form, and trains on its own upload
        a.screenshot(path=str(ARTIFACTS / "hostile-uploads.png"))
        assert a.get_by_text("12 images").count() == 1 and a.locator('[data-testid="stImage"]').count() >= 1
        a.get_by_role("button", name="Start training").click()
        a.get_by_text("Status: finished").wait_for(timeout=SERVER_WAIT_MS)
        assert a.locator('[data-testid="stException"]').count() == 0
        assert a.get_by_text("Something went wrong").count() == 0
