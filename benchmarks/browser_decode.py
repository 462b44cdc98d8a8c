"""Explore clicks and hovers decoded in the page (onnxruntime-web) against the server's decodes (issue 38, point 5).

    .venv/bin/python benchmarks/browser_decode.py [--clicks 30] [--hovers 30] [--busy 0 2] [--checkpoints digits-2d digits-16d]
        [--folder DIR] [--free]

--folder: the checkpoints folder the app lists ($VAE_EXPLORER_CHECKPOINTS), for models beyond the shipped two: a
conv model on 28x28 images, an imported ONNX folder. --free: click only away from the dots (free clicks, which the
page keeps to itself once its panel shows a free point); else the clicks also hit dots, which only the server shows.

For each checkpoint, each number of busy processes beside the server (processes that keep a core spinning), and
each path: "page" (the runtime's files in static/onnxruntime-web) and "server" ($VAE_EXPLORER_ORT_DIR pointed at
an empty folder, so the server decodes as before). Times are taken inside the page (performance.now): from the
pointerup of a click to its decoded image shown (the page's canvas gets data-vae-decoded, or the server's image
is loaded); from a mousemove to the hover preview drawn for it. The server's CPU seconds (user + system, from
/proc) are counted over the clicks and given per 100 clicks.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_common import machine_line  # noqa: E402
from explore_latency import POINTS  # noqa: E402  (puts tests/ on the path)

from browser import chromium_page, select_checkpoint, streamlit_process, wait_for_app_idle  # noqa: E402

# pointerup (window, capture: before the app's own listeners) -> the click's image on screen, whichever path drew it:
# the page's canvas gets its data-vae-decoded (a MutationObserver), or the server's new image has loaded (a load
# event). Event-driven, so the timing itself adds no layout work to the page.
CLICK_TIMER = """() => {
  window.__bench = {times: [], t0: null};
  const done = () => {
    if (window.__bench.t0 === null) return;
    window.__bench.times.push(performance.now() - window.__bench.t0);
    window.__bench.t0 = null;
  };
  window.addEventListener('pointerup', () => { window.__bench.t0 = performance.now(); }, true);
  new MutationObserver(done).observe(document.body, {attributes: true, subtree: true, attributeFilter: ['data-vae-decoded']});
  document.addEventListener('load', (e) => {
    const box = e.target.closest && e.target.closest('[data-testid="stImage"]');
    if (box && box.innerText.includes('decoded image')) done();
  }, true);
  // a tight poll that does not wait for the next frame (a MessageChannel task per check), for the hover timer
  const channel = new MessageChannel(); let queued = null;
  channel.port1.onmessage = () => { const f = queued; queued = null; if (f) f(); };
  window.__benchPoll = (f) => { queued = f; channel.port2.postMessage(0); };
}"""

# mousemove -> window.__vaeHover set for it (hover.js sets it right after drawing the preview)
HOVER_TIMER = """([x, y]) => new Promise((resolve) => {
  window.__vaeHover = null;
  const t0 = performance.now();
  const check = () => {
    if (window.__vaeHover) return resolve({ms: performance.now() - t0, exact: !!window.__vaeHover.exact});
    if (performance.now() - t0 > 10000) return resolve(null);
    window.__benchPoll(check);
  };
  const target = document.elementFromPoint(x, y);
  target.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true}));
  window.__benchPoll(check);
})"""


# the spots (page pixels) at least twice the click radius (1.5% of the shown map's size, ui.geometry.click_radius)
# from every data point: free clicks, which the page may keep to itself
FREE_SPOTS = """(spots) => {
  const gd = document.querySelector('[data-testid="stMain"] .js-plotly-plot'), l = gd._fullLayout;
  const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  const [x0, x1] = l.xaxis.range, [y0, y1] = l.yaxis.range, r = 2 * 0.015 * Math.max(x1 - x0, y1 - y0);
  const dots = gd._fullData.filter((t) => t.customdata);
  return spots.filter(([px, py]) => {
    const x = l.xaxis.p2c(px - box.x), y = l.yaxis.p2c(py - box.y);
    return dots.every((t) => Array.from(t.x).every((u, i) => (u - x) ** 2 + (t.y[i] - y) ** 2 > r * r));
  });
}"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime, stime in clock ticks (100 a second on Linux)


