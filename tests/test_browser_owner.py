"""Real browser: a run is found again from another tab of the browser that started it (its token in local storage,
ui/owner.py), also after the server restarts, and never from another browser."""

import re
import shutil

import pytest

from browser import (
    ARTIFACTS,
    CHROMIUM_FLAGS,
    SERVER_WAIT_MS,
    chromium_path,
    fill_input,
    free_port,
    streamlit_server,
    wait_for_app_idle,
)
from conftest import ROOT

pytestmark = pytest.mark.browser


RUN_OPEN = '[class*="st-key-open_"] button'  # a listed run's Open (ui.train.runs.run_row)


def your_runs(page) -> int:
    """How many runs the Train page lists as this browser's ("Your runs (n)"), once its token has reached the server."""
    page.get_by_role("button", name="Start training").wait_for(timeout=SERVER_WAIT_MS)
    # the server has this browser's token and drew the page with it (ui/js/owner.js)
    page.wait_for_function(
        "() => document.documentElement.dataset.vaeOwnerKnown === localStorage.getItem('vae-explorer-owner')",
        timeout=SERVER_WAIT_MS,
    )
    wait_for_app_idle(page)
    found = page.get_by_text(re.compile(r"^Your runs \(\d+\)$"))
    return int(re.search(r"\d+", found.inner_text()).group()) if found.count() else 0


def test_a_run_is_listed_in_every_tab_of_its_browser_and_in_no_other(tmp_path):
    from playwright.sync_api import sync_playwright

    shutil.copy(ROOT / "checkpoints" / "digits-2d.pt", tmp_path)
    env = {"VAE_EXPLORER_CHECKPOINTS": str(tmp_path), "VAE_EXPLORER_RUNS": str(tmp_path / "runs")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        try:
            mine, theirs = browser.new_context(), browser.new_context()  # two browsers: two local storages
            port = free_port()  # a restart at the same address: the page's local storage belongs to it
            with streamlit_server(env=env, port=port) as url:
                first = mine.new_page()
                first.goto(f"{url}/train")
                assert your_runs(first) == 0
                fill_input(first, "Epochs", "2")
                first.get_by_role("button", name="Start training").click()
                first.get_by_text("Status: finished").wait_for(timeout=SERVER_WAIT_MS)
                first.close()  # the tab that started it is gone
                second = mine.new_page()
                second.goto(f"{url}/train")
                assert your_runs(second) == 1  # found again from a new tab of the same browser
                assert second.locator(RUN_OPEN).count() == 1
                second.screenshot(path=str(ARTIFACTS / "owner-new-tab.png"))
                other = theirs.new_page()
                other.goto(f"{url}/train")
                assert your_runs(other) == 0
                other.screenshot(path=str(ARTIFACTS / "owner-other-browser.png"), full_page=True)
                opens = other.locator(RUN_OPEN)
                rows = [
                    opens.nth(i).locator("xpath=ancestor::div[@data-testid='stHorizontalBlock'][1]").inner_text()
                    for i in range(opens.count())
                ]
                assert not rows, rows
            with streamlit_server(env=env, port=port) as url:  # the server restarted: the unsaved run is restored
                again = mine.new_page()
                again.goto(f"{url}/train")
                your_runs(again)
                again.get_by_text(re.compile(r"Runs from before the server restarted \(1\)")).wait_for(timeout=SERVER_WAIT_MS)
                other = theirs.new_page()
                other.goto(f"{url}/train")
                your_runs(other)
                assert other.get_by_text(re.compile("Runs from before the server restarted")).count() == 0
        finally:
            browser.close()
