"""Real browser: start a training run on the Train page, watch the curves grow, stop it, save it."""

import shutil
import time

import pytest

from browser import ARTIFACTS, chromium_page, fill_input, streamlit_server, wait_for_app_idle
from conftest import ROOT
from vae_core import load_checkpoint

pytestmark = pytest.mark.browser

# While training, the curves are a canvas (ui/live_curves.py) that notes what it drew; paused or over, Plotly's figure.
LIVE_CANVAS = "document.querySelector('canvas[data-vae-curves]')"
PLOTLY_CURVES = "[...document.querySelectorAll('.js-plotly-plot')].find(g => g.data && g.data.length >= 7)"
CURVE_POINTS = f"""() => {{
  const canvas = {LIVE_CANVAS}, fig = {PLOTLY_CURVES};
  return canvas ? Number(canvas.dataset.steps) : fig ? fig.data[0].x.length : 0;
}}"""
BETA_MARKS = f"""() => {{
  const canvas = {LIVE_CANVAS}, fig = {PLOTLY_CURVES};
  return canvas ? Number(canvas.dataset.betaMarks) : fig ? (fig.layout.shapes || []).length : 0;
}}"""


# the diagnostics drawn on canvases while training (ui/canvas_charts.py): "kind:points" each, in page order
LIVE_CHARTS = """() => [...document.querySelectorAll('canvas[data-vae-chart]')]
  .map(c => c.dataset.kind + ':' + c.dataset.points)"""

# Plotly's figures on the page redrawn from now on (a chart whose figure did not change is not drawn again)
COUNT_REDRAWS = """() => {
  window.__redraws = 0;
  document.querySelectorAll('.js-plotly-plot').forEach(g => g.on('plotly_afterplot', () => window.__redraws++));
}"""


REPLAY_EPOCH = """() => {
  const m = [...document.querySelectorAll('[data-testid="stMarkdownContainer"] strong')]
    .map(e => e.textContent.match(/^Epoch (\\d+)$/)).find(Boolean);
  return m ? Number(m[1]) : 0;
}"""


def test_train_watch_stop_save_in_chromium(tmp_path):
    for name in ("digits-2d.pt", "digits-16d.pt"):
        shutil.copy(ROOT / "checkpoints" / name, tmp_path)
    with streamlit_server(env={"VAE_EXPLORER_CHECKPOINTS": str(tmp_path)}) as url, chromium_page() as page:
        page.goto(f"{url}/train")
        page.get_by_role("button", name="Start training").wait_for(timeout=60_000)
        # a deep link into a fresh server still runs app.py: navigation and the model picker are there
        page.locator("[data-testid=stSidebar]").get_by_text("Checkpoint").wait_for(timeout=10_000)
        fill_input(page, "Epochs", "500")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("Status: training").wait_for(timeout=30_000)

        page.wait_for_function(f"() => ({CURVE_POINTS})() > 0", timeout=30_000)
        first = page.evaluate(CURVE_POINTS)
        page.wait_for_function(f"n => ({CURVE_POINTS})() > n + 5", arg=first, timeout=30_000)  # the curves grow live
        page.wait_for_function(f"() => ({LIVE_CHARTS})().length === 4", timeout=20_000)  # the diagnostics, on canvases
        assert page.evaluate(LIVE_CHARTS) == ["scatter:359", "bars:", "heatmap:", "lines:"]  # every test image mapped
        # a page that lost the points it was sent (they are kept in the page, per run) gets them all again
        drawn = page.evaluate(CURVE_POINTS)
        page.evaluate("() => { delete window.__vaeCurves; }")
        page.wait_for_function(f"n => ({CURVE_POINTS})() >= n", arg=drawn, timeout=20_000)

        page.get_by_role("slider").first.focus()  # the live beta slider: End jumps to its maximum
        page.keyboard.press("End")
        page.wait_for_function(f"() => ({BETA_MARKS})() > 0", timeout=20_000)  # marked on the curves
        page.screenshot(path=str(ARTIFACTS / "train-live.png"))

        # pause: the curves stop growing while the run waits; one epoch: it trains to the epoch's end, pauses again
        page.get_by_role("button", name="Pause", exact=True).click()
        page.get_by_text("Status: paused").wait_for(timeout=10_000)
        # paused, the whole page reruns: the diagnostics are back on Plotly's figures with the curves
        page.wait_for_function(f"() => ({LIVE_CHARTS})().length === 0", timeout=5_000)
        time.sleep(1.0)
        held = page.evaluate(CURVE_POINTS)
        page.evaluate(COUNT_REDRAWS)
        time.sleep(2.5)  # the curves poll 5 times meanwhile and the diagnostics once: nothing new, nothing redrawn
        assert page.evaluate(CURVE_POINTS) == held
        assert page.evaluate("window.__redraws") == 0
        frames = page.evaluate(REPLAY_EPOCH)
        page.get_by_role("button", name="One epoch").click()
        page.wait_for_function(f"n => ({REPLAY_EPOCH})() > n", arg=frames, timeout=30_000)  # a new replay frame
        page.get_by_text("Status: paused").wait_for(timeout=10_000)
        page.get_by_role("button", name="Resume").click()
        page.get_by_text("Status: training").wait_for(timeout=10_000)
        page.wait_for_function(f"n => ({CURVE_POINTS})() > n + 3", arg=page.evaluate(CURVE_POINTS), timeout=30_000)
        page.get_by_text("Replay: the latent map forming").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "train-replay.png"), full_page=True)

        t0 = time.monotonic()
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Status: stopped").wait_for(timeout=10_000)
        assert time.monotonic() - t0 < 5

        fill_input(page, "Checkpoint name", "../browser run")
        page.get_by_role("button", name="Save checkpoint").click()
        page.get_by_text("It is selected in the sidebar").wait_for(timeout=20_000)
        wait_for_app_idle(page)
        page.screenshot(path=str(ARTIFACTS / "train-saved.png"))
    port = url.rsplit(":", 1)[1]
    log = (ARTIFACTS / f"streamlit-{port}.log").read_text()
    assert "ScriptRunContext" not in log and "Traceback" not in log  # a quiet terminal: the run did not re-run app.py
    saved = tmp_path / "browser-run.pt"  # sanitised: no traversal, spaces replaced
    model, meta = load_checkpoint(saved)
    assert meta.dataset == "digits" and meta.metrics["test_loss"] > 0
    assert not (tmp_path.parent / "browser run.pt").exists()
