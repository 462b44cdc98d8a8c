"""A beta sweep: a grid of ordinary training runs (betas x seeds), each writing an ordinary checkpoint.

Runs go to local processes (K at a time, each in a process of its own, so one that dies takes no other
with it) or, with Ray, to a Ray cluster as tasks. Runs whose checkpoint is already there are not trained
again, so a sweep that was interrupted resumes. A run that fails, diverging or dying, is reported with its
reason and the others finish. The Compare page reads the checkpoints; it needs no sweep state.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager
from multiprocessing.connection import wait
from pathlib import Path
from typing import TYPE_CHECKING, cast

import torch

from vae_core.config import RunSpec
from vae_core.data.datasets import load_data
from vae_core.model.checkpoint import CheckpointError, load_checkpoint
from vae_core.runs.processes import PROCESSES
from vae_core.stats.metrics import METRIC_NAMES
from vae_core.training.build import build_model
from vae_core.training.loop import train
from vae_core.training.save import save_run

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

RAY_INSTALL = "pip install '.[ray]' (or: pip install 'ray==2.60.0')"


class SweepError(Exception):
    """The sweep as a whole cannot run (no Ray, an unreachable cluster); the message says what to do."""


def run_path(out_dir, beta: float, seed: int) -> Path:
    """beta<B>-seed<S>.pt, B as short as it can be and still name this very beta (1, 0.25, 1.0000001)."""
    short = f"{beta:g}"
    return Path(out_dir) / f"beta{short if float(short) == beta else repr(beta)}-seed{seed}.pt"


def check_grid(betas, seeds, workers: int | None = None) -> list[tuple[float, int]]:
    """The (beta, seed) runs of a sweep, or a SweepError before anything runs: betas finite and non-negative,
    seeds whole numbers, neither given twice (two runs would write one file), at least one of each."""
    betas, seeds = [float(b) for b in betas], list(seeds)
    if not betas or not seeds:
        raise SweepError("A sweep needs at least one beta and one seed.")
    if bad := [b for b in betas if not (math.isfinite(b) and b >= 0)]:
        raise SweepError(f"Betas must be finite and non-negative, not {', '.join(map(str, bad))}.")
    if bad := [s for s in seeds if isinstance(s, bool) or int(s) != s]:
        raise SweepError(f"Seeds must be whole numbers, not {', '.join(map(str, bad))}.")
    for name, values in (("beta", betas), ("seed", [int(s) for s in seeds])):
        if twice := sorted({v for v in values if values.count(v) > 1}):
            raise SweepError(f"Each {name} may be given once; {', '.join(f'{v:g}' for v in twice)} came twice.")
    if workers is not None and workers < 1:
        raise SweepError(f"--workers must be at least 1, not {workers}.")
    return [(b, int(s)) for b in betas for s in seeds]


def train_one(spec: RunSpec, out: str) -> dict:
    """One run of the grid, trained and saved; a failure comes back as a row with its reason, not raised."""
    row = dict(beta=spec.train.beta, seed=spec.train.seed, path=out)
    try:
        data = load_data(spec.data)
        model = build_model(spec, data)
        history = [e for e in train(model, data, spec.train) if e["type"] in ("step", "epoch")]
        _, metrics = save_run(out, model, data, spec.train, history, overwrite=True)
    except Exception as err:  # diverged, bad options, out of memory: this run fails, the sweep goes on
        return dict(row, status="failed", error=f"{type(err).__name__}: {err}")
    return dict(row, status="trained", **_terms(metrics))


def finished_before(beta: float, seed: int, out: Path) -> dict | None:
    """The row of a run whose checkpoint is already there and readable (resuming), else None."""
    try:
        _, meta = load_checkpoint(out)
    except CheckpointError:
        return None
    return dict(beta=beta, seed=seed, path=str(out), status="done before", **_terms(meta.metrics))


def _terms(metrics: dict) -> dict:
    """The test terms, and the disentanglement metrics of data with known factors."""

    return {
        **{k: metrics.get(k) for k in ("test_recon", "test_kl", "test_loss")},
        **{k: metrics[k] for k in METRIC_NAMES if k in metrics},
    }


def default_workers(n_runs: int) -> int:
    """Half the cores, as each run's torch uses several threads; at least one, at most one per run."""
    return max(1, min(n_runs, (os.cpu_count() or 2) // 2))


def sweep(
    spec: RunSpec,
    betas,
    seeds,
    out_dir,
    workers: int | None = None,
    ray_address: str | None = None,
    on_start: Callable[[float, int], None] = lambda b, s: None,
    on_done: Callable[[dict], None] = lambda row: None,
) -> list[dict]:
    """Train every (beta, seed) not already in out_dir; -> one row per run, in grid order."""
    grid = check_grid(betas, seeds, workers)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = {}
    for beta, seed in grid:
        if (row := finished_before(beta, seed, run_path(out_dir, beta, seed))) is not None:
            rows[beta, seed] = row
            on_done(row)
    todo = [
        (spec.with_beta_and_seed(beta, seed), str(run_path(out_dir, beta, seed)))
        for beta, seed in grid
        if (beta, seed) not in rows
    ]
    runner = run_on_ray if ray_address else run_local
    extra = dict(address=ray_address) if ray_address else dict(workers=workers or default_workers(len(todo)))

    def done(row: dict) -> None:
        rows[row["beta"], row["seed"]] = row
        on_done(row)

    if todo:  # with every run done before, no worker starts, nor a Ray cluster (which takes tens of seconds)
        runner(todo, on_start=on_start, on_done=done, **extra)
    return [rows[key] for key in grid]


def run_local(todo: list[tuple[RunSpec, str]], workers: int, on_start, on_done, target=None) -> None:
    """Each run in a process of its own, `workers` at a time; a process that ends without a result failed.
    Ctrl-C ends the runs under way at once and raises KeyboardInterrupt (their workers ignore the key)."""
    target = target or _local_worker
    threads = max(1, (os.cpu_count() or 2) // workers)
    pending = list(todo)
    running: dict[Connection, tuple[RunSpec, str, BaseProcess]] = {}  # a worker's end of its pipe -> its run
    with _ctrl_c_noted() as interrupted:
        try:
            _run_all(pending, running, workers, threads, target, on_start, on_done, interrupted)
        except KeyboardInterrupt:
            for _, _, process in running.values():
                process.terminate()
                process.join()
            raise


@contextmanager
def _ctrl_c_noted():
    """Within the block, Ctrl-C (SIGINT) only sets a flag, read with the function it yields: the loop raises
    KeyboardInterrupt where it is safe to, never in the middle of starting a worker (which would leave the
    forkserver's half-started child printing a traceback)."""
    noted = []
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, lambda *_: noted.append(True))
    try:
        yield lambda: bool(noted)
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_all(pending: list, running: dict, workers: int, threads: int, target, on_start, on_done, interrupted) -> None:
    while pending or running:
        while pending and len(running) < workers and not interrupted():
            spec, out = pending.pop(0)
            receive, send = PROCESSES.Pipe(duplex=False)
            process = PROCESSES.Process(target=target, args=(spec, out, send, threads), daemon=True)
            process.start()
            send.close()  # the child's copy stays open: end-of-file here means it is gone
            running[receive] = (spec, out, process)
            on_start(spec.train.beta, spec.train.seed)
        if interrupted():
            raise KeyboardInterrupt
        # awake now and then to notice Ctrl-C; wait() returns the ready ones of the connections it is given
        for receive in cast("list[Connection]", wait(list(running), timeout=0.5)):
            spec, out, process = running.pop(receive)
            try:
                row = receive.recv()
            except EOFError:  # it died before sending: a crash, a kill, out of memory
                process.join()
                row = dict(
                    beta=spec.train.beta,
                    seed=spec.train.seed,
                    path=out,
                    status="failed",
                    error=f"the worker process died (exit code {process.exitcode})",
                )
            process.join()
            on_done(row)


def _local_worker(spec: RunSpec, out: str, send, threads: int) -> None:

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole terminal's group: the sweep ends us

    torch.set_num_threads(threads)
    row = train_one(spec, out)
    try:
        send.send(row)
    except (BrokenPipeError, EOFError):  # the sweep is gone (interrupted): nobody to tell
        pass


LOOPBACK = "127.0.0.1"


def _keep_ray_on_loopback() -> None:
    """A local Ray cluster runs whatever run it is sent, so its servers (GCS, raylet, workers, the runtime-env
    agent) must listen on loopback only. `_node_ip_address="127.0.0.1"` alone does not do it on Linux: Ray
    swaps a loopback node address for the machine's reachable one unless "cluster mode" is off, which
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 says. Set in the environment, so Ray's own processes inherit it, and
    in Ray's constants in case Ray was imported before (they are read at import)."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    if "ray" in sys.modules and sys.modules["ray"] is not None:
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False


def run_on_ray(todo: list[tuple[RunSpec, str]], address: str, on_start, on_done) -> None:
    """Each run a Ray task (one GPU each where the cluster has them); "local" starts Ray on this machine."""
    if address == "local":
        _keep_ray_on_loopback()
    try:
        import ray
    except ImportError:
        raise SweepError(f"--ray needs Ray, which is not installed: {RAY_INSTALL}") from None
    try:
        if address == "local":
            ray.init(_node_ip_address=LOOPBACK, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
        else:
            ray.init(address=address, log_to_driver=False, ignore_reinit_error=True)
    except Exception as err:
        raise SweepError(f"Could not reach the Ray cluster at {address!r}: {err}") from err
    try:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        task = ray.remote(num_gpus=gpus, max_retries=0)(train_one)
        refs = {}
        for spec, out in todo:
            refs[task.remote(spec, out)] = (spec, out)
            on_start(spec.train.beta, spec.train.seed)
        while refs:
            (ref,), _ = ray.wait(list(refs), num_returns=1)
            spec, out = refs.pop(ref)
            try:
                row = ray.get(ref)
            except Exception as err:  # the worker died or the task could not run
                row = dict(
                    beta=spec.train.beta, seed=spec.train.seed, path=out, status="failed", error=f"{type(err).__name__}: {err}"
                )
            on_done(row)
    finally:
        if address == "local":
            ray.shutdown()
