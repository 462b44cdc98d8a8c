"""Click-to-image and hover-to-preview times of the notebook widget (vae_explorer.Explorer in JupyterLab), beside the
app's Explore page on the same model (issue 39).

    .venv/bin/python benchmarks/notebook_latency.py [--clicks 20] [--hovers 30] [--checkpoint digits-2d] [--no-app]

The notebook: JupyterLab on 127.0.0.1 (tests/test_browser_notebook.py's server), the example notebook run, then
clicks and hovers on its first map, the shipped checkpoint. A click is timed inside the page (performance.now) from
its pointerup to the kernel's images in the page (the panel's data-vae-decoded changes); a hover from the
pointermove to the sprite's tile drawn (the preview's data-tile changes). The app: benchmarks/browser_decode.py's
measure, decoded by the server and by the page.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from bench_common import machine_line  # noqa: E402
from browser_decode import measure  # noqa: E402

from browser import chromium_page  # noqa: E402
from test_browser_notebook import TOKEN, jupyter_lab, plot_point, run_all  # noqa: E402

# pointerup -> data-vae-decoded changed (the kernel's images set in the page); pointermove -> data-tile changed
TIMERS = """() => {
  window.__bench = {clicks: [], hovers: [], up: null, move: null};
  window.addEventListener('pointerup', () => { window.__bench.up = performance.now(); }, true);
  window.addEventListener('pointermove', () => { window.__bench.move = performance.now(); }, true);
  new MutationObserver((changes) => changes.forEach((c) => {
    const b = window.__bench, now = performance.now();
    if (c.attributeName === 'data-vae-decoded' && b.up !== null) { b.clicks.push(now - b.up); b.up = null; }
    if (c.attributeName === 'data-tile' && b.move !== null) { b.hovers.push(now - b.move); b.move = null; }
  })).observe(document.body, {attributes: true, subtree: true, attributeFilter: ['data-vae-decoded', 'data-tile']});
}"""


def spots(n: int, seed: float) -> list[tuple[float, float]]:
    """n map fractions spread over the plot area, as browser_decode.spots."""
    return [(0.12 + 0.76 * ((i * 0.37 + seed) % 1), 0.12 + 0.76 * ((i * 0.61 + seed) % 1)) for i in range(n)]


def notebook(clicks: int, hovers: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="nb-bench-"))
    (folder / "examples").mkdir()
    shutil.copy(HERE.parent / "examples" / "explore.ipynb", folder / "examples")
    (folder / "checkpoints").symlink_to(HERE.parent / "checkpoints")
    with jupyter_lab(folder) as url, chromium_page() as page:
        page.goto(f"{url}/lab/tree/examples/explore.ipynb?token={TOKEN}")
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
        run_all(page)
        page.locator('.vae-monitor canvas[data-vae-chart][data-epoch="5"]').wait_for(timeout=180_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()  # the last cell done: the kernel only answers clicks
        canvas = page.locator("canvas[data-vae-map]").first
        canvas.scroll_into_view_if_needed()
        page.evaluate(TIMERS)
        for i, (fx, fy) in enumerate(spots(clicks + 1, 0.0)):  # the first click warms the kernel's code paths
            page.mouse.click(*plot_point(page, canvas, fx, fy))
            page.wait_for_function("n => window.__bench.clicks.length >= n", arg=i + 1, timeout=60_000)
            time.sleep(0.2)
        page.evaluate("() => { window.__bench.hovers = []; window.__bench.move = null; }")  # not the clicks' moves
        for i, (fx, fy) in enumerate(spots(hovers, 0.5)):
            page.mouse.move(*plot_point(page, canvas, fx, fy))
            page.wait_for_function("n => window.__bench.hovers.length >= n", arg=i + 1, timeout=10_000)
        bench = page.evaluate("() => window.__bench")
    return dict(click_ms=bench["clicks"][1:], hover_ms=bench["hovers"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--hovers", type=int, default=30)
    parser.add_argument("--checkpoint", default="digits-2d")
    parser.add_argument("--no-app", action="store_true", help="the notebook only")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    r = notebook(args.clicks, args.hovers)
    print(
        f"notebook (JupyterLab, {args.checkpoint}, decoded in the kernel): click to image median "
        f"{statistics.median(r['click_ms']):.1f} ms (max {max(r['click_ms']):.0f} ms) over {len(r['click_ms'])} clicks; "
        f"hover to preview median {statistics.median(r['hover_ms']):.1f} ms over {len(r['hover_ms'])} moves",
        flush=True,
    )
    for path in () if args.no_app else ("server", "page"):
        a = measure(args.checkpoint, path, args.clicks, args.hovers)
        print(
            f"app (Explore, {args.checkpoint}, decoded by the {path}): click to image median {a['click_ms']:.1f} ms "
            f"(max {a['click_max']:.0f} ms) over {args.clicks} clicks; hover to preview median {a['hover_ms']:.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
