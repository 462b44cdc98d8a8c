"""Training throughput from the Train page (real browser, live curves polling) against the CLI, same run.

    .venv/bin/python benchmarks/train_overhead.py [--rounds 3] [--epochs 150] [--device cpu]

Both train digits, mlp, latent_dim 2, batch 128, seed 0, on the same device (default: the page's and the
CLI's own default, a GPU when there is one). Throughput: all training images over all the
training-loop time, from the step windows in the saved checkpoint's history.
Rounds alternate CLI and page so machine noise hits both alike. The page's refresh rate while training is
the time between changes of its progress text as the browser shows it (one change per live-view rerun).
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from bench_common import epoch_train_seconds, machine_line  # noqa: E402

from browser import chromium_page, fill_input, streamlit_server, wait_for_app_idle  # noqa: E402
from vae_core import load_checkpoint  # noqa: E402
from vae_core.data import load_from_options  # noqa: E402


def throughput(path: Path) -> float:
    """Training images per second of training-loop time, all epochs together (evaluation excluded).

    Not the median step window: the page's windows were bimodal, fast between page reruns and stalled
    during them, and a median hid stalls that made the page run 7x slower than the CLI.
    """
    _, meta = load_checkpoint(path)
    n_train = len(load_from_options(meta["data_options"]).train_x)
    seconds = epoch_train_seconds(meta["history"], n_train, meta["train_config"]["batch_size"])
    return n_train * len(seconds) / sum(seconds)


def cli_run(folder: Path, epochs: int, i: int, device: str) -> float:
    out = folder / f"cli-{i}.pt"
    subprocess.run([sys.executable, "-m", "vae_core", "train", "--data", "digits", "--latent-dim", "2",
                    "--epochs", str(epochs), "--out", str(out), "--quiet", "--device", device], cwd=ROOT, check=True)
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


def page_run(page, url: str, folder: Path, epochs: int, i: int, device: str) -> tuple[float, list[float], float]:
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
    fill_input(page, "Checkpoint name", f"page-{i}")
    page.get_by_role("button", name="Save checkpoint").click()
    page.get_by_text("It is selected in the sidebar").wait_for(timeout=30_000)  # the success message
    gaps = [(b - a) / 1000 for a, b in zip(stamps, stamps[1:])]
    return throughput(folder / f"page-{i}.pt"), gaps, (stamps[0] - clicked) / 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--device", default="auto", help="auto (a GPU when there is one), cpu or cuda")
    args = parser.parse_args()
    print(machine_line(), f"device {args.device}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-ckpt-"))
    cli, web, intervals, starts = [], [], [], []
    with streamlit_server(env={"VAE_EXPLORER_CHECKPOINTS": str(folder)}) as url, chromium_page() as page:
        for i in range(args.rounds):
            cli.append(cli_run(folder, args.epochs, i, args.device))
            rate, gaps, start = page_run(page, url, folder, args.epochs, i, args.device)
            web.append(rate)
            intervals += gaps
            starts.append(start)
            print(f"round {i}: cli {cli[-1]:,.0f} samples/s, page {web[-1]:,.0f} samples/s, "
                  f"{len(gaps) + 1} live-view refreshes, first step shown {start:.1f} s after the click", flush=True)
    c, w = statistics.median(cli), statistics.median(web)
    print(f"median: cli {c:,.0f} samples/s, page {w:,.0f} samples/s, page/cli = {w / c:.2f}")
    gap = statistics.median(intervals)
    print(f"live view while training: median {gap * 1000:.0f} ms between refreshes ({1 / gap:.1f} per second; "
          f"90th percentile {statistics.quantiles(intervals, n=10)[-1] * 1000:.0f} ms; {len(intervals)} intervals)")
    print(f"click on Start to the first step shown: median {statistics.median(starts):.1f} s")


if __name__ == "__main__":
    main()
