"""Where the CPU goes while a run trains with the Train page open in Chromium: the server, the training process,
and Chromium's processes, from /proc; and the page's own main-thread time (Chrome DevTools Performance metrics).

    .venv/bin/python benchmarks/live_page_cpu.py [--rounds 3] [--seconds 8] [--tree PATH ...]

Each round starts a digits run of 1000 epochs from the page, waits 4 s, samples for --seconds, then stops it.
--tree runs the same measurement against other checkouts (for example a worktree of an earlier commit), in
alternating rounds, so that a before/after comparison shares the machine's noise.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_common import machine_line  # noqa: E402

import browser  # noqa: E402
from browser import chromium_page, start_training, streamlit_process  # noqa: E402

KINDS = ("server", "training", "chromium renderer", "chromium gpu-process", "chromium other")


def cpu_seconds_by_kind() -> dict:
    """CPU seconds (user + system) so far of every process of the app and of Chromium, summed by kind."""
    tick, out = os.sysconf("SC_CLK_TCK"), dict.fromkeys(KINDS, 0.0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if "chromium" in cmd:
            kind = next((f"chromium {t}" for t in ("renderer", "gpu-process") if f"--type={t}" in cmd), "chromium other")
        elif "forkserver" in cmd or "multiprocessing" in cmd:
            kind = "training"  # the run's process and the idle forkserver it was forked from
        elif "streamlit" in cmd:
            kind = "server"
        else:
            continue
        out[kind] += (int(fields[11]) + int(fields[12])) / tick
    return out


def page_metrics(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def one_round(tree: Path, seconds: float) -> dict:
    browser.ROOT = tree  # the server runs that checkout's app.py
    with streamlit_process() as (url, _), chromium_page() as page:
        start_training(page, url, epochs=1000)
        time.sleep(4)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        cpu0, m0, t0 = cpu_seconds_by_kind(), page_metrics(cdp), time.monotonic()
        time.sleep(seconds)
        cpu1, m1, dt = cpu_seconds_by_kind(), page_metrics(cdp), time.monotonic() - t0
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Status: stopped").wait_for(timeout=20_000)
    row = {kind: 100 * (cpu1[kind] - cpu0[kind]) / dt for kind in KINDS}
    row["page main thread"] = 100 * (m1["TaskDuration"] - m0["TaskDuration"]) / dt
    row["layouts/s"] = (m1["LayoutCount"] - m0["LayoutCount"]) / dt
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--tree", action="append", default=[], help="another checkout to measure, side by side")
    args = parser.parse_args()
    trees = [ROOT] + [Path(t).resolve() for t in args.tree]
    print(machine_line(), flush=True)
    rows = {tree: [] for tree in trees}
    for i in range(args.rounds):
        for tree in trees:
            rows[tree].append(one_round(tree, args.seconds))
            print(f"round {i} {tree}: " + ", ".join(f"{k} {v:.0f}" for k, v in rows[tree][-1].items()), flush=True)
    for tree in trees:
        median = {k: statistics.median(r[k] for r in rows[tree]) for k in rows[tree][0]}
        print(f"median, {tree} (% of one core; layouts per second): " + ", ".join(f"{k} {v:.0f}" for k, v in median.items()))


if __name__ == "__main__":
    main()
