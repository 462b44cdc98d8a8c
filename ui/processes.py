"""The processes that train the app's runs, without importing torch here: the server can start them on its very
first request, before its own page has imported torch, so they are ready when Start is clicked.

Not "fork": forking a server that runs threads can copy a held lock into the child. "forkserver" forks each
run from a clean single-threaded process that imported torch and ui.jobs once, so a run starts at once;
"spawn" (Windows) starts a fresh interpreter that imports them again. (torch._dynamo, which torch.optim
imports at the first step, is not needed: vae_core.optim's Adam does without, so the forkserver is ready
about a second sooner.)
"""
import multiprocessing as mp
from multiprocessing import forkserver

PROCESSES = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
if PROCESSES.get_start_method() == "forkserver":
    PROCESSES.set_forkserver_preload(["ui.jobs"])


def start_training_processes() -> None:
    """Start the forkserver now (it imports torch in its own process, in the background); idempotent."""
    if PROCESSES.get_start_method() == "forkserver":
        forkserver.ensure_running()
