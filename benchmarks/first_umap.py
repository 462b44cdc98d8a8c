"""The first UMAP map on a fresh server (issue 24, point 5): from the click on "UMAP" to the map drawn.

    .venv/bin/python benchmarks/first_umap.py [--rounds 3] [--think 8] [--before REF]

Each round starts a fresh `streamlit run app.py` with an empty map cache, opens digits-16d (359 test images) in
Chromium, waits `think` seconds on its PCA map as a person reads it (0: clicks as soon as the page is idle), clicks
UMAP and times until the UMAP map is drawn. With --before, the same rounds run, alternating, against a checkout
of REF (a git worktree), the code before the change. --cold-numba gives every server an empty numba disk cache,
as on a machine where umap-learn was just installed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from bench_common import checkouts, machine_line, warn_if_busy  # noqa: E402

from browser import chromium_page, streamlit_server, wait_for_app_idle  # noqa: E402

UMAP_DRAWN = "() => (document.querySelector('.js-plotly-plot .xtitle') || {}).textContent === 'UMAP 1'"


def first_umap_seconds(root: Path, think: float, cold_numba: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"VAE_EXPLORER_CACHE": str(Path(tmp) / "cache")}
        if cold_numba:
            env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")
        with streamlit_server(env=env, root=root) as url, chromium_page() as page:
            page.goto(f"{url}/?model=digits-16d")
            page.wait_for_selector(".js-plotly-plot .scatterlayer .point", timeout=120_000)
            wait_for_app_idle(page, timeout=120_000)
            time.sleep(think)
            start = time.perf_counter()
            page.get_by_role("radio", name="UMAP").click()
            page.wait_for_function(UMAP_DRAWN, timeout=300_000, polling=50)
            return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--think", type=float, default=8.0)
    parser.add_argument("--before", help="a git ref: the code to compare with, run alternately")
    parser.add_argument("--cold-numba", action="store_true")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    warn_if_busy()
    with checkouts(args.before) as roots:
        times: dict[str, list[float]] = {name: [] for name in roots}
        for i in range(args.rounds):
            for name, root in roots.items():
                seconds = first_umap_seconds(root, args.think, args.cold_numba)
                times[name].append(seconds)
                print(f"  round {i + 1} {name}: click on UMAP to map drawn {seconds:.2f} s", flush=True)
        numba = "empty numba disk cache" if args.cold_numba else "numba disk cache filled"
        for name, values in times.items():
            print(
                f"{name}: first UMAP on a fresh server, {args.think:g} s on the PCA map first, {numba}: median "
                f"{statistics.median(values):.2f} s ({', '.join(f'{v:.2f}' for v in values)})",
                flush=True,
            )
        if args.before:
            ratio = statistics.median(times["now"]) / statistics.median(times["before"])
            print(f"ratio now / before: {ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
