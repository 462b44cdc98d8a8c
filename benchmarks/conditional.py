"""A conditional VAE against the same network without the label, on real MNIST digits (issue 25, point 4): the
default conv model, the same epochs and seeds. Each is scored on held-back digits by the IWAE-100 bound: the plain
model's bounds -log p(x), the conditional one's -log p(x|y), which is given the label, and with the label summed
out (vae_core.model.bounds.marginal_nll, p(y) the training labels' frequencies) -log p(x) again, the comparable number.

    python benchmarks/conditional.py > benchmarks/results/conditional.txt

The digits are the MNIST test split in ../shared/datasets (for benchmarks only), 8,000 to train on and 2,000
held back, split by a fixed seed (the split of benchmarks/objectives.py).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from bench_common import ROOT, machine_line, medians, warn_if_busy
from objectives import digits

from vae_core.training.build import build_model

sys.path.insert(0, str(ROOT))  # vae_core


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args()
    from vae_core import ModelChoice, RunSpec, TrainConfig, evaluate, train
    from vae_core.model.bounds import iwae_nll, marginal_nll

    warn_if_busy()
    print(machine_line())
    data, what = digits()
    prior = torch.bincount(data.train_y, minlength=10).float() / len(data.train_y)
    print(
        f"{what}: {len(data.train_x):,} to train on, {len(data.test_x):,} held back; default model (conv, 20-D), "
        f"{args.epochs} epochs, seeds {args.seeds}"
    )
    print(
        f"{'model':<14} {'seed':>4} {'IWAE-100 bound':>15} {'on':>12} {'-log p(x)':>10} {'test -ELBO':>10} "
        f"{'active':>6} {'train s':>8} {'score s':>8}"
    )
    rows = {}
    for conditional in (False, True):
        for seed in args.seeds:
            spec = RunSpec(
                data=data.options, model=ModelChoice(conditional=conditional), train=TrainConfig(epochs=args.epochs, seed=seed)
            )
            model = build_model(spec, data)
            t0 = time.perf_counter()
            for _ in train(model, data, spec.train):
                pass
            trained = time.perf_counter() - t0
            model.eval()
            bound = iwae_nll(model, data.test_x, data.test_y, k=100, batch=50)
            marginal = marginal_nll(model, data.test_x, k=100, batch=50, prior=prior) if conditional else bound
            scores = evaluate(model, data.test_x, y=data.test_y)
            name = "conditional" if conditional else "unconditional"
            rows.setdefault(name, []).append((bound, marginal, scores["test_loss"], scores["active_units"], trained))
            print(
                f"{name:<14} {seed:>4} {bound:>15.2f} {'-log p(x|y)' if conditional else '-log p(x)':>12} "
                f"{marginal:>10.2f} {scores['test_loss']:>10.2f} {scores['active_units']:>6} {trained:>8.0f} "
                f"{time.perf_counter() - t0 - trained:>8.0f}",
                flush=True,
            )
    print("medians over the seeds")
    for name, values in rows.items():
        m = medians(values)
        print(
            f"{name:<14} bound {m[0]:.2f}  -log p(x) {m[1]:.2f}  test -ELBO {m[2]:.2f}  active {m[3]:.0f}  train s {m[4]:.0f}"
        )


if __name__ == "__main__":
    main()
