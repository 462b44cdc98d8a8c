"""A beta sweep: a grid of ordinary training runs (betas x seeds), each writing an ordinary checkpoint.

Runs go to local processes (K at a time, each in a process of its own, so one that dies takes no other
with it) or, with Ray, to a Ray cluster as tasks. Runs whose checkpoint is already there are not trained
again, so a sweep that was interrupted resumes. A run that fails, diverging or dying, is reported with its
reason and the others finish. The Compare page reads the checkpoints; it needs no sweep state.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable
from multiprocessing.connection import wait
from pathlib import Path

from .checkpoint import CheckpointError, load_checkpoint, save_run
from .data import load_dataset
from .model import VAE, VAEConfig, suggest_architecture
from .train import TrainConfig, seed_everything, train

RAY_INSTALL = "pip install '.[ray]' (or: pip install 'ray==2.60.0')"


class SweepError(Exception):
    """The sweep as a whole cannot run (no Ray, an unreachable cluster); the message says what to do."""


def run_path(out_dir, beta: float, seed: int) -> Path:
    return Path(out_dir) / f"beta{beta:g}-seed{seed}.pt"


def build_run(data, options: dict, beta: float, seed: int) -> tuple[VAE, TrainConfig]:
    """The model and training config a run of these options makes: the CLI's `train` and every sweep run."""
    config = TrainConfig(epochs=options["epochs"], batch_size=options["batch_size"], lr=options["lr"], beta=beta,
                         beta_schedule=options["beta_schedule"], warmup_epochs=options["warmup_epochs"], seed=seed,
                         device=options["device"], log_every=options["log_every"])
    seed_everything(seed)  # the weight init too
    arch, latent_dim = suggest_architecture(data.image_shape)
    model = VAE(VAEConfig(image_shape=data.image_shape, latent_dim=options["latent_dim"] or latent_dim,
                          hidden=options["hidden"] or (), arch=arch if options["arch"] == "auto" else options["arch"],
                          likelihood=options["likelihood"]))
    return model, config


def train_one(options: dict, beta: float, seed: int, out: str) -> dict:
    """One run of the grid, trained and saved; a failure comes back as a row with its reason, not raised."""
    row = dict(beta=beta, seed=seed, path=out)
    try:
        data = load_dataset(options["data"], root=options["data_root"], image_size=options["image_size"],
                            channels=options["channels"])
        model, config = build_run(data, options, beta, seed)
        history = [e for e in train(model, data, config) if e["type"] in ("step", "epoch")]
        _, metrics = save_run(out, model, data, config.to_dict(), history, overwrite=True)
    except Exception as err:  # diverged, bad options, out of memory: this run fails, the sweep goes on
        return dict(row, status="failed", error=f"{type(err).__name__}: {err}")
    return dict(row, status="trained", **_terms(metrics))


def finished_before(beta: float, seed: int, out: Path) -> dict | None:
    """The row of a run whose checkpoint is already there and readable (resuming), else None."""
    try:
        _, meta = load_checkpoint(out)
    except CheckpointError:
        return None
    return dict(beta=beta, seed=seed, path=str(out), status="done before", **_terms(meta["metrics"]))


def _terms(metrics: dict) -> dict:
    return {k: metrics.get(k) for k in ("test_recon", "test_kl", "test_loss")}


def default_workers(n_runs: int) -> int:
    """Half the cores, as each run's torch uses several threads; at least one, at most one per run."""
    return max(1, min(n_runs, (os.cpu_count() or 2) // 2))


def sweep(options: dict, betas, seeds, out_dir, workers: int | None = None, ray_address: str | None = None,
          on_start: Callable[[float, int], None] = lambda b, s: None,
          on_done: Callable[[dict], None] = lambda row: None) -> list[dict]:
    """Train every (beta, seed) not already in out_dir; -> one row per run, in grid order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    grid = [(float(b), int(s)) for b in betas for s in seeds]
    rows = {}
    for beta, seed in grid:
        if (row := finished_before(beta, seed, run_path(out_dir, beta, seed))) is not None:
            rows[beta, seed] = row
            on_done(row)
    todo = [(beta, seed, str(run_path(out_dir, beta, seed))) for beta, seed in grid if (beta, seed) not in rows]
    runner = run_on_ray if ray_address else run_local
    extra = dict(address=ray_address) if ray_address else dict(workers=workers or default_workers(len(todo)))

    def done(row: dict) -> None:
        rows[row["beta"], row["seed"]] = row
        on_done(row)

    runner(options, todo, on_start=on_start, on_done=done, **extra)
    return [rows[key] for key in grid]


def run_local(options: dict, todo: list, workers: int, on_start, on_done, target=None) -> None:
    """Each run in a process of its own, `workers` at a time; a process that ends without a result failed."""
    context = _fresh_process_context()
    target = target or _local_worker
    threads = max(1, (os.cpu_count() or 2) // workers)
    pending, running = list(todo), {}
    while pending or running:
        while pending and len(running) < workers:
            beta, seed, out = pending.pop(0)
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=target, args=(options, beta, seed, out, send, threads), daemon=True)
            process.start()
            send.close()  # the child's copy stays open: end-of-file here means it is gone
            running[receive] = (beta, seed, out, process)
            on_start(beta, seed)
        for receive in wait(list(running)):
            beta, seed, out, process = running.pop(receive)
            try:
                row = receive.recv()
            except EOFError:  # it died before sending: a crash, a kill, out of memory
                process.join()
                row = dict(beta=beta, seed=seed, path=out, status="failed",
                           error=f"the worker process died (exit code {process.exitcode})")
            process.join()
            on_done(row)


def _fresh_process_context():
    """Processes forked from a forkserver that imported torch and this module once: each run starts at once,
    where a spawned interpreter spent about 3 s importing torch again (BENCHMARKS.md, section 6). Spawn where
    there is no forkserver (Windows). Never plain fork: the caller may run threads."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # only takes effect if this process has no forkserver yet
    return context


def _local_worker(options: dict, beta: float, seed: int, out: str, send, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    send.send(train_one(options, beta, seed, out))


LOOPBACK = "127.0.0.1"


def _keep_ray_on_loopback() -> None:
    """A local Ray cluster runs whatever job it is sent, so its servers (GCS, raylet, workers, the runtime-env
    agent) must listen on loopback only. `_node_ip_address="127.0.0.1"` alone does not do it on Linux: Ray
    swaps a loopback node address for the machine's reachable one unless "cluster mode" is off, which
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 says. Set in the environment, so Ray's own processes inherit it, and
    in Ray's constants in case Ray was imported before (they are read at import)."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    if "ray" in sys.modules and sys.modules["ray"] is not None:
        from ray._private import ray_constants

        ray_constants.ENABLE_RAY_CLUSTER = False


def run_on_ray(options: dict, todo: list, address: str, on_start, on_done) -> None:
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
        for beta, seed, out in todo:
            refs[task.remote(options, beta, seed, out)] = (beta, seed, out)
            on_start(beta, seed)
        while refs:
            (ref,), _ = ray.wait(list(refs), num_returns=1)
            beta, seed, out = refs.pop(ref)
            try:
                row = ray.get(ref)
            except Exception as err:  # the worker died or the task could not run
                row = dict(beta=beta, seed=seed, path=out, status="failed", error=f"{type(err).__name__}: {err}")
            on_done(row)
    finally:
        if address == "local":
            ray.shutdown()
