"""A β sweep on the sprites with the default model: MIG, DCI and reconstruction per β, medians over seeds, how
long it took; and how long all the metrics take together on 10,000 codes.

    python benchmarks/disentanglement_sweep.py --out-dir /tmp/sprites-sweep > benchmarks/results/disentanglement_sweep.txt
    python benchmarks/disentanglement_sweep.py --out-dir /tmp/sprites-long --image-size 32 --sprites-n 20000 \
        --seeds 0 --codes 0 > benchmarks/results/disentanglement_sweep_longer.txt

The sweep is `python -m vae_core sweep --data sprites` itself (local processes); each checkpoint's metrics are
the ones its save measured on the 500 held-out sprites. Runs already in --out-dir are not trained again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
from bench_common import ROOT, machine_line, warn_if_busy

sys.path.insert(0, str(ROOT))  # vae_core, for timing the metrics here

COLUMNS = (
    ("mig", "MIG"),
    ("dci_disentanglement", "DCI D"),
    ("dci_completeness", "DCI C"),
    ("dci_informativeness", "DCI I"),
    ("sap", "SAP"),
    ("factorvae", "FactorVAE"),
    ("test_recon", "recon"),
    ("test_kl", "KL"),
)


def run_sweep(args) -> tuple[list[dict], float]:
    command = [
        sys.executable,
        "-m",
        "vae_core",
        "sweep",
        "--data",
        "sprites",
        "--betas",
        args.betas,
        "--seeds",
        args.seeds,
        "--out-dir",
        args.out_dir,
        "--workers",
        str(args.workers),
        "--json",
        "--quiet",
        "--image-size",
        str(args.image_size),
        "--sprites-n",
        str(args.sprites_n),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout), time.perf_counter() - t0


def table(rows: list[dict]) -> str:
    lines = [f"{'β':>5} {'runs':>4} " + " ".join(f"{title:>17}" for _, title in COLUMNS)]
    for beta in sorted({r["beta"] for r in rows}):
        runs = [r for r in rows if r["beta"] == beta and r["status"] != "failed"]
        cells = []
        for key, _ in COLUMNS:
            v = np.array([r[key] for r in runs])
            cells.append(
                f"{np.median(v):7.3f} [{v.min():.2f},{v.max():.2f}]"
                if key not in ("test_recon", "test_kl")
                else f"{np.median(v):7.1f} [{v.min():.0f},{v.max():.0f}]"
            )
        lines.append(f"{beta:>5g} {len(runs):>4} " + " ".join(f"{c:>17}" for c in cells))
    return "\n".join(lines)


def time_metrics(checkpoint: str, n_codes: int, repeats: int) -> list[float]:
    """Seconds for all metrics on n_codes held-out sprites' codes from this checkpoint's encoder."""
    from vae_core import load_checkpoint, load_dataset
    from vae_core.analysis.latent import encode_means
    from vae_core.stats.metrics import all_metrics

    model, meta = load_checkpoint(checkpoint)
    data = load_dataset("sprites", sprites_n=5 * n_codes, split_seed=1)  # another draw: its test part is n_codes
    codes, _ = encode_means(model, data.test_x)
    times = []
    for seed in range(repeats):
        t0 = time.perf_counter()
        all_metrics(codes, data.factors.test, categorical=(0,), seed=seed)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", required=True)
    p.add_argument("--betas", default="1,4,16")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--sprites-n", type=int, default=2500)
    p.add_argument("--codes", type=int, default=10_000, help="codes to time all metrics on (0: skip)")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    warn_if_busy()
    print(machine_line())
    rows, seconds = run_sweep(args)
    trained = sum(r["status"] == "trained" for r in rows)
    n_test = round(args.sprites_n * 0.2)
    print(
        f"sweep: {len(rows)} runs ({trained} trained now) in {seconds:.0f} s with {args.workers} workers; default "
        f"model (conv, 20-D), 30 epochs, {args.sprites_n:,} sprites ({args.sprites_n - n_test:,} train, "
        f"{n_test:,} test), {args.image_size}x{args.image_size}"
    )
    print("per β: median over seeds [lowest, highest]; recon and KL in nats per image")
    print(table(rows))
    if not args.codes:
        return
    times = time_metrics(rows[0]["path"], args.codes, args.repeats)
    print(
        f"all metrics on {args.codes:,} codes: median {np.median(times):.2f} s of {len(times)} "
        f"({', '.join(f'{t:.2f}' for t in times)})"
    )


if __name__ == "__main__":
    main()
