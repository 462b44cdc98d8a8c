"""How cost grows with the number of points: training time per epoch, and the Explore page, at 1k, 10k, 60k.

    .venv/bin/python benchmarks/scaling.py [--sizes 1000,10000,60000] [--epochs 3] [--clicks 10] [--json out.json]

Data: the real MNIST test split (sklearn digits when it is missing) repeated to N images, each repeat
shifted by a small (dy, dx) (24 shifts, then cycling) so copies differ: training at 1k and 10k sees real
images only, at 60k the 10k six times (five shifted copies); the page's folders of 1.25 N images hold
shifted copies from 10k on.

Epoch time: vae_core, mlp with default widths, latent_dim 2, batch 128, CPU, trained in process on N
images; train-loop seconds of an epoch (its evaluation excluded), median over --epochs epochs.

Explore page, in Chromium against a fresh `streamlit run app.py` per size whose checkpoints folder
($VAE_EXPLORER_CHECKPOINTS) holds one model whose test split, the map, is N images: a folder of
1.25 N PNGs in class sub-folders with test_fraction N / 1.25 N, and a 1-epoch latent-2 model trained on
the other 0.25 N. Measured:
  cold render  first page load after the server starts, to the map drawn (the server loads the model and
               the whole PNG folder, encodes the N test images, builds and sends the figure)
  warm render  a second page load, caches warm, to the map drawn
  click        click to decoded image, as in explore_latency.py (its click_latencies), median
The PNG folders' write and load (vae_core.load_dataset) times are reported too.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench_common import epoch_train_seconds, machine_line, source_images, tiled, warn_if_busy, write_png_folder  # noqa: E402
from explore_latency import POINTS, click_latencies  # noqa: E402  (it puts tests/ on the path for browser)

from browser import chromium_page, streamlit_server, wait_for_app_idle  # noqa: E402
from vae_core import VAE, Dataset, TrainConfig, VAEConfig, load_dataset, save_checkpoint, train  # noqa: E402

BATCH = 128
MAP_TRAIN_SHARE = 0.25  # images beside the N map images in a size's folder, for its 1-epoch model


def as_float(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).float().div_(255.0).unsqueeze(1)  # (N, H, W) uint8 -> (N, 1, H, W)


def epoch_seconds(images: np.ndarray, labels: np.ndarray, n: int, epochs: int) -> list[float]:
    """Train-loop seconds per epoch on n images; a small test split, since evaluation is not counted."""
    x, y = tiled(images, labels, n)
    data = Dataset(
        f"tiled-{n}",
        as_float(x),
        torch.from_numpy(y).long(),
        as_float(images[:256]),
        torch.from_numpy(labels[:256]).long(),
        [str(c) for c in range(int(labels.max()) + 1)],
    )
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=data.image_shape, latent_dim=2))
    history = [e for e in train(model, data, TrainConfig(epochs=epochs, batch_size=BATCH, device="cpu")) if e["type"] == "step"]
    return epoch_train_seconds(history, n, BATCH)


def map_checkpoint(images: np.ndarray, labels: np.ndarray, n: int, work: Path) -> tuple[Path, dict]:
    """A checkpoints folder whose one model maps n test images of a PNG folder; the folder's write/load times."""
    total = n + math.ceil(n * MAP_TRAIN_SHARE)
    x, y = tiled(images, labels, total)
    t0 = time.perf_counter()
    folder = write_png_folder(x, y, work / f"pngs-{n}")
    t1 = time.perf_counter()
    data = load_dataset(str(folder), test_fraction=n / total)
    t2 = time.perf_counter()
    assert len(data.test_x) == n, (len(data.test_x), n)
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=data.image_shape, latent_dim=2))
    config = TrainConfig(epochs=1, batch_size=BATCH, device="cpu")
    events = list(train(model, data, config))
    last = next(e for e in reversed(events) if e["type"] == "epoch")
    save_checkpoint(
        work / f"checkpoints-{n}" / f"map-{n}.pt",
        model,
        dataset=data.name,
        train_config=config,
        history=[e for e in events if e["type"] == "epoch"],
        metrics={k: last[k] for k in ("test_loss", "test_recon", "test_kl")},
        class_names=data.class_names,
        data_options=data.options,
    )
    return work / f"checkpoints-{n}", dict(pngs=total, png_write_s=t1 - t0, folder_load_s=t2 - t1)


