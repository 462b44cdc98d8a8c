"""Explore page responsiveness in a real browser: cold start to a drawn map, click to decoded image.

    .venv/bin/python benchmarks/explore_latency.py [--runs 3] [--clicks 10] [--checkpoint digits-2d]

Cold start: from launching `streamlit run app.py` to the data points drawn in Chromium (fresh server
each run). Click: from the mouse click to the new decoded image displayed (text updated, image
decoded by the browser, script finished), alternating between spots across the map.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import chromium_page, select_checkpoint, streamlit_server, wait_for_app_idle  # noqa: E402

POINTS = ".js-plotly-plot .scatterlayer .trace .point, .js-plotly-plot .gl-container canvas"

PANEL_STATE = """() => {
  const md = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
      .map(e => e.innerText).find(t => t.startsWith('Decoded at') || t.startsWith('Test image'));
  const imgs = [...document.querySelectorAll('[data-testid="stImage"] img')];
  const ready = imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)
      && !document.querySelector('[data-testid="stStatusWidget"]');
  return ready ? (md || '') : null;
}"""


def cold_start(page) -> float:
    t0 = time.perf_counter()
    with streamlit_server() as url:
        page.goto(url)
        page.wait_for_selector(POINTS, timeout=60_000)
        return time.perf_counter() - t0


def click_latencies(page, url: str, n: int, checkpoint: str) -> list[float]:
    page.goto(url)
    page.wait_for_selector(POINTS, timeout=60_000)
    wait_for_app_idle(page)
    select_checkpoint(page, checkpoint)
    area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    spots = [
        (
            area["x"] + area["width"] * (0.15 + 0.7 * ((i * 0.37) % 1)),
            area["y"] + area["height"] * (0.15 + 0.7 * ((i * 0.61) % 1)),
        )
        for i in range(n + 1)
    ]
    times = []
    for i, (x, y) in enumerate(spots):
        before = page.evaluate(PANEL_STATE)
        t0 = time.perf_counter()
        page.mouse.click(x, y)
        page.wait_for_function(
            f"prev => {{ const s = ({PANEL_STATE})(); return s !== null && s !== prev; }}", arg=before, timeout=30_000
        )
        if i > 0:  # the first click also warms caches for the decoded panel
            times.append(time.perf_counter() - t0)
        time.sleep(0.3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--checkpoint", default="digits-2d")
    args = parser.parse_args()
    with chromium_page() as page:
        colds = [cold_start(page) for _ in range(args.runs)]
        with streamlit_server() as url:
            clicks = click_latencies(page, url, args.clicks, args.checkpoint)
    print(
        f"cold start to drawn map: median {statistics.median(colds):.2f} s over {len(colds)} runs "
        f"({', '.join(f'{c:.2f}' for c in colds)})"
    )
    print(
        f"click to decoded image ({args.checkpoint}): median {statistics.median(clicks) * 1000:.0f} ms over "
        f"{len(clicks)} clicks (min {min(clicks) * 1000:.0f}, max {max(clicks) * 1000:.0f})"
    )


if __name__ == "__main__":
    main()
