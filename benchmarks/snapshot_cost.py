"""What keeping runs on disk costs training (issue 28, point 1): the same runs with snapshots and without.

    .venv/bin/python benchmarks/snapshot_cost.py [--rounds 3] [--every 5]

Each case trains through the app's run registry (a child process, as on the Train page), alternating a run that
writes a snapshot at an epoch's end every `every` seconds (the app's default is 30: this measures six times its
rate) with one that never does, and times each run from leaving the queue to its end. Cases: the digits with the
default 2-D MLP, and 28x28 MNIST t10k digits (8,000 train) with the default conv net.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from bench_common import machine_line, source_images, warn_if_busy  # noqa: E402


def cases():
    import torch

    from vae_core import Dataset, TrainConfig, load_dataset
    from vae_core.config import ModelChoice, RunSpec

    digits = load_dataset("digits")
    yield "digits, 2-D MLP, 120 epochs", RunSpec(data=digits.options, train=TrainConfig(epochs=120, device="cpu")), digits
    images, labels, description = source_images()
    x, y = torch.from_numpy(images[:10_000]).unsqueeze(1), torch.from_numpy(labels[:10_000]).long()
    data = Dataset("bench", x[2000:], y[2000:], x[:2000], y[:2000], [str(c) for c in range(10)])
    spec = RunSpec(
        data=digits.options, model=ModelChoice(arch="conv", latent_dim=20), train=TrainConfig(epochs=3, device="cpu")
    )
    yield f"{description.split(' (')[0]}, conv 20-D, 3 epochs", spec, data


def run_seconds(spec, data, every: float, runs: Path) -> float:
    from vae_core.runs import registry

    os.environ["VAE_EXPLORER_SNAPSHOT_S"], os.environ["VAE_EXPLORER_RUNS"] = str(every), str(runs)
    run = registry.RunRegistry().start(spec, data)
    while run.live:
        time.sleep(0.05)
    assert run.status == "finished", run.error
    seconds = time.time() - run.started
    run.discard()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args()
    print(machine_line(), flush=True)
    warn_if_busy()
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec, data in cases():
            times = {"without": [], "with": []}
            for i in range(args.rounds):
                for variant, every in (("without", 1e9), ("with", args.every)):
                    times[variant].append(run_seconds(spec, data, every, Path(tmp) / f"runs-{i}-{variant}"))
                    print(f"  {name}, round {i + 1}, {variant} snapshots: {times[variant][-1]:.2f} s", flush=True)
            without, with_ = statistics.median(times["without"]), statistics.median(times["with"])
            print(
                f"{name}: median {without:.2f} s without snapshots, {with_:.2f} s with one every {args.every:g} s: "
                f"throughput with / without {without / with_:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
