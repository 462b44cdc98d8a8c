"""The processes that train runs, for the app's registry and for local sweeps alike; torch-free, so a server can
start them on its very first request, before any page has imported torch, and they are ready when Start is
clicked.

Not "fork": forking a process that runs threads (a server) can copy a held lock into the child. "forkserver"
forks each run from a clean single-threaded process that imported torch and the training code once, so a run
starts at once; "spawn" (Windows) starts a fresh interpreter that imports them again.
"""

import multiprocessing as mp
from multiprocessing import forkserver, spawn

PROCESSES = mp.get_context("forkserver") if "forkserver" in mp.get_all_start_methods() else mp.get_context("spawn")
if PROCESSES.get_start_method() == "forkserver":
    # what every child runs: an app run (vae_core.runs.child) or a sweep's run (vae_core.runs.sweep)
    PROCESSES.set_forkserver_preload(["vae_core.runs.child", "vae_core.runs.sweep"])


def start_training_processes() -> None:
    """Start the forkserver now (it imports torch in its own process, in the background); idempotent."""
    if PROCESSES.get_start_method() == "forkserver":
        forkserver.ensure_running()


def _preparation_data_without_main(name, _original=spawn.get_preparation_data):
    """A new process normally imports the parent's __main__ first. In the app's server that is whichever page
    script Streamlit runs at that moment (it puts the script's module there), so each training process would
    run app.py or a page in bare mode, for nothing, and fill the terminal with "missing ScriptRunContext"
    warnings. Every target of these processes lives in a module that the child imports anyway."""
    data = _original(name)
    data.pop("init_main_from_path", None)
    data.pop("init_main_from_name", None)
    return data


spawn.get_preparation_data = _preparation_data_without_main
