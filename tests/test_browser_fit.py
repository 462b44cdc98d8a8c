"""Real browser: a finished run's numbers and formulas fit their boxes: losses in the thousands (64x64 sprites) and the
longest objective (β-TCVAE with free bits), at 1,280 px wide, and still readable, wrapped or scrolled, below it."""

import pytest

from browser import ARTIFACTS, SERVER_WAIT_MS, chromium_page, streamlit_server, wait_for_app_idle

pytestmark = pytest.mark.browser

# every metric's value and label, and every formula, against the box it sits in: [text, overflow in px]
OVERFLOWS = """() => {
  const out = [];
  for (const e of document.querySelectorAll('[data-testid="stMetricValue"] div, [data-testid="stMetricLabel"] p')) {
    out.push([e.textContent, e.scrollWidth - e.clientWidth]);
  }
  for (const e of document.querySelectorAll('.katex-display')) {
    const box = e.closest('[data-testid="stElementContainer"]').getBoundingClientRect();
    const formula = e.querySelector('.katex').getBoundingClientRect();
    const clipped = getComputedStyle(e).overflowX === 'hidden' ? formula.right - box.right : 0;
    out.push([e.textContent.slice(0, 24), formula.right - box.right, clipped]);
  }
  return out;
}"""


def choose(page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    wait_for_app_idle(page)


def number(page, label: str, value: str) -> None:
    box = page.get_by_role("spinbutton", name=label)
    box.fill(value)
    box.press("Enter")
    wait_for_app_idle(page)


def test_numbers_in_the_thousands_and_the_longest_formula_fit_their_boxes(tmp_path):
    with streamlit_server(env={"VAE_EXPLORER_CHECKPOINTS": str(tmp_path)}) as url, chromium_page(width=1280) as page:
        page.goto(f"{url}/train")
        page.get_by_role("button", name="Start training").wait_for(timeout=SERVER_WAIT_MS)
        choose(page, "Dataset", "sprites")
        choose(page, "Image size (pixels)", "64")
        number(page, "Images", "200")
        number(page, "Epochs", "1")
        choose(page, "Objective", "TCVAE")
        page.get_by_role("spinbutton", name="TC weight W").wait_for(timeout=SERVER_WAIT_MS)  # its rerun has drawn it
        wait_for_app_idle(page)
        number(page, "Free bits (nats per dimension)", "0.5")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("IWAE-100 NLL").wait_for(timeout=300_000)  # the last of the finished run's numbers
        wait_for_app_idle(page)
        values = [float(v) for v in page.locator('[data-testid="stMetricValue"]').all_inner_texts() if "/" not in v]
        assert max(values) >= 1000, values  # losses in the thousands: what a 5-column row cut off before
        assert page.locator(".katex-display").count() == 5
        overflows = page.evaluate(OVERFLOWS)
        assert all(over <= 0.5 for _, over, *_ in overflows), overflows  # within its box at 1,280 px
        page.screenshot(path=str(ARTIFACTS / "train-fit-1280.png"), full_page=True)
        page.set_viewport_size({"width": 900, "height": 1000})  # narrower: numbers wrap, formulas scroll, none is cut
        wait_for_app_idle(page)
        overflows = page.evaluate(OVERFLOWS)
        assert all(row[1] <= 0.5 for row in overflows if len(row) == 2), overflows
        assert all(row[2] <= 0.5 for row in overflows if len(row) == 3), overflows
        page.screenshot(path=str(ARTIFACTS / "train-fit-900.png"), full_page=True)