def spots(area: dict, n: int, seed: float) -> list[tuple[float, float]]:
    return [
        (
            area["x"] + area["width"] * (0.12 + 0.76 * ((i * 0.37 + seed) % 1)),
            area["y"] + area["height"] * (0.12 + 0.76 * ((i * 0.61 + seed) % 1)),
        )
        for i in range(n)
    ]


def measure(checkpoint: str, path: str, clicks: int, hovers: int, folder: str | None = None, free: bool = False) -> dict:
    env = {"VAE_EXPLORER_CHECKPOINTS": folder} if folder else {}
    if path == "server":
        env["VAE_EXPLORER_ORT_DIR"] = tempfile.mkdtemp(prefix="no-ort-")
    with streamlit_process(env) as (url, proc), chromium_page() as page:
        page.goto(url)
        page.wait_for_selector(POINTS, timeout=60_000)
        wait_for_app_idle(page)
        select_checkpoint(page, checkpoint)
        if path == "page":
            page.wait_for_function("() => window.__vaeDecoder && window.__vaeDecoder.ready", timeout=60_000)
        page.wait_for_function("() => window.__vaeHoverState && window.__vaeHoverState.image.complete", timeout=60_000)
        wait_for_app_idle(page)
        page.evaluate(CLICK_TIMER)
        area = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
        cpu0 = cpu_seconds(proc.pid)
        chosen = spots(area, clicks + 1, 0.0)
        if free:  # only spots away from the dots: more candidates, the first clicks + 1 of them kept
            chosen = page.evaluate(FREE_SPOTS, spots(area, 20 * (clicks + 1), 0.0))[: clicks + 1]
        for x, y in chosen:  # the first click warms the panel's caches
            page.mouse.click(x, y)
            page.wait_for_function("n => window.__bench.times.length >= n", arg=1, timeout=60_000)
            wait_for_app_idle(page, timeout=60_000)
            time.sleep(0.2)
        cpu = cpu_seconds(proc.pid) - cpu0
        times = page.evaluate("() => window.__bench.times")[1:]
        # clicks the server heard of (selection.js numbers those it sends): a click on a dot, or a free click while the
        # panel showed no free point; the others stayed in the page
        told = page.evaluate("() => window.__vaeClickNumber || 0")
        hover = [page.evaluate(HOVER_TIMER, [x, y]) for x, y in spots(area, hovers, 0.5)]
        hover_ms = [h["ms"] for h in hover if h]
        return dict(
            click_ms=statistics.median(times),
            click_max=max(times),
            told=told,
            cpu_per_100=cpu / (clicks + 1) * 100,
            hover_ms=statistics.median(hover_ms) if hover_ms else float("nan"),
            exact=sum(bool(h and h["exact"]) for h in hover),
            hovers=len(hover),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--hovers", type=int, default=30)
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--checkpoints", nargs="+", default=["digits-2d", "digits-16d"])
    parser.add_argument("--folder", help="the checkpoints folder the app lists (default: checkpoints/)")
    parser.add_argument("--free", action="store_true", help="click only away from the dots: free clicks")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    for busy in args.busy:
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            for checkpoint in args.checkpoints:
                for path in ("page", "server"):
                    r = measure(checkpoint, path, args.clicks, args.hovers, args.folder, args.free)
                    print(
                        f"{checkpoint}, {busy} busy, decoded by the {path}: click to image median {r['click_ms']:.1f} ms "
                        f"(max {r['click_max']:.0f} ms) over {args.clicks} {'free ' if args.free else ''}clicks, "
                        f"{r['told']} of {args.clicks + 1} sent "
                        f"to the server; server CPU {r['cpu_per_100']:.1f} s "
                        f"per 100 clicks; hover to preview median {r['hover_ms']:.1f} ms "
                        f"({r['exact']} of {r['hovers']} exact decodes)",
                        flush=True,
                    )
        finally:
            for spinner in spinners:
                spinner.kill()


if __name__ == "__main__":
    main()
