"""Hover to decode on Explore: from a mouse movement to the preview drawn, and what a movement costs the page.

    .venv/bin/python benchmarks/hover_latency.py [--moves 200]

Chromium against a fresh server on the shipped digits-2d model (hover preview on, its default). The mouse
crosses the plot area on a zig-zag of `--moves` positions; for each, the page records the time from the
mousemove event to the second animation frame after it (the frame that shows the new tile), and the time the
page's own mousemove handlers take. Also counts the websocket messages the page sent meanwhile (a server
round trip per movement would be one each), and times building the grid of decodes (the sprite) in process.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from bench_common import machine_line, warn_if_busy  # noqa: E402

from browser import chromium_page, streamlit_server, wait_for_app_idle  # noqa: E402

RECORD = """() => {
  window.__lat = []; window.__handler = [];
  document.addEventListener('mousemove', (e) => {
    const t0 = performance.now(), seen = e.timeStamp;
    requestAnimationFrame(() => requestAnimationFrame(() => window.__lat.push(performance.now() - seen)));
    setTimeout(() => window.__handler.push(performance.now() - t0), 0);
  }, {capture: true});
}"""
PLOT_AREA = """() => { const gd = document.querySelector('[data-testid="stMain"] .js-plotly-plot');
    const r = gd.getBoundingClientRect(), s = gd._fullLayout._size;
    return [r.left + s.l, r.top + s.t, s.w, s.h]; }"""


def sprite_build_ms(rounds: int = 7) -> dict:
    """Median ms to build the hover grid (decode 32x32 points through the map's inverse, pack, PNG) per model."""
    from vae_core import load_checkpoint, load_dataset
    from vae_core.analysis.hover import decode_sprite
    from vae_core.analysis.latent import build_map

    data = load_dataset("digits")
    out = {}
    for name in ("digits-2d", "digits-16d"):
        model, _ = load_checkpoint(ROOT / "checkpoints" / f"{name}.pt")
        md = build_map(model, data.test_x, data.test_y, data.class_names)
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            decode_sprite(model, md)
            times.append(1000 * (time.perf_counter() - t))
        out[name] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    args = parser.parse_args()
    print(machine_line(), flush=True)
    warn_if_busy()
    with streamlit_server() as url, chromium_page() as page:
        sent = []
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(time.monotonic())))
        page.goto(url)
        page.wait_for_function("() => window.__vaeHoverState && window.__vaeHoverState.image.complete", timeout=60_000)
        wait_for_app_idle(page)
        time.sleep(1)
        left, top, width, height = page.evaluate(PLOT_AREA)
        page.evaluate(RECORD)
        before = len(sent)
        for k in range(args.moves):
            x = left + width * (0.05 + 0.9 * (k % 20) / 19)
            y = top + height * (0.05 + 0.9 * ((k // 20) % 10) / 9)
            page.mouse.move(x, y)
            time.sleep(0.02)
        time.sleep(0.5)
        latency, handler = page.evaluate("window.__lat"), page.evaluate("window.__handler")
        messages = len(sent) - before
    q = statistics.quantiles(latency, n=10)
    print(
        f"mousemove to the frame showing the tile: median {statistics.median(latency):.1f} ms, 90th percentile "
        f"{q[-1]:.1f} ms ({len(latency)} moves); the page's mousemove handlers: median "
        f"{statistics.median(handler):.2f} ms; websocket messages sent during the moves: {messages}"
    )
    for name, ms in sprite_build_ms().items():
        print(f"building the hover grid (32x32 decodes, packed, PNG) for {name}: median {ms:.0f} ms")


if __name__ == "__main__":
    main()
