"""Real-browser harness: `streamlit run app.py` on a free 127.0.0.1 port, driven by Playwright in Chromium."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
# How long a test waits for a condition that needs the server to do work (a script rerun, a model loading, a run
# starting, pausing, stopping or saving): a bound that holds on a loaded 2-core machine, not a measure of speed. A wait
# ends as soon as its condition holds, so a fast machine waits no longer than it did with a shorter bound.
SERVER_WAIT_MS = 60_000
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:  # fail, never skip: CI must not pass without having run the browser tests
        raise RuntimeError("Chromium not found: install Debian's `chromium` (apt-get install chromium) or set CHROMIUM.")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(
    env: dict | None = None, timeout: float = 60.0, script: str = "app.py", root: Path = ROOT, port: int | None = None
):
    """Start the real app server (or another script, or another checkout's, for benchmarks); yield its base URL;
    stop it afterwards. port: a given one (a restart at the same address keeps the page's local storage)."""
    with streamlit_process(env, timeout, script, root, port) as (url, _):
        yield url


@contextmanager
def streamlit_process(
    env: dict | None = None, timeout: float = 60.0, script: str = "app.py", root: Path = ROOT, port: int | None = None
):
    """Start the real app server; yield its base URL and its process; stop it afterwards."""
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with served(cmd, port, "/_stcore/health", "streamlit", timeout, cwd=root, env={**os.environ, **(env or {})}) as served_at:
        yield served_at


@contextmanager
def served(cmd: list, port: int, health: str, name: str, timeout: float, cwd=None, env=None):
    """Start a server (the app, JupyterLab, marimo) whose output goes to test-artifacts/NAME-PORT.log; yield its base
    URL and its process once `health` (a path) answers; stop it afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"{name}-{port}.log", "w")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + health, proc, timeout, name, log.name)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def server_log(url: str) -> str:
    """What the server at url has printed so far."""
    return (ARTIFACTS / f"streamlit-{url.rsplit(':', 1)[1]}.log").read_text()


def wait_until_serving(health_url: str, proc, timeout: float, name: str, log_name: str) -> None:
    """Until the server answers its health check; RuntimeError if it exits or takes longer than timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(health_url, timeout=1)  # an HTTP error is an OSError too
            return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start; see {log_name}")
        time.sleep(0.2)


def offline(page, schemes: tuple) -> list:
    """Let the page load only URLs of these schemes (file:, data:, ...), abort every other; -> the list of every URL
    it asks for, filled as it asks."""
    asked: list = []
    page.route(
        "**/*",
        lambda route: (
            asked.append(route.request.url),
            route.continue_() if route.request.url.startswith(schemes) else route.abort(),
        ),
    )
    return asked


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:  # launch() gives every browser a fresh, temporary profile
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(SERVER_WAIT_MS)  # waits, clicks and downloads given no timeout of their own
            yield page
        finally:
            browser.close()


def wait_for_app_idle(page, timeout: float = SERVER_WAIT_MS) -> None:
    """Until no script runs (no status widget) and no element of the previous run lingers (data-stale)."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
        && !document.querySelector('[data-stale="true"]')""",
        timeout=timeout,
    )


def wait_for_first_run(page, timeout: float = SERVER_WAIT_MS) -> None:
    """Until the first run of a page just opened has ended, then until it is idle: early in that run nothing is
    stale yet and the status widget waits half a second to show, so the page looks idle before it is drawn.
    Streamlit marks its root with the state of the session's script. For pages that poll no fragment: a poll
    keeps a page's script running more than half of the time on a loaded machine."""
    page.wait_for_function(
        """() => (document.querySelector('[data-testid="stApp"]') || {dataset: {}}).dataset.testScriptState
        === 'notRunning'""",
        timeout=timeout,
    )
    wait_for_app_idle(page, timeout)


def fill_input(page, label: str, value: str) -> None:
    """Type into a Streamlit text or number input and commit it (Enter), then wait for the rerun."""
    box = page.get_by_label(label)
    box.fill(value)
    box.press("Enter")
    wait_for_app_idle(page)


def start_training(page, url: str, epochs: int = 1000) -> None:
    """Open the Train page, start a digits run of `epochs` epochs, and wait until it trains."""
    page.goto(f"{url}/train")
    page.get_by_role("button", name="Start training").wait_for(timeout=60_000)
    fill_input(page, "Epochs", str(epochs))
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Status: training").wait_for(timeout=SERVER_WAIT_MS)


def select_checkpoint(page, name: str) -> None:
    """Pick a model in the sidebar (digits-2d is preselected)."""
    if name == "digits-2d":
        return
    page.locator("[data-testid=stSelectbox]").first.click()
    page.get_by_role("option").filter(has_text=name).click()
    # the pick's rerun has begun once the sidebar describes the new model (ui/session.py); idle, it has ended
    caption = page.locator("[data-testid=stSidebar] [data-testid=stCaptionContainer]")
    caption.filter(has_text=re.compile(rf"^{re.escape(name)}: ")).first.wait_for(timeout=SERVER_WAIT_MS)
    wait_for_app_idle(page)


def requests_elsewhere(page, url: str) -> list[str]:
    """A list that fills, as they happen, with the URLs the page requests other than the app's own and data: ones."""
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.removeprefix("blob:").startswith((url, "data:")) else elsewhere.append(request.url),
    )
    return elsewhere


def wait_for_decoder_report(page, name: str, after: int = 0) -> None:
    """Until the page's decoder has reported on the model `name` (more than `after` reports in all), then until no
    script runs. The report reruns the whole page, and Streamlit's buttons and switches drop a press whose target
    moves between mouse down and up (react-aria), as they do for a person: a click waits for it. Without
    onnxruntime-web's files no decoder is sent, and nothing reports."""
    from ui.explore.browser_decode import runtime_problem

    if runtime_problem() is None:
        page.wait_for_function(
            """([name, after]) => window.__vaeDecoderReports > after
            && !!window.__vaeDecoder && window.__vaeDecoder.key.includes(name)""",
            arg=[name, after],
            timeout=SERVER_WAIT_MS,
        )
    wait_for_app_idle(page)


def decoder_reports(page) -> int:
    """How many reports the page's decoder has sent so far (ui/js/decoder.js counts them)."""
    return page.evaluate("() => window.__vaeDecoderReports || 0")


def wait_for_map_clicks(page) -> None:
    """Until the map's click listener (ui/js/selection.js) is in the page: a click before it would go unseen, as
    it would for a person who clicks before the page has finished loading (seen on a loaded machine)."""
    page.wait_for_function("() => !!window.__vaeClicks", timeout=SERVER_WAIT_MS)
