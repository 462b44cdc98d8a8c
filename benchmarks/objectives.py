"""Objectives side by side on real MNIST digits (issue 25, point 4, in part): the default conv model trained on
the ELBO, on the IWAE bound with k = 5 and k = 20, and on the ELBO with free bits 0.25 and 0.5, the same epochs and
seed; each scored on held-back digits by the IWAE-100 bound on -log p(x) (the one number comparable across
objectives), the test -ELBO and its active units.

    python benchmarks/objectives.py > benchmarks/results/objectives.txt

The digits are the MNIST test split in ../shared/datasets (for benchmarks only), 8,000 to train on and 2,000
held back, split by a fixed seed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
from bench_common import ROOT, machine_line, source_images, warn_if_busy

sys.path.insert(0, str(ROOT))  # vae_core

RUNS = (
    ("ELBO", dict()),
    ("IWAE k=5", dict(objective="iwae", iwae_k=5)),
    ("IWAE k=20", dict(objective="iwae", iwae_k=20)),
    ("ELBO, free bits 0.25", dict(free_bits=0.25)),
    ("ELBO, free bits 0.5", dict(free_bits=0.5)),
)


def digits():
    from vae_core.data.datasets import Dataset

    x, y, what = source_images()
    order = np.random.default_rng(0).permutation(len(x))
    test, train = order[:2000], order[2000:]
    images = torch.from_numpy(x).unsqueeze(1)
    labels = torch.from_numpy(y).long()
    return Dataset("mnist-t10k", images[train], labels[train], images[test], labels[test], [str(d) for d in range(10)]), what


def iwae_nll(model, x, k: int = 100, batch: int = 50, seed: int = 0) -> float:
    from vae_core.model.bounds import iwae_log_likelihood

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return -float(torch.cat([iwae_log_likelihood(model, x[i : i + batch], k, gen) for i in range(0, len(x), batch)]).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    from vae_core import ModelChoice, TrainConfig, evaluate, train
    from vae_core.model.vae import VAE
    from vae_core.training.loop import seed_everything

    warn_if_busy()
    print(machine_line())
    data, what = digits()
    print(
        f"{what}: {len(data.train_x):,} to train on, {len(data.test_x):,} held back; default model "
        f"({ModelChoice().config_for(data.image_shape).arch}, 20-D), {args.epochs} epochs, seed {args.seed}"
    )
    print(f"{'objective':<22} {'IWAE-100 NLL':>12} {'test -ELBO':>10} {'active':>6} {'train s':>8}")
    for name, options in RUNS:
        config = TrainConfig(epochs=args.epochs, seed=args.seed, **options)
        seed_everything(config.seed)
        model = VAE(ModelChoice().config_for(data.image_shape))
        t0 = time.perf_counter()
        for _ in train(model, data, config):
            pass
        seconds = time.perf_counter() - t0
        model.eval()
        scores = evaluate(model, data.test_x, seed=0)
        print(
            f"{name:<22} {iwae_nll(model, data.test_x):>12.2f} {scores['test_loss']:>10.2f} "
            f"{scores['active_units']:>6} {seconds:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
