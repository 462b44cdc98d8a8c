"""The notebook widgets in real notebooks, each served on 127.0.0.1 with a token and driven in Chromium. JupyterLab:
the example notebook opened and run; a click on the map decodes in the kernel and the image shows; a box selection
reaches `explorer.selected` in the next cell; a Monitor's curves grow while its loop runs. marimo: the same widget,
unchanged, in its marimo example; a click decodes in the kernel, and a box selection reruns the cell that reads it."""

import json
import os
import shutil
import sys
from contextlib import contextmanager

import pytest

from browser import SERVER_WAIT_MS, chromium_page, free_port, served
from conftest import ROOT

pytestmark = pytest.mark.browser
TOKEN = "vae-notebook-test-token"
SETTINGS = {
    # every cell in the page, not only those scrolled into view: the test reads widgets wherever they are
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},  # no news toast over the notebook
}


@contextmanager
def serving(cmd: list, env: dict, health: str, name: str):
    """A notebook server started by cmd ("{port}" in it replaced); yields its base URL once `health` answers."""
    port = free_port()
    with served([a.replace("{port}", str(port)) for a in cmd], port, health, name, 90, env=env) as (url, _):
        yield url


def kernel_env(**more) -> dict:
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT),  # the kernel imports vae_core and vae_explorer from this checkout
        OMP_NUM_THREADS="1",  # the kernel's torch: on a busy 2-core machine, far faster than two threads
        **more,
    )


@contextmanager
def jupyter_lab(folder):
    """JupyterLab on a free 127.0.0.1 port serving `folder`, with its settings and state kept in `folder` too."""
    settings = folder / ".settings"
    for plugin, values in SETTINGS.items():
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / plugin).with_suffix(".jupyterlab-settings").write_text(json.dumps(values))
    env = kernel_env(
        JUPYTER_RUNTIME_DIR=str(folder / ".runtime"),
        JUPYTER_CONFIG_DIR=str(folder / ".config"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(folder / ".workspaces"),
    )
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.port={port}"]
    cmd += [f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={folder}", "--ServerApp.allow_root=True"]
    # nothing fetched from outside: no news, no update check, no extension index
    cmd += ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    cmd += ["--LabApp.extension_manager=readonly"]
    with serving(cmd, env, f"/api/status?token={TOKEN}", "jupyterlab") as url:
        yield url


@pytest.fixture
def notebook_folder(tmp_path):
    """A copy of the example beside the shipped models: JupyterLab saves what it runs, and the committed notebook
    stays without outputs."""
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "explore.ipynb", tmp_path / "examples")
    (tmp_path / "checkpoints").symlink_to(ROOT / "checkpoints")
    return tmp_path


def plot_point(page, canvas, fx: float, fy: float) -> tuple[float, float]:
    """The page position at fractions (fx, fy) of a map canvas's plot area (explorer.js's mapBox)."""
    box = canvas.bounding_box()
    x0, x1, y0, y1 = 56, max(120, box["width"] - 120), 10, 420 - 40
    return box["x"] + x0 + fx * (x1 - x0), box["y"] + y0 + fy * (y1 - y0)


def drag_box(page, canvas) -> None:
    """A box over most of the map."""
    page.mouse.move(*plot_point(page, canvas, 0.1, 0.1))
    page.mouse.down()
    page.mouse.move(*plot_point(page, canvas, 0.5, 0.5), steps=5)
    page.mouse.move(*plot_point(page, canvas, 0.9, 0.9), steps=5)
    page.mouse.up()


def run_all(page) -> None:
    """Run > Run All Cells, again if the first cell has not started in a while: a run asked for in the moment the
    kernel connects can be lost (seen in JupyterLab 4.6 on a busy machine)."""
    for _ in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            page.wait_for_function(
                "() => !/\\[ \\]/.test(document.querySelector('.jp-CodeCell .jp-InputPrompt').textContent)", timeout=15_000
            )
            return
        except Exception:  # Playwright's TimeoutError: ask again
            continue
    raise AssertionError("JupyterLab never ran the notebook")


def test_the_example_runs_in_jupyterlab_and_a_click_decodes_in_the_kernel(notebook_folder):
    with jupyter_lab(notebook_folder) as url, chromium_page() as page:
        page.goto(f"{url}/lab/tree/examples/explore.ipynb?token={TOKEN}")
        page.locator(".jp-Notebook").wait_for()
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()  # the kernel has started and is connected
        # every size the curves are drawn at, as the loop runs (each draw sets the canvas's data-steps)
        page.evaluate(
            """() => { window.__drawnSteps = [];
                new MutationObserver((changes) => changes.forEach((c) => window.__drawnSteps.push(+c.target.dataset.steps)))
                    .observe(document.body, {subtree: true, attributes: true, attributeFilter: ["data-steps"]}); }"""
        )
        run_all(page)
        page.locator('.vae-monitor canvas[data-vae-chart][data-epoch="5"]').wait_for(timeout=3 * SERVER_WAIT_MS)
        drawn = page.evaluate("() => window.__drawnSteps")
        assert len(set(drawn) - {0}) >= 5 and max(drawn) == 5 * 23, drawn  # 23 batches of 64 an epoch, 5 epochs

        first = page.locator("canvas[data-vae-map]").first
        first.scroll_into_view_if_needed()
        x, y = plot_point(page, first, 0.5, 0.5)
        page.mouse.move(x, y)
        page.locator("canvas[data-vae-hover][data-tile]").first.wait_for()  # hover draws the sprite's tile
        page.mouse.click(x, y)
        panel = page.locator("[data-vae-decoded]").first
        panel.wait_for()
        assert panel.locator("img").count() >= 1 and page.locator("[data-vae-error]").first.text_content() == ""

        drag_box(page, first)  # then the next cell reads explorer.selected
        second = page.locator(".jp-CodeCell").nth(1)
        second.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            """() => { const out = document.querySelectorAll('.jp-CodeCell')[1].querySelector('.jp-OutputArea-output');
                return out && /\\(\\[\\d+,\\s+\\d+/.test(out.textContent); }"""
        )


def test_in_marimo_the_same_widget_decodes_a_click_and_a_box_reruns_the_cell_that_reads_it(tmp_path):
    cmd = [sys.executable, "-m", "marimo", "run", str(ROOT / "examples" / "explore_marimo.py"), "--headless"]
    cmd += ["--host", "127.0.0.1", "--port", "{port}", "--token-password", TOKEN, "--no-sandbox"]
    with serving(cmd, kernel_env(HOME=str(tmp_path)), "/health", "marimo") as url, chromium_page() as page:
        page.goto(f"{url}/?access_token={TOKEN}")
        canvas = page.locator("canvas[data-vae-map]")
        canvas.wait_for()
        assert canvas.get_attribute("data-points") == "359"
        x, y = plot_point(page, canvas, 0.5, 0.5)
        page.mouse.move(x, y)
        page.locator("canvas[data-vae-hover][data-tile]").wait_for()
        page.mouse.click(x, y)
        page.locator("[data-vae-decoded] img").first.wait_for()
        drag_box(page, canvas)  # marimo reruns the cell that reads explorer.widget.selected
        page.wait_for_function("() => /[1-9]\\d* selected/.test(document.body.innerText)")
