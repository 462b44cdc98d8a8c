"""Real browser and a real kill: a run the server was training when it was killed (SIGKILL) is listed as
interrupted when the server starts again, resumes to its last epoch and is saved (issue 28, point 1)."""

import json
import os
import re
import shutil
import signal
import time

import pytest

from browser import SERVER_WAIT_MS, chromium_page, free_port, start_training, streamlit_process, wait_for_app_idle
from conftest import ROOT

pytestmark = pytest.mark.browser

EPOCHS = 120


def snapshot_epochs(runs) -> int:
    """Epochs done in the newest training snapshot on disk (0: none yet)."""
    markers = [m for m in runs.glob("*.json") if json.loads(m.read_text())["status"] == "training"]
    if not markers:
        return 0
    from vae_core.model.checkpoint import read_resume_state

    return read_resume_state(markers[0].with_suffix(".pt")).epochs_done


def test_a_run_killed_with_its_server_resumes_after_a_restart_and_is_saved(tmp_path):
    shutil.copytree(ROOT / "checkpoints", tmp_path / "checkpoints")
    runs = tmp_path / "runs"
    env = {
        "VAE_EXPLORER_CHECKPOINTS": str(tmp_path / "checkpoints"),
        "VAE_EXPLORER_RUNS": str(runs),
        "VAE_EXPLORER_SNAPSHOT_S": "0",
    }  # a snapshot at every epoch's end
    port = free_port()  # the restart comes back at the same address: its runs are this page's (its local storage)
    with chromium_page() as page:
        with streamlit_process(env, port=port) as (url, server):
            start_training(page, url, epochs=EPOCHS)
            deadline = time.monotonic() + 60
            while snapshot_epochs(runs) < 3:  # a few epochs on disk
                assert time.monotonic() < deadline, "no snapshot of the run was written"
                time.sleep(0.2)
            os.kill(server.pid, signal.SIGKILL)
            server.wait(10)
        kept = snapshot_epochs(runs)
        assert 3 <= kept < EPOCHS

        with streamlit_process(env, port=port) as (url, _):  # the server starts again
            page.goto(f"{url}/train")
            listed = page.get_by_text(re.compile(r"interrupted when the server stopped.* at epoch \d+ of 120"))
            listed.wait_for(timeout=60_000)
            page.locator("[data-testid=stExpander]").get_by_role("button", name="Open").click()
            resume = page.get_by_role("button", name=re.compile(r"^Resume from epoch \d+$"))
            resume.wait_for(timeout=SERVER_WAIT_MS)
            assert resume.inner_text() == f"Resume from epoch {kept}"
            resume.click()
            page.get_by_text("Status: finished").wait_for(timeout=180_000)
            wait_for_app_idle(page, timeout=60_000)
            page.get_by_role("button", name="Save checkpoint").click()
            page.get_by_test_id("stAlertContentSuccess").get_by_text("Saved as").wait_for(timeout=60_000)
        from vae_core import load_checkpoint

        (saved,) = [p for p in (tmp_path / "checkpoints").glob("*.pt") if p.name not in ("digits-2d.pt", "digits-16d.pt")]
        meta = load_checkpoint(saved)[1]
        assert [e["epoch"] for e in meta.history if e.get("type") == "epoch"] == list(range(1, EPOCHS + 1))
        assert not list(runs.glob("*.pt"))  # saved: its snapshot is gone