COLUMNS = [
    ("epoch time (s)", "epoch_s", "{:.2f}"),
    ("folder PNGs", "pngs", "{:,}"),
    ("PNG write (s)", "png_write_s", "{:.1f}"),
    ("folder load (s)", "folder_load_s", "{:.1f}"),
    ("cold render (s)", "cold_render_s", "{:.1f}"),
    ("warm render (s)", "warm_render_s", "{:.2f}"),
    ("click median (ms)", "click_median_ms", "{:.0f}"),
]


def render(page, url: str) -> tuple[float, float]:
    """Seconds from page load to the map drawn, and to the whole page idle (side panel, manifold image)."""
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(POINTS, timeout=600_000)
    drawn = time.perf_counter() - t0
    wait_for_app_idle(page, timeout=600_000)
    return drawn, time.perf_counter() - t0


def explore(page, checkpoints: Path, n: int, clicks: int) -> dict:
    """Cold and warm render and click latencies on a server that sees only this size's checkpoint."""
    with streamlit_server(env={"VAE_EXPLORER_CHECKPOINTS": str(checkpoints)}) as url:
        cold, warm = render(page, url), render(page, url)
        times = click_latencies(page, url, clicks, f"map-{n}")
    return dict(
        cold_render_s=cold[0],
        cold_idle_s=cold[1],
        warm_render_s=warm[0],
        warm_idle_s=warm[1],
        clicks_s=times,
        click_median_ms=1000 * statistics.median(times),
    )


def slope(a: dict, b: dict, key: str) -> str:
    """log-log slope of a measure between two sizes: 1 is linear growth, 0 flat."""
    ya, yb = a.get(key), b.get(key)
    if not (ya and yb and ya > 0 and yb > 0):
        return "-"
    return f"{math.log(yb / ya) / math.log(b['n'] / a['n']):.2f}"


def table(rows: list[dict]) -> str:
    lines = ["| points | " + " | ".join(c[0] for c in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for r in rows:
        cells = ["-" if r.get(key) is None else fmt.format(r[key]) for _, key, fmt in COLUMNS]
        lines.append(f"| {r['n']:,} | " + " | ".join(cells) + " |")
    for a, b in zip(rows, rows[1:]):
        lines.append(f"| slope {a['n']:,} -> {b['n']:,} | " + " | ".join(slope(a, b, key) for _, key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,60000", help="comma-separated point counts")
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per size (median)")
    parser.add_argument("--clicks", type=int, default=10, help="clicks timed per size (median)")
    parser.add_argument("--no-browser", action="store_true", help="epoch times only")
    parser.add_argument("--json", help="write the raw numbers here")
    args = parser.parse_args()
    machine = machine_line()  # the load average before this script adds its own
    warn_if_busy()
    sizes = [int(s) for s in args.sizes.split(",")]
    images, labels, description = source_images()
    rows = []
    for n in sizes:
        seconds = epoch_seconds(images, labels, n, args.epochs)
        rows.append(dict(n=n, epoch_s=statistics.median(seconds), epoch_s_all=seconds))
        print(f"{n:,} images: {rows[-1]['epoch_s']:.2f} s per epoch", file=sys.stderr, flush=True)
    if not args.no_browser:
        with tempfile.TemporaryDirectory(prefix="scaling-") as tmp, chromium_page() as page:
            for row in rows:
                checkpoints, io = map_checkpoint(images, labels, row["n"], Path(tmp))
                row.update(io)
                print(
                    f"{row['n']:,} points: {io['pngs']:,} PNGs written in {io['png_write_s']:.1f} s, "
                    f"loaded in {io['folder_load_s']:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
                try:
                    row.update(explore(page, checkpoints, row["n"], args.clicks))
                except Exception as err:  # a size the page cannot handle is a result, not the end of the run
                    row["explore_error"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
                print(
                    f"{row['n']:,} points: "
                    + ", ".join(f"{k} {row[k]:.2f}" for k in ("cold_render_s", "warm_render_s", "click_median_ms") if k in row)
                    + row.get("explore_error", ""),
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"{machine}\n\nData: {description}, repeated with pixel shifts to each size; "
        f"image {'x'.join(map(str, images.shape[1:]))}.\n"
    )
    print(table(rows))
    print(
        "\nCold render: the first page load on a fresh server (imports, the whole PNG folder loaded, the test "
        "split encoded); warm render: the page loaded again; click: median, first click not counted."
    )
    for row in rows:
        if "explore_error" in row:
            print(f"\n{row['n']:,} points: the Explore page failed: {row['explore_error']}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(machine=machine, data=description, sizes=rows), indent=1))


if __name__ == "__main__":
    main()
