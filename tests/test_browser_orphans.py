"""Real browser and real processes: training processes end with the server, even when it is killed."""

import os
import signal
import time
from pathlib import Path

import pytest

from browser import SERVER_WAIT_MS, chromium_page, start_training, streamlit_process

pytestmark = pytest.mark.browser


def descendants(pid: int) -> set[int]:
    """Every process whose chain of parents leads to pid (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; it only waits for its parent to read its status


def test_training_processes_end_when_the_server_is_killed():
    with streamlit_process() as (url, server), chromium_page() as page:
        start_training(page, url, epochs=1000)
        helpers = descendants(server.pid)  # the forkserver and the run's training process
        assert len(helpers) >= 2, helpers
        os.kill(server.pid, signal.SIGKILL)
        deadline = time.monotonic() + SERVER_WAIT_MS / 1000  # a bound a loaded machine meets; ends once all are gone
        while any(alive(p) for p in helpers) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in helpers if alive(p)]
        assert not left, [Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ")[:120] for p in left]
