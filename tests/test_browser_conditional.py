"""Real browser: a conditional VAE on Explore (a click decoded under the label chosen beside the map) and Generate
(rows per class, one style in every class), and the collapse doctor's retrain clicked on Explore."""

import pytest

from browser import (
    ARTIFACTS,
    SERVER_WAIT_MS,
    chromium_page,
    decoder_reports,
    select_checkpoint,
    streamlit_server,
    wait_for_app_idle,
    wait_for_decoder_report,
    wait_for_map_clicks,
)
from conftest import ROOT
from test_browser_explore import emptiest_spot, wait_for_image
from test_browser_factors import choose
from test_conditional import CONDITIONAL
from test_doctor import COLLAPSING
from vae_core.runs.sweep import train_one

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    (folder / "digits-2d.pt").write_bytes((ROOT / "checkpoints" / "digits-2d.pt").read_bytes())
    assert train_one(CONDITIONAL, str(folder / "cond.pt"))["status"] == "trained"
    assert train_one(COLLAPSING, str(folder / "collapsed.pt"))["status"] == "trained"
    with streamlit_server({"VAE_EXPLORER_CHECKPOINTS": str(folder)}) as url:
        yield url


def test_conditional_explore_and_generate_in_chromium(server):
    with chromium_page(height=1200) as page:
        page.goto(server)
        page.get_by_text("digits-2d: mlp VAE").wait_for(timeout=60_000)
        select_checkpoint(page, "cond")
        page.get_by_text("A conditional VAE").wait_for()
        choose(page, "Decode under the label", "7")
        page.get_by_text("under the label 7").wait_for()
        x, y = emptiest_spot(page)
        wait_for_map_clicks(page)
        page.mouse.click(x, y)
        page.get_by_text("Decoded at").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_image(page, "decoded image")
        page.screenshot(path=str(ARTIFACTS / "conditional-explore.png"))

        page.get_by_role("link", name="Generate").click()
        page.get_by_text("One row per class, from the top: 0, 1, 2").wait_for(timeout=SERVER_WAIT_MS)
        page.screenshot(path=str(ARTIFACTS / "conditional-generate-rows.png"), full_page=True)
        page.get_by_role("tab", name="One style, every class").click()
        page.get_by_text("One style, every class: the code of test image #0").wait_for()
        page.screenshot(path=str(ARTIFACTS / "conditional-generate-style.png"), full_page=True)


DOCTOR_ROWS_DONE = """n => { const rows = [...document.querySelectorAll("[class*='st-key-doctor_'] table tr")].slice(1);
    return rows.length == n && rows.every(tr => !tr.innerText.includes('…')); }"""
REMEDIES = ("Free bits (0.5 nats)", "Cyclical β", "Smaller β (0.25)", "IWAE objective (k=5)")


def test_the_collapse_doctor_retrains_at_a_click_in_chromium(server):
    """Each remedy clicked once, one after the other: every click starts its retrain, and the table sets all four
    against the original once they finish."""
    with chromium_page(height=1400) as page:
        page.goto(server)
        page.get_by_text("digits-2d: mlp VAE").wait_for(timeout=60_000)
        wait_for_decoder_report(page, "digits-2d")
        reports = decoder_reports(page)
        select_checkpoint(page, "collapsed")
        page.get_by_text("latent dimensions of collapsed have collapsed").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_decoder_report(page, "collapsed", after=reports)  # the remedies' buttons stay where they are
        for name in REMEDIES:  # each click, once, must take: its button is disabled once its retrain is queued
            button = page.get_by_role("button", name=name)
            button.click()
            page.wait_for_function(
                """name => [...document.querySelectorAll("button")]
                .some(b => b.innerText.trim() === name && b.disabled)""",
                arg=name,
                timeout=SERVER_WAIT_MS,
            )
            wait_for_app_idle(page)
        try:
            page.wait_for_function(DOCTOR_ROWS_DONE, arg=1 + len(REMEDIES), timeout=120_000)  # polled until all finish
        except Exception as err:
            page.screenshot(path=str(ARTIFACTS / "doctor-failure.png"), full_page=True)
            doctor = page.locator("[class*='st-key-doctor_']").first.inner_text()
            raise AssertionError(f"the retrains did not all finish; the doctor shows:\n{doctor}") from err
        assert all(page.get_by_role("button", name=name).is_disabled() for name in REMEDIES)
        changes = page.locator("[class*='st-key-doctor_'] table tr td:nth-child(2)").all_inner_texts()
        assert changes[0] == "the original" and changes[1].startswith("free bits 0.5") and len(changes) == 5
        page.locator("[class*='st-key-doctor_']").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "doctor-explore.png"))
