"""The waits a newcomer meets (issue 37), each timed as the app meets it, in one process on this machine.

    .venv/bin/python benchmarks/waits.py [--rounds 3] [--sprites-run]

- first t-SNE: a fresh process's first openTSNE fit of 2,000 points of a 20-D code (the Explore map's fit size),
  imports included;
- a finished run's scores on the sprites (the default conv model, 500 held-out sprites at 64x64): the test terms
  and the IWAE bound on its sample, as the run's own process measures them before it reports its end, on the one
  torch thread a run has on 2 cores;
- a fresh server's registry with 30 unsaved finished runs on disk: listing them (read from their markers), against
  opening every one (their checkpoints and data read, as every start did before);
- with --sprites-run, the default sprites run from the CLI, whole process (once: about a minute or more).
Medians of --rounds rounds, the rounds' figures beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from bench_common import machine_line  # noqa: E402

FIRST_TSNE = """
import time, numpy as np
start = time.perf_counter()
from vae_core.maps.nonlinear import fit_nonlinear
fit_nonlinear(np.random.default_rng(0).normal(size=(2000, 20)).astype(np.float32), "tsne")
print(time.perf_counter() - start)
"""


def first_tsne_s() -> float:
    out = subprocess.run([sys.executable, "-c", FIRST_TSNE], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.split()[-1])


def sprites_scores_s() -> float:
    import torch

    from vae_core.config import DataOptions, RunSpec
    from vae_core.data.datasets import load_data
    from vae_core.runs.child import final_scores
    from vae_core.training.build import build_model

    torch.set_num_threads(1)  # a run's child on 2 cores (vae_core.runs.child.train_threads)
    data = load_data(DataOptions(name="sprites"))
    model = build_model(RunSpec(data=data.options), data).eval()
    start = time.perf_counter()
    final_scores(model, data, seed=0)
    return time.perf_counter() - start


def registry_s(runs: int) -> tuple[float, float]:
    """(list the runs on disk, open them all) in seconds, with `runs` finished unsaved runs in a fresh folder."""
    from vae_core import ModelChoice, RunSpec, TrainConfig, load_dataset
    from vae_core.runs.registry import RunRegistry

    data = load_dataset("digits")
    spec = RunSpec(data=data.options, model=ModelChoice(arch="mlp", latent_dim=2), train=TrainConfig(epochs=2))
    registry = RunRegistry()
    made = [registry.start(spec, data) for _ in range(runs)]
    while any(run.live for run in made):
        time.sleep(0.1)
    start = time.perf_counter()
    fresh = RunRegistry()  # a server starting again
    listed = fresh.restored()
    listing = time.perf_counter() - start
    assert len(listed) == runs
    start = time.perf_counter()
    opened = [fresh.get(found.run_id) for found in listed]
    assert all(opened)
    return listing, time.perf_counter() - start


def sprites_run_s() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "vae_core", "train", "--data", "sprites", "--out", f"{tmp}/s.pt", "--quiet"],
            check=True,
            cwd=ROOT,
        )
        return time.perf_counter() - start


def line(name: str, values: list[float]) -> str:
    return f"{name}: median {statistics.median(values):.2f} s ({', '.join(f'{v:.2f}' for v in values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sprites-run", action="store_true")
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VAE_EXPLORER_RUNS"] = str(Path(tmp) / "runs")
        os.environ["VAE_EXPLORER_CACHE"] = str(Path(tmp) / "cache")
        print(line("first t-SNE fit, 2,000 points, fresh process", [first_tsne_s() for _ in range(args.rounds)]))
        print(line("a finished sprites run's scores, 1 thread", [sprites_scores_s() for _ in range(args.rounds)]))
        rounds = []
        for i in range(args.rounds):
            os.environ["VAE_EXPLORER_RUNS"] = str(Path(tmp) / f"runs{i}")
            rounds.append(registry_s(30))
        print(line("a fresh server's registry, 30 runs on disk: listed", [r[0] for r in rounds]))
        print(line("  the same 30 opened, each read (what every start did before)", [r[1] for r in rounds]))
        if args.sprites_run:
            print(line("the default sprites run from the CLI, whole process", [sprites_run_s()]))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
