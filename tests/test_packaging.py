"""`pip install .` gives a working `vae-explorer` and `python -m vae_core`, away from the checkout.

The wheel is built from this checkout and installed without its dependencies into a fresh virtual
environment that borrows them from the test environment (a .pth file), so the test needs no network
and no second copy of torch; what it checks is what the package itself carries.
"""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from browser import chromium_page, free_port, wait_for_app_idle, wait_until_serving
from conftest import ROOT
from test_browser_explore import POINTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("install")
    run = lambda *cmd: subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)  # noqa: E731
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT), "-w", str(tmp / "wheel"))
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    (wheel,) = (tmp / "wheel").glob("*.whl")
    run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel))
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], check=True, capture_output=True, text=True
    ).stdout.strip()
    Path(site, "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def test_the_installed_cli_trains_and_evaluates(installed, tmp_path):
    python = installed / "bin" / "python"
    out = tmp_path / "m.pt"
    subprocess.run(
        [python, "-m", "vae_core", "train", "--epochs", "1", "--quiet", "--out", str(out)],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=300,
    )
    shipped = installed / "share" / "vae-latent-explorer" / "checkpoints" / "digits-2d.pt"
    for checkpoint in (out, shipped):
        proc = subprocess.run(
            [python, "-m", "vae_core", "eval", str(checkpoint), "--json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["test_loss"] > 0
    where = subprocess.run(
        [python, "-c", "import vae_core; print(vae_core.__file__)"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert str(installed) in where  # the installed package, not the checkout


def test_vae_explorer_starts_the_app(installed, tmp_path):
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [
            installed / "bin" / "vae-explorer",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith("VAE_EXPLORER")},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + "/_stcore/health", server, 60, "the installed app", str(tmp_path / "server.log"))
        # it serves the installed copy of the app, with the installed models
        assert Path(f"/proc/{server.pid}/cwd").resolve() == installed / "share" / "vae-latent-explorer"
        with chromium_page() as page:
            page.goto(url)
            page.get_by_role("heading", name="Explore the latent space").wait_for(timeout=60_000)
            page.wait_for_selector(POINTS, timeout=60_000)
            wait_for_app_idle(page)
            assert page.locator(POINTS).count() == 359  # the shipped 2-D model's map of the digits test set
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def test_make_run_installs_the_onnx_extra_so_bring_your_own_model_works_out_of_the_box():
    plan = subprocess.run(
        ["make", "-n", "-B", ".venv/bin/.installed-run"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "tools/pins.py onnx" in plan
    pins = subprocess.run([sys.executable, "tools/pins.py", "onnx"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert {line.split("==")[0] for line in pins.stdout.split()} == {"onnx", "onnxruntime"}
