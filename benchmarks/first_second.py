"""Where a user waits, each as a ratio or figure measured side by side in one run (issue 16):

    .venv/bin/python benchmarks/first_second.py [--parts cold,first-run,clicks,scale] [--rounds 5]

cold       `streamlit run app.py` to the Explore map drawn in Chromium, against a bare Streamlit page with
           one plotly scatter of as many points (benchmarks/bare_map_page.py); a fresh server each time,
           the two alternating.
first-run  a fresh server, the Train page opened, Start clicked as soon as it shows (or --think seconds
           later): seconds from the click to the first points of the live curves drawn.
clicks     click on the digits-2d map to the decoded image shown (explore_latency.click_latencies).
scale      Explore cold render (fresh server, the map drawn) of a model whose test split is 60k images
           against one of 1k (scaling.map_checkpoint's folders of MNIST t10k with pixel shifts), alternating;
           each model is opened once before timing (vae_core.store.map_cache.build), so the decoded folder and
           the map are cached on disk, as they are for anyone who opened that model before.

Train throughput, page against CLI, is benchmarks/train_overhead.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from bench_common import machine_line, warn_if_busy  # noqa: E402
from explore_latency import POINTS, click_latencies  # noqa: E402  (puts tests/ on the path)

from browser import chromium_page, streamlit_server  # noqa: E402
from vae_core.data.datasets import load_data  # noqa: E402

BARE_PAGE = "benchmarks/bare_map_page.py"
# the live curves with at least one point: the canvas that draws them while training (ui/live_curves.py), or
# Plotly's figure (7 traces and more) of a run already over; not the empty axes shown before a run
CURVE_POINTS = """() => {
  const canvas = document.querySelector('canvas[data-vae-curves]');
  return (canvas && Number(canvas.dataset.steps) > 0) || [...document.querySelectorAll('.js-plotly-plot')].some(
    g => g.data && g.data.length >= 7 && g.data[0].x && g.data[0].x.length > 0);
}"""


def drawn_after_launch(page, script: str = "app.py", env: dict | None = None, path: str = "") -> float:
    """Seconds from launching a fresh server to its map's points drawn in the browser."""
    t0 = time.perf_counter()
    with streamlit_server(env=env, script=script, timeout=600) as url:
        page.goto(url + path)
        page.wait_for_selector(POINTS, timeout=600_000)
        return time.perf_counter() - t0


def default_map_size() -> int:
    from vae_core import load_checkpoint

    _, meta = load_checkpoint(HERE.parent / "checkpoints" / "digits-2d.pt")
    return len(load_data(meta.data_options).test_x)


def cold(page, rounds: int) -> None:
    n = default_map_size()
    app, bare = [], []
    for _ in range(rounds):
        bare.append(drawn_after_launch(page, BARE_PAGE, env={"BARE_POINTS": str(n)}))
        app.append(drawn_after_launch(page))
        print(f"  bare {bare[-1]:.2f} s, app {app[-1]:.2f} s", flush=True)
    ratio = statistics.median(app) / statistics.median(bare)
    print(
        f"cold start to the drawn map ({n} points): app median {statistics.median(app):.2f} s "
        f"({_list(app)}), bare plotly page {statistics.median(bare):.2f} s ({_list(bare)}): "
        f"ratio {ratio:.2f}",
        flush=True,
    )


def first_run(page, rounds: int, think: float = 0.0) -> None:
    """Click on Start (on a fresh server, `think` seconds after the page shows it) to the first curve points."""
    times = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as ckpts, streamlit_server(env={"VAE_EXPLORER_CHECKPOINTS": ckpts}) as url:
            page.goto(f"{url}/train")
            start = page.get_by_role("button", name="Start training")
            start.wait_for(timeout=60_000)
            time.sleep(think)
            t0 = time.perf_counter()
            start.click()
            page.wait_for_function(CURVE_POINTS, timeout=120_000)
            times.append(time.perf_counter() - t0)
            print(f"  first run: {times[-1]:.2f} s", flush=True)
    print(
        f"fresh server, Start clicked {think:g} s after it shows, to the first curve points: "
        f"median {statistics.median(times):.2f} s "
        f"({_list(times)})",
        flush=True,
    )


def clicks(page, n: int) -> None:
    with streamlit_server() as url:
        times = click_latencies(page, url, n, "digits-2d")
    print(
        f"click to decoded image (digits-2d): median {statistics.median(times) * 1000:.0f} ms over {len(times)} "
        f"clicks (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})",
        flush=True,
    )


def scale(page, rounds: int) -> None:
    from bench_common import source_images
    from scaling import map_checkpoint

    from vae_core.analysis.cached_map import build

    images, labels, description = source_images()
    renders = {}
    with tempfile.TemporaryDirectory(prefix="first-second-") as tmp:
        folders = {}
        for n in (1000, 60000):
            folders[n], _ = map_checkpoint(images, labels, n, Path(tmp))
            build(folders[n] / f"map-{n}.pt")  # its decoded-folder and map caches, as after any earlier visit
            renders[n] = []
        for _ in range(rounds):
            for n in renders:
                renders[n].append(drawn_after_launch(page, env={"VAE_EXPLORER_CHECKPOINTS": str(folders[n])}))
                print(f"  {n:,} points: {renders[n][-1]:.2f} s", flush=True)
    small, large = statistics.median(renders[1000]), statistics.median(renders[60000])
    print(
        f"Explore cold render ({description}): 60k points median {large:.2f} s ({_list(renders[60000])}), "
        f"1k points {small:.2f} s ({_list(renders[1000])}): ratio {large / small:.2f}",
        flush=True,
    )


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="cold,first-run,clicks,scale")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.0, help="first-run: seconds before Start is clicked")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    warn_if_busy()
    parts = args.parts.split(",")
    with chromium_page() as page:
        if "cold" in parts:
            cold(page, args.rounds)
        if "first-run" in parts:
            first_run(page, args.rounds, args.think)
        if "clicks" in parts:
            clicks(page, args.clicks)
        if "scale" in parts:
            scale(page, args.rounds)


if __name__ == "__main__":
    main()
