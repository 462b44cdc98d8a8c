"""Explore clicks on a busy machine (issue 28, point 4): every click must decode, once.

    .venv/bin/python benchmarks/clicks_under_load.py [--clicks 50] [--first-clicks 20] [--before REF]

One `streamlit run app.py`, Chromium on digits-2d, and beside them a process that keeps one core spinning. Each
of `clicks` clicks lands on another spot of the map, once; it counts as dropped when the side panel has not
changed 10 s later. Click to decoded image as in explore_latency.py. Then `first-clicks` times the page is opened
afresh and a point clicked the moment the map's points are drawn, as an eager person does. With --before, the
same is run against a checkout of REF (a git worktree), the code before the change.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_common import checkouts, machine_line  # noqa: E402
from explore_latency import PANEL_STATE, POINTS  # noqa: E402  (puts tests/ on the path)

from browser import chromium_page, streamlit_server, wait_for_app_idle  # noqa: E402

DROPPED_AFTER_S = 10.0


def changed_within(page, before, seconds: float) -> bool:
    try:
        page.wait_for_function(
            f"prev => {{ const s = ({PANEL_STATE})(); return s !== null && s !== prev; }}", arg=before, timeout=seconds * 1000
        )
        return True
    except Exception:  # no new panel: the click was lost
        return False


def first_clicks_dropped(page, url: str, n: int) -> int:
    dropped = 0
    for _ in range(n):
        page.goto(url)
        page.wait_for_selector(POINTS, timeout=60_000)
        x, y = page.eval_on_selector(
            POINTS, "e => { const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }"
        )
        page.mouse.click(x, y)
        try:
            page.get_by_text("Test image #").wait_for(timeout=DROPPED_AFTER_S * 1000)
        except Exception:  # no panel for the point: the click was lost
            dropped += 1
    return dropped


def clicks_on_a_busy_machine(root: Path, n: int, first: int) -> tuple[list[float], int, int]:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        with streamlit_server(root=root) as url, chromium_page() as page:
            page.goto(url)
            page.wait_for_selector(POINTS, timeout=60_000)
            wait_for_app_idle(page)
            area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
            spots = [
                (
                    area["x"] + area["width"] * (0.1 + 0.8 * ((i * 0.37) % 1)),
                    area["y"] + area["height"] * (0.1 + 0.8 * ((i * 0.61) % 1)),
                )
                for i in range(n)
            ]
            times, dropped = [], 0
            for x, y in spots:
                before = page.evaluate(PANEL_STATE)
                t0 = time.perf_counter()
                page.mouse.click(x, y)
                if changed_within(page, before, DROPPED_AFTER_S):
                    times.append(time.perf_counter() - t0)
                else:
                    dropped += 1
                wait_for_app_idle(page, timeout=60_000)
                time.sleep(0.3)
            return times, dropped, first_clicks_dropped(page, url, first)
    finally:
        spinner.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=50)
    parser.add_argument("--first-clicks", type=int, default=20)
    parser.add_argument("--before", help="a git ref: the code to compare with")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    with checkouts(args.before) as roots:
        for name, root in roots.items():
            times, dropped, first = clicks_on_a_busy_machine(root, args.clicks, args.first_clicks)
            print(
                f"{name}: {args.clicks} clicks with one core kept busy: {dropped} dropped; click to decoded image "
                f"median {statistics.median(times) * 1000:.0f} ms (max {max(times) * 1000:.0f} ms); a click the "
                f"moment the map is drawn, on {args.first_clicks} fresh page loads: {first} dropped",
                flush=True,
            )


if __name__ == "__main__":
    main()
