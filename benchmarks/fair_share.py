"""Does the server share fairly? Explore's click latency in one session, alone and while ten other sessions
have each pressed Start on the Train page, on one server, in real Chromium.

    .venv/bin/python benchmarks/fair_share.py [--clicks 10] [--sessions 10]

The runs past the server's cap ($VAE_EXPLORER_MAX_RUNS, default half the cores) queue; the script reports
how many trained and how many waited, and the click latency medians side by side.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_common import machine_line  # noqa: E402
from explore_latency import click_latencies  # noqa: E402

from browser import CHROMIUM_FLAGS, chromium_path, fill_input, streamlit_server  # noqa: E402


def start_run(context, url: str):
    page = context.new_page()
    page.goto(f"{url}/train")
    page.get_by_role("button", name="Start training").wait_for(timeout=60_000)
    fill_input(page, "Epochs", "1000")
    page.get_by_role("button", name="Start training").click()
    return page


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    with streamlit_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        explorer = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        alone = click_latencies(explorer, url, args.clicks, "digits-2d")
        trainers = [start_run(browser.new_context(), url) for _ in range(args.sessions)]
        time.sleep(5)  # the runs start, or queue
        statuses = [page.locator("text=Status:").first.inner_text() for page in trainers]
        busy = click_latencies(explorer, url, args.clicks, "digits-2d")
        for page in trainers:  # the ten users close their tabs; their runs go on (they belong to the server)
            page.context.close()
        time.sleep(3)
        closed = click_latencies(explorer, url, args.clicks, "digits-2d")
        explorer.goto(f"{url}/train")  # and the run that trains is still training
        still = explorer.get_by_text("Your runs").count()  # a new session sees no runs of its own
        browser.close()
    training = sum("training" in s for s in statuses)
    queued = sum("queued" in s for s in statuses)
    print(machine_line())
    print(
        f"{args.sessions} sessions pressed Start: {training} training, {queued} queued, "
        f"{args.sessions - training - queued} other ({statuses})"
    )
    print(
        f"click to decoded image, alone: median {statistics.median(alone) * 1000:.0f} ms "
        f"(min {min(alone) * 1000:.0f}, max {max(alone) * 1000:.0f})"
    )
    print(
        f"click to decoded image, beside {args.sessions} started runs: median {statistics.median(busy) * 1000:.0f} ms "
        f"(min {min(busy) * 1000:.0f}, max {max(busy) * 1000:.0f}); "
        f"ratio {statistics.median(busy) / statistics.median(alone):.2f} (their ten browser tabs on this machine too)"
    )
    print(
        f"click to decoded image, the ten tabs closed, their runs going on: median "
        f"{statistics.median(closed) * 1000:.0f} ms (min {min(closed) * 1000:.0f}, max {max(closed) * 1000:.0f}); "
        f"ratio {statistics.median(closed) / statistics.median(alone):.2f}; runs listed for a new session: {still}"
    )


if __name__ == "__main__":
    main()
