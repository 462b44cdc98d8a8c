"""The collapse doctor's remedies on a model that collapses (issue 25, points 3 and 4): the shipped digits-16d run
(a 16-D MLP on sklearn's digits, 300 epochs), trained again as it was and with each remedy the doctor offers, plus
free bits 0.25; the same epochs and seeds. Each is scored on the 359 test digits as the doctor's table scores it:
active units, collapsed dimensions (KL under 0.01 nats), I(x; z) on 256 test images, the test -ELBO and the
IWAE-100 bound on -log p(x).

    python benchmarks/doctor.py > benchmarks/results/doctor.txt
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from bench_common import ROOT, machine_line, medians, warn_if_busy

from vae_core.data.datasets import load_data
from vae_core.training.build import build_model

sys.path.insert(0, str(ROOT))  # vae_core


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args()
    from vae_core import evaluate, load_checkpoint, train
    from vae_core.analysis.doctor import collapsed_dimensions, original_spec, remedies
    from vae_core.model.bounds import iwae_nll

    warn_if_busy()
    print(machine_line())
    spec = original_spec(load_checkpoint(ROOT / "checkpoints" / "digits-16d.pt")[1])
    data = load_data(spec.data)
    runs = [("original", spec.train), ("free bits 0.25", replace(spec.train, free_bits=0.25))]
    runs += [(remedy.change, config) for remedy, config in remedies(spec.train)]
    print(
        f"digits-16d's run: {spec.model.arch} {spec.model.latent_dim}-D, {spec.train.epochs} epochs, β "
        f"{spec.train.beta:g}; {len(data.train_x)} train / {len(data.test_x)} test digits; seeds {args.seeds}"
    )
    print(
        f"{'run':<40} {'seed':>4} {'active':>6} {'collapsed':>9} {'I(x;z)':>7} {'test -ELBO':>10} {'IWAE-100':>9} "
        f"{'train s':>8}"
    )
    rows = {}
    for name, config in runs:
        for seed in args.seeds:
            run = replace(spec, train=replace(config, seed=seed))
            model = build_model(run, data)
            t0 = time.perf_counter()
            for _ in train(model, data, run.train):
                pass
            seconds = time.perf_counter() - t0
            model.eval()
            scores = evaluate(model, data.test_x, seed=0)
            collapsed = len(collapsed_dimensions(scores["kl_per_dim"]))
            nll = iwae_nll(model, data.test_x, k=100)
            row = (scores["active_units"], collapsed, scores["mutual_info"], scores["test_loss"], nll, seconds)
            rows.setdefault(name, []).append(row)
            print(
                f"{name:<40} {seed:>4} {row[0]:>6} {row[1]:>9} {row[2]:>7.2f} {row[3]:>10.2f} {row[4]:>9.2f} {row[5]:>8.1f}",
                flush=True,
            )
    print("medians over the seeds")
    for name, values in rows.items():
        m = medians(values)
        print(
            f"{name:<40} active {m[0]:.0f}  collapsed {m[1]:.0f}  I(x;z) {m[2]:.2f}  test -ELBO {m[3]:.2f}  "
            f"IWAE-100 {m[4]:.2f}  train s {m[5]:.1f}"
        )


if __name__ == "__main__":
    main()
