"""A figure is never built against a module another thread is still importing (ui.figures.wait_for_import)."""

import subprocess
import sys

from conftest import ROOT

# A module that takes 0.5 s to import and defines its one name at the end, as pandas defines Series late. A thread
# starts importing it; the main thread then looks it up as plotly looks pandas up, from sys.modules.
CODE = """
import sys, threading, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from ui.figures import wait_for_import
threading.Thread(target=lambda: __import__("slow_module"), daemon=True).start()
time.sleep(0.1)
if sys.argv[3] == "wait":
    wait_for_import("slow_module")
print(hasattr(sys.modules["slow_module"], "READY"))
"""


def run(tmp_path, mode: str) -> str:
    (tmp_path / "slow_module.py").write_text("import time\ntime.sleep(0.5)\nREADY = True\n")
    out = subprocess.run([sys.executable, "-c", CODE, str(ROOT), str(tmp_path), mode], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_waiting_for_an_import_under_way_sees_the_whole_module(tmp_path):
    assert run(tmp_path, "look") == "False"  # what plotly saw: the half-made module
    assert run(tmp_path, "wait") == "True"


def test_a_module_nobody_imported_is_not_imported():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); from ui.figures import "
            "wait_for_import; wait_for_import('pandas'); print('pandas' in sys.modules)",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
