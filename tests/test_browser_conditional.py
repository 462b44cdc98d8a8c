"""Real browser: a conditional VAE on Explore (a click decoded under the label chosen beside the map) and Generate
(rows per class, one style in every class), and the collapse doctor's retrain clicked on Explore."""
import pytest

from browser import ARTIFACTS, chromium_page, select_checkpoint, streamlit_server
from conftest import ROOT
from test_browser_explore import emptiest_spot, wait_for_image
from test_browser_factors import choose
from test_conditional import CONDITIONAL
from test_doctor import COLLAPSING
from vae_core.sweep import train_one

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
        page.mouse.click(x, y)
        page.get_by_text("Decoded at").wait_for(timeout=30_000)
        wait_for_image(page, "decoded image")
        page.screenshot(path=str(ARTIFACTS / "conditional-explore.png"))

        page.get_by_role("link", name="Generate").click()
        page.get_by_text("One row per class, from the top: 0, 1, 2").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "conditional-generate-rows.png"), full_page=True)
        page.get_by_role("tab", name="One style, every class").click()
        page.get_by_text("One style, every class: the code of test image #0").wait_for()
        page.screenshot(path=str(ARTIFACTS / "conditional-generate-style.png"), full_page=True)


RETRAIN_ROW_DONE = """() => [...document.querySelectorAll('table tr')]
    .some(tr => tr.innerText.includes('free bits 0.5 nats per dimension') && !tr.innerText.includes('…'))"""


def test_the_collapse_doctor_retrains_at_a_click_in_chromium(server):
    with chromium_page(height=1400) as page:
        page.goto(server)
        page.get_by_text("digits-2d: mlp VAE").wait_for(timeout=60_000)
        select_checkpoint(page, "collapsed")
        page.get_by_text("latent dimensions of collapsed have collapsed").wait_for(timeout=30_000)
        page.get_by_role("button", name="Free bits (0.5 nats)").click()
        page.get_by_text("the original").wait_for(timeout=30_000)  # the table, with the retrain queued or training
        page.wait_for_function(RETRAIN_ROW_DONE, timeout=120_000)  # polled by the page until it finishes
        assert page.get_by_role("button", name="Free bits (0.5 nats)").is_disabled()
        page.locator("table").last.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "doctor-explore.png"))
