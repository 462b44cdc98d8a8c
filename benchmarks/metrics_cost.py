"""What measuring the disentanglement metrics costs a default sprites run (30 epochs, 2,500 sprites, conv 20-D),
from the run's own history: the seconds spent measuring, against the run's whole time.

    python benchmarks/metrics_cost.py > benchmarks/results/metrics_cost.txt
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import ROOT, machine_line, warn_if_busy

sys.path.insert(0, str(ROOT))  # vae_core


def main() -> None:
    from vae_core import load_checkpoint

    warn_if_busy()
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sprites.pt"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "vae_core", "train", "--data", "sprites", "--out", str(out), "--quiet"], cwd=ROOT, check=True
        )
        wall = time.perf_counter() - t0
        _, meta = load_checkpoint(out)
    epochs = [e for e in meta.history if e.get("type") == "epoch"]
    measured = [e for e in epochs if "disentanglement" in e]
    cost = sum(e["disentanglement_s"] for e in measured)
    loop = epochs[-1]["elapsed_s"]
    rate = statistics.median(e["samples_per_s"] for e in meta.history if e.get("type") == "step")
    print(f"train --data sprites (defaults): {wall:.1f} s in all, {loop:.1f} s in the training loop")
    each = ", ".join(f"{e['disentanglement_s']:.2f}" for e in measured)
    print(
        f"metrics measured after {len(measured)} of {len(epochs)} epochs: {cost:.2f} s in all "
        f"({cost / loop:.1%} of the loop), each {each} s"
    )
    print(f"samples/s (median of the step events, measuring left out): {rate:,.0f}")


if __name__ == "__main__":
    main()
