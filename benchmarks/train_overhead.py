"""Training throughput from the Train page (real browser, live curves polling) against the CLI, same run.

    .venv/bin/python benchmarks/train_overhead.py [--rounds 3] [--epochs 150] [--device cpu]
                                                  [--train-threads N ...] [--tree PATH ...]

Both train digits, mlp, latent_dim 2, batch 128, seed 0, on the same device (default: the page's and the
CLI's own default, a GPU when there is one). Throughput: all training images over all the
training-loop time, from the step windows in the saved checkpoint's history.
Rounds alternate CLI and page so machine noise hits both alike. The page's refresh rate while training is
the time between changes of its progress text as the browser shows it (one change per live-view rerun).
--train-threads (VAE_EXPLORER_TRAIN_THREADS) and --tree (another checkout's app.py) add pages, each with its
own server and browser, run in turn in every round.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from bench_common import epoch_train_seconds, machine_line  # noqa: E402

import browser  # noqa: E402
from browser import chromium_page, fill_input, streamlit_server, wait_for_app_idle  # noqa: E402
from vae_core import load_checkpoint  # noqa: E402
from vae_core.data.datasets import load_data  # noqa: E402


def throughput(path: Path) -> float:
    """Training images per second of training-loop time, all epochs together (evaluation excluded).

    Not the median step window: the page's windows were bimodal, fast between page reruns and stalled
    during them, and a median hid stalls that made the page run 7x slower than the CLI.
    """
    _, meta = load_checkpoint(path)
    n_train = len(load_data(meta.data_options).train_x)
    seconds = epoch_train_seconds(meta.history, n_train, meta.train.batch_size)
    return n_train * len(seconds) / sum(seconds)


def cli_run(out: Path, epochs: int, device: str = "cpu", env: dict | None = None) -> float:
    """The benchmarks' run (digits, 2-D latent) trained by `python -m vae_core train` into `out`, with `env` added
    to the environment; its throughput."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "vae_core",
            "train",
            "--data",
            "digits",
            "--latent-dim",
            "2",
            "--epochs",
            str(epochs),
            "--out",
            str(out),
            "--quiet",
            "--device",
            device,
        ],
        cwd=ROOT,
        check=True,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
    )
    return throughput(out)


# Records when the progress text (epoch, step, samples/s) changes in the browser: each change is one
# refresh of the live view (text, bar and curves come from the same fragment run).
WATCH_PROGRESS = """() => {
  window.__refreshes = []; let last = null;
  new MutationObserver(() => {
    const p = document.querySelector('[data-testid="stProgress"]');
    const text = p ? p.innerText : null;
    if (text && text !== last && text.includes('step')) { last = text; window.__refreshes.push(performance.now()); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def page_run(page, url: str, folder: Path, epochs: int, name: str, device: str) -> tuple[float, list[float], float]:
    """Samples/s of a run started from the page, the intervals (s) between live-view refreshes, and the
    seconds from the click on Start to the first training step shown."""
    page.goto(f"{url}/train")
    page.get_by_role("button", name="Start training").wait_for(timeout=60_000)
    fill_input(page, "Epochs", str(epochs))
    if device != "auto" and page.get_by_label("Device").count():  # listed, a GPU first, when there is one
        page.get_by_label("Device").click()  # (the selectbox exists only when there is more than the CPU)
        page.get_by_role("option", name=device, exact=True).click()
        wait_for_app_idle(page)
    page.evaluate(WATCH_PROGRESS)
    clicked = page.evaluate("performance.now()")
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Status: finished").wait_for(timeout=600_000)
    stamps = page.evaluate("window.__refreshes")
    wait_for_app_idle(page)
    fill_input(page, "Checkpoint name", f"page-{name}")
    page.get_by_role("button", name="Save checkpoint").click()
    page.get_by_text("It is selected in the sidebar").wait_for(timeout=30_000)  # the success message
    gaps = [(b - a) / 1000 for a, b in zip(stamps, stamps[1:])]
    return throughput(folder / f"page-{name}.pt"), gaps, (stamps[0] - clicked) / 1000


def open_pages(stack: ExitStack, folder: Path, trees: list[Path], threads: list[str]) -> dict:
    """{label: (page, url)}: one server and one page (all in one browser) per checkout and training-thread count."""
    first, pages = stack.enter_context(chromium_page()), {}
    for tree in trees:
        for count in threads:
            browser.ROOT = tree  # the server runs that checkout's app.py
            env = {"VAE_EXPLORER_CHECKPOINTS": str(folder), **({"VAE_EXPLORER_TRAIN_THREADS": count} if count else {})}
            url = stack.enter_context(streamlit_server(env=env))
            label = "page" + (f" {tree}" if tree != ROOT else "") + (f" {count} thread(s)" if count else "")
            page = first if not pages else first.context.browser.new_page(viewport=first.viewport_size)
            pages[label] = (page, url)
    return pages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu or cuda")
    parser.add_argument("--train-threads", nargs="+", default=[""], help="the training process's torch threads")
    parser.add_argument("--tree", nargs="+", default=[], help="other checkouts to run pages of, side by side")
    args = parser.parse_args()
    print(machine_line(), f"device {args.device}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-ckpt-"))
    with ExitStack() as stack:
        pages = open_pages(stack, folder, [ROOT] + [Path(t).resolve() for t in args.tree], args.train_threads)
        rates = {"cli": [], **{label: [] for label in pages}}
        intervals, starts = {label: [] for label in pages}, {label: [] for label in pages}
        for i in range(args.rounds):
            rates["cli"].append(cli_run(folder / f"cli-{i}.pt", args.epochs, args.device))
            for n, (label, (page, url)) in enumerate(pages.items()):
                rate, gaps, start = page_run(page, url, folder, args.epochs, f"{i}-{n}", args.device)
                rates[label].append(rate)
                intervals[label] += gaps
                starts[label].append(start)
            print(f"round {i}: " + ", ".join(f"{label} {r[-1]:,.0f}" for label, r in rates.items()) + " samples/s", flush=True)
    c = statistics.median(rates["cli"])
    print(f"median: cli {c:,.0f} samples/s")
    for label in pages:
        w, gap = statistics.median(rates[label]), statistics.median(intervals[label])
        print(
            f"{label}: {w:,.0f} samples/s, page/cli = {w / c:.2f} (rounds "
            + ", ".join(f"{r / k:.2f}" for r, k in zip(rates[label], rates["cli"]))
            + "); live view: median "
            f"{gap * 1000:.0f} ms between refreshes ({1 / gap:.1f} per second; 90th percentile "
            f"{statistics.quantiles(intervals[label], n=10)[-1] * 1000:.0f} ms); click on Start to the first "
            f"step shown: median {statistics.median(starts[label]):.1f} s"
        )


if __name__ == "__main__":
    main()
