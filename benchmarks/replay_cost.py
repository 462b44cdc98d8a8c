"""What keeping a replay costs training: the same run with and without a replay frame at each epoch's end.

    .venv/bin/python benchmarks/replay_cost.py --rounds 5

Per case, rounds alternate with and without the recorder (the same seed, so the same steps), each timing the
whole run (train() plus, when on, ReplayRecorder.record at each epoch end), and the frame itself alone. Cases:
the bundled digits with the default 2-D MLP, and MNIST t10k (8,000 train / 2,000 test) with the default conv net
(20-D, PCA frames aligned by Procrustes), when ../shared/datasets/mnist-t10k is there.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_common import machine_line, source_images, warn_if_busy  # noqa: E402

from vae_core import RunSpec, TrainConfig, load_dataset, train  # noqa: E402
from vae_core.analysis.replay import ReplayRecorder  # noqa: E402
from vae_core.data.datasets import Dataset  # noqa: E402
from vae_core.training.build import build_model


def mnist_t10k() -> Dataset | None:
    x, y, what = source_images()
    if not what.startswith("MNIST"):
        return None
    images, labels = torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y).long()
    return Dataset("mnist-t10k", images[:8000], labels[:8000], images[8000:], labels[8000:], [str(i) for i in range(10)])


def one_run(data: Dataset, epochs: int, replay: bool) -> tuple[float, list[float]]:
    """Seconds for the whole run, and for each replay frame taken."""
    spec = RunSpec(train=TrainConfig(epochs=epochs, device="cpu"))  # the CLI's defaults otherwise
    model, config = build_model(spec, data), spec.train
    recorder = ReplayRecorder(data, model.config.latent_dim) if replay else None
    frames = []
    t0 = time.perf_counter()
    for event in train(model, data, config):
        if recorder is not None and event["type"] == "epoch":
            t = time.perf_counter()
            recorder.record(model, event)
            frames.append(time.perf_counter() - t)
    return time.perf_counter() - t0, frames


def measure(name: str, data: Dataset, epochs: int, rounds: int) -> None:
    one_run(data, 1, True)  # warm-up: first-call costs (allocator, kernels) out of the timed rounds
    with_s, without_s, frames = [], [], []
    for _ in range(rounds):
        t, f = one_run(data, epochs, True)
        with_s.append(t)
        frames += f
        without_s.append(one_run(data, epochs, False)[0])
    w, wo = statistics.median(with_s), statistics.median(without_s)
    print(f"| {name} | {epochs} | {wo:.2f} s | {w:.2f} s | **{wo / w:.3f}** | {1000 * statistics.median(frames):.1f} ms |")
    print(
        f"  rounds without: {', '.join(f'{t:.2f}' for t in without_s)}; with: {', '.join(f'{t:.2f}' for t in with_s)}",
        file=sys.stderr,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warn_if_busy()
    print(machine_line())
    print("\n| case | epochs | run without replay | with replay | throughput with replay / without | one frame |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    measure("digits, 2-D MLP (1,437 train)", load_dataset("digits"), 20, args.rounds)
    mnist = mnist_t10k()
    if mnist is not None:
        measure("MNIST t10k, conv 20-D (8,000 train)", mnist, 2, args.rounds)


if __name__ == "__main__":
    main()
