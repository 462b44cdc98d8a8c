"""The CLI's throughput at 1 and 2 torch threads, alone and beside a synthetic load that takes a share of one core,
alternating: how much of torch's second thread survives another process, such as a browser drawing a live page.

    .venv/bin/python benchmarks/threads_under_load.py [--rounds 2] [--epochs 60]

Each load is a process that spins for BUSY ms every PERIOD ms (its share of a core is BUSY / PERIOD): "bursty"
loads spin for tens of ms twice a second, as the Train page's polls do; "fine" loads wake every few ms.
"2 bound" pins torch's two threads to distinct cores (OMP_PROC_BIND=true, OMP_PLACES=cores). Throughput as in
train_overhead.py: training images over training-loop time (digits, mlp, latent_dim 2, batch 128, seed 0, CPU).
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_common import machine_line  # noqa: E402
from train_overhead import cli_run  # noqa: E402

LOADS = {
    "none": None,
    "bursty 15/500 ms (3%)": (15, 500),
    "bursty 30/500 ms (6%)": (30, 500),
    "bursty 90/500 ms (18%)": (90, 500),
    "fine 1/5.5 ms (18%)": (1, 5.5),
}
THREADS = {
    "1": {"OMP_NUM_THREADS": "1"},
    "2": {"OMP_NUM_THREADS": "2"},
    "2 bound": {"OMP_NUM_THREADS": "2", "OMP_PROC_BIND": "true", "OMP_PLACES": "cores"},
}


# The load: busy for BUSY ms, asleep for the rest of each PERIOD, forever (a bare interpreter, no torch to import).
SPIN = """
import sys, time
busy, period = float(sys.argv[1]) / 1000, float(sys.argv[2]) / 1000
while True:
    start = time.perf_counter()
    while time.perf_counter() - start < busy:
        pass
    time.sleep(period - busy)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()
    print(machine_line(), flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    rates: dict = {}
    for i in range(args.rounds):
        for load_name, load in LOADS.items():
            spinner = subprocess.Popen([sys.executable, "-c", SPIN, *map(str, load)]) if load else None
            try:
                for threads, env in THREADS.items():
                    name = f"run{sum(map(len, rates.values()))}"  # one checkpoint per run
                    rates.setdefault((load_name, threads), []).append(cli_run(folder / f"{name}.pt", args.epochs, env=env))
            finally:
                if spinner:
                    spinner.kill()
            print(
                f"round {i}, load {load_name}: " + ", ".join(f"{t} thread(s) {rates[load_name, t][-1]:,.0f}" for t in THREADS),
                flush=True,
            )
    alone = statistics.median(rates["none", "1"])
    print("median samples/s (and against 1 thread with no load):")
    for load_name in LOADS:
        print(
            f"  {load_name}: "
            + ", ".join(
                f"{t} thread(s) {statistics.median(rates[load_name, t]):,.0f} "
                f"({statistics.median(rates[load_name, t]) / alone:.2f})"
                for t in THREADS
            )
        )


if __name__ == "__main__":
    main()
