"""The app's training process against the CLI with no browser at all, at 1 and 2 torch threads each, alternating:
what the child process itself costs, apart from the page drawn beside it (benchmarks/train_overhead.py).

    .venv/bin/python benchmarks/child_vs_cli.py [--rounds 3] [--epochs 150]

Both train digits, mlp, latent_dim 2, batch 128, seed 0 on the CPU. "run" is a run started through the Train
page's registry (vae_core.runs.registry.RunRegistry: a process forked from the forkserver, its events sent back through a
queue) in a fresh Python process, with VAE_EXPLORER_TRAIN_THREADS set; "cli" is `python -m vae_core train` with
OMP_NUM_THREADS set. Throughput as in train_overhead.py: training images over training-loop time.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_common import machine_line  # noqa: E402
from train_overhead import cli_run, throughput  # noqa: E402

JOB = """
import pathlib, sys, time
sys.path.insert(0, {root!r})
from vae_core import RunSpec, TrainConfig
from vae_core.runs.registry import RunRegistry
from vae_core.data.datasets import load_data
spec = RunSpec(train=TrainConfig(epochs={epochs}, device="cpu"))
run = RunRegistry(1).start(spec, load_data(spec.data))
while run.live:
    time.sleep(0.2)
run.save(pathlib.Path({out!r}))
"""


def cli(folder: Path, threads: int, epochs: int, i: int) -> float:
    return cli_run(folder / f"cli{threads}-{i}.pt", epochs, env={"OMP_NUM_THREADS": str(threads)})


def registry_run(folder: Path, threads: int, epochs: int, i: int) -> float:
    out = folder / f"run{threads}-{i}.pt"
    subprocess.run(
        [sys.executable, "-c", JOB.format(root=str(ROOT), epochs=epochs, out=str(out))],
        cwd=ROOT,
        check=True,
        env=dict(os.environ, VAE_EXPLORER_TRAIN_THREADS=str(threads)),
    )
    return throughput(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=150)
    args = parser.parse_args()
    print(machine_line(), flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-child-"))
    runs = {("cli", 2): cli, ("run", 2): registry_run, ("cli", 1): cli, ("run", 1): registry_run}
    rates: dict = {name: [] for name in runs}
    for i in range(args.rounds):
        for (kind, threads), measure in runs.items():
            rates[kind, threads].append(measure(folder, threads, args.epochs, i))
        print(f"round {i}: " + ", ".join(f"{k} {t} thread(s) {v[-1]:,.0f}" for (k, t), v in rates.items()), flush=True)
    median = {name: statistics.median(v) for name, v in rates.items()}
    print("median samples/s: " + ", ".join(f"{k} {t} thread(s) {v:,.0f}" for (k, t), v in median.items()))
    print(
        f"run/cli at 2 threads {median['run', 2] / median['cli', 2]:.2f}, at 1 thread "
        f"{median['run', 1] / median['cli', 1]:.2f}; cli 1 thread / cli 2 threads "
        f"{median['cli', 1] / median['cli', 2]:.2f}"
    )


if __name__ == "__main__":
    main()
