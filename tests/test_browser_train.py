"""Real browser: start a training run on the Train page, watch the curves grow, stop it, save it."""

import shutil

import pytest

from browser import ARTIFACTS, SERVER_WAIT_MS, chromium_page, fill_input, streamlit_server, wait_for_app_idle
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


# every message the page sends its server, counted: a fragment's poll (st.fragment(run_every=...)) is one
COUNT_SENT = """(() => {
  window.__vaeSent = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (...args) { window.__vaeSent++; return send.apply(this, args); };
})();"""
SENT = "() => window.__vaeSent"
# the paused page's curves and diagnostics on Plotly's figures, every figure drawn (none still replotting)
PAUSED_FIGURES_DRAWN = f"""() => !{LIVE_CANVAS} && !!({PLOTLY_CURVES})
  && [...document.querySelectorAll('.js-plotly-plot')].every(g => g._fullLayout && !g._fullLayout._replotting)"""


# the texts of every spinner the page shows from now on
WATCH_SPINNERS = """() => {
  window.__vaeSpinners = [];
  new MutationObserver(() => document.querySelectorAll('[data-testid=stSpinner]')
    .forEach(s => window.__vaeSpinners.push(s.textContent))).observe(document.body, {childList: true, subtree: true});
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
        page.add_init_script(COUNT_SENT)
        page.goto(f"{url}/train")
        page.get_by_role("button", name="Start training").wait_for(timeout=SERVER_WAIT_MS)
        # a deep link into a fresh server still runs app.py: navigation and the model picker are there
        page.locator("[data-testid=stSidebar]").get_by_text("Checkpoint").wait_for(timeout=SERVER_WAIT_MS)
        fill_input(page, "Epochs", "500")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("Status: training").wait_for(timeout=SERVER_WAIT_MS)

        page.wait_for_function(f"() => ({CURVE_POINTS})() > 0", timeout=SERVER_WAIT_MS)
        first = page.evaluate(CURVE_POINTS)
        page.wait_for_function(f"n => ({CURVE_POINTS})() > n + 5", arg=first, timeout=SERVER_WAIT_MS)  # the curves grow live
        page.wait_for_function(f"() => ({LIVE_CHARTS})().length === 4", timeout=SERVER_WAIT_MS)  # the diagnostics, on canvases
        assert page.evaluate(LIVE_CHARTS) == ["scatter:359", "bars:", "heatmap:", "lines:"]  # every test image mapped
        # a page that lost the points it was sent (they are kept in the page, per run) gets them all again
        drawn = page.evaluate(CURVE_POINTS)
        page.evaluate("() => { delete window.__vaeCurves; }")
        # an emptied store takes no new points from the middle of the run: only the whole run, sent again, fills it
        page.wait_for_function(
            f"""n => window.__vaeCurves && Object.values(window.__vaeCurves).some((run) => run.steps.length >= n)
            && ({CURVE_POINTS})() >= n""",
            arg=drawn,
            timeout=SERVER_WAIT_MS,
        )

        page.get_by_role("slider").first.focus()  # the live beta slider: End jumps to its maximum
        page.keyboard.press("End")
        page.wait_for_function(f"() => ({BETA_MARKS})() > 0", timeout=SERVER_WAIT_MS)  # marked on the curves
        page.screenshot(path=str(ARTIFACTS / "train-live.png"))

        # pause: the curves stop growing while the run waits; one epoch: it trains to the epoch's end, pauses again
        page.get_by_role("button", name="Pause", exact=True).click()
        page.get_by_text("Status: paused").wait_for(timeout=SERVER_WAIT_MS)
        # paused, the whole page reruns: the diagnostics are back on Plotly's figures with the curves
        page.wait_for_function(f"() => ({LIVE_CHARTS})().length === 0", timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        page.wait_for_function(PAUSED_FIGURES_DRAWN, timeout=SERVER_WAIT_MS)
        held = page.evaluate(CURVE_POINTS)
        page.evaluate(COUNT_REDRAWS)
        # six polls answered (the curves poll every 0.5 s, the diagnostics every 2 s): nothing new, nothing redrawn
        page.wait_for_function("n => window.__vaeSent >= n + 6", arg=page.evaluate(SENT), timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        assert page.evaluate(CURVE_POINTS) == held
        assert page.evaluate("window.__redraws") == 0
        frames = page.evaluate(REPLAY_EPOCH)
        page.get_by_role("button", name="One epoch").click()
        page.wait_for_function(f"n => ({REPLAY_EPOCH})() > n", arg=frames, timeout=SERVER_WAIT_MS)  # a new replay frame
        page.get_by_text("Status: paused").wait_for(timeout=SERVER_WAIT_MS)
        page.get_by_role("button", name="Resume").click()
        page.get_by_text("Status: training").wait_for(timeout=SERVER_WAIT_MS)
        page.wait_for_function(f"n => ({CURVE_POINTS})() > n + 3", arg=page.evaluate(CURVE_POINTS), timeout=SERVER_WAIT_MS)
        page.get_by_text("Replay: the latent map forming").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "train-replay.png"), full_page=True)

        page.evaluate(WATCH_SPINNERS)
        page.get_by_role("button", name="Stop").click()
        # stopped, not run to its end: that the stop comes after the current step, not the epoch, is asserted by
        # counting steps in tests/test_loop.py (a time limit here measured the machine's load, not the app)
        page.get_by_text("Status: stopped").wait_for(timeout=SERVER_WAIT_MS)
        # the run's own process scored it before it reported its end: the scores come with Save, the page never
        # waits for them (it greyed for the IWAE bound's seconds), and the caption says on how many images
        page.get_by_text("IWAE-100 NLL").wait_for(timeout=SERVER_WAIT_MS)
        page.get_by_text("the IWAE bound (100 samples each) on all 359.").wait_for(timeout=SERVER_WAIT_MS)
        assert not [t for t in page.evaluate("window.__vaeSpinners") if "IWAE" in t or "Scoring" in t]

        fill_input(page, "Checkpoint name", "../browser run")
        page.get_by_role("button", name="Save checkpoint").click()
        page.get_by_text("It is selected in the sidebar").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        page.screenshot(path=str(ARTIFACTS / "train-saved.png"))
    port = url.rsplit(":", 1)[1]
    log = (ARTIFACTS / f"streamlit-{port}.log").read_text()
    assert "ScriptRunContext" not in log and "Traceback" not in log  # a quiet terminal: the run did not re-run app.py
    saved = tmp_path / "browser-run.pt"  # sanitised: no traversal, spaces replaced
    model, meta = load_checkpoint(saved)
    assert meta.dataset == "digits" and meta.metrics["test_loss"] > 0
    assert 0 < meta.metrics["epoch"] < 500  # the Stop ended it: saved mid-run
    assert not (tmp_path.parent / "browser run.pt").exists()
