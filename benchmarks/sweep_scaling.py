"""Wall time of one beta sweep with 1 and 2 local workers and on a local Ray instance, side by side.

    .venv/bin/python benchmarks/sweep_scaling.py [--rounds 2] [--epochs 30]

The same grid (digits, 6 betas x 2 seeds) through `python -m vae_core sweep`, each way once per round, the
ways alternating so that a busy moment of the machine does not fall on one of them only. Each run starts
from an empty folder. Reports the median wall time per way and its speed-up over one worker.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench_common import ROOT, machine_line, warn_if_busy  # noqa: E402

BETAS, SEEDS = "0.25,0.5,1,2,4,8", "0,1"
WAYS = {"1 local worker": ["--workers", "1"], "2 local workers": ["--workers", "2"], "Ray, local": ["--ray", "local"]}


def one_sweep(options: list[str], epochs: int) -> tuple[float, list[dict]]:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "vae_core",
                "sweep",
                "--betas",
                BETAS,
                "--seeds",
                SEEDS,
                "--epochs",
                str(epochs),
                "--out-dir",
                out,
                "--json",
                "--quiet",
                *options,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return wall, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    warn_if_busy()
    machine = machine_line()
    walls = {way: [] for way in WAYS}
    for r in range(args.rounds):
        for way, options in WAYS.items():
            wall, rows = one_sweep(options, args.epochs)
            walls[way].append(wall)
            print(f"round {r + 1}: {way}: {wall:.1f} s ({len(rows)} runs)", flush=True)
    base = statistics.median(walls["1 local worker"])
    lines = [
        f"{machine}\n",
        f"`python benchmarks/sweep_scaling.py --rounds {args.rounds} --epochs {args.epochs}`: "
        f"digits, betas {BETAS} x seeds {SEEDS} (12 runs), {args.epochs} epochs each.\n",
        "| way | wall time, median (s) | rounds (s) | speed-up over 1 worker |",
        "| --- | --- | --- | --- |",
    ]
    for way, values in walls.items():
        median = statistics.median(values)
        lines.append(f"| {way} | {median:.1f} | {', '.join(f'{v:.1f}' for v in values)} | {base / median:.2f}x |")
    text = "\n".join(lines)
    (HERE / "results" / "sweep_scaling.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
