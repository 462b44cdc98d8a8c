"""Helpers shared by recipe_compare.py and scaling.py: the machine line, benchmark images, PNG folders,
and per-epoch training time recovered from a vae_core history."""

from __future__ import annotations

import gzip
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
# The real MNIST test split lives beside the repository (../shared/datasets), for benchmarks only: the app never needs it.
MNIST_T10K = Path(os.environ.get("MNIST_T10K", ROOT.parent / "shared" / "datasets" / "mnist-t10k"))


def machine_line() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    # torch's threads slow down many-fold when another process is busy on the same cores: the load shows it
    return (
        f"{model}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at start"
    )


def warn_if_busy(limit: float = 0.5) -> None:
    load = os.getloadavg()[0]
    if load > limit:
        print(
            f"warning: load average {load:.2f}: the CPU was busy in the last minute (another process, or a run "
            "just before); timings may be inflated",
            file=sys.stderr,
            flush=True,
        )


def _cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine spent busy, CPU seconds of this process and its waited-for children)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    ours = sum(
        getattr(resource.getrusage(who), f)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for f in ("ru_utime", "ru_stime")
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK"), ours


@contextmanager
def others_cpu(result: dict):
    """Sets result["others_cpu"]: the share of the machine's CPUs that other processes used while the block ran
    (0: it had the machine to itself, 1: others kept every core busy). On a shared machine it says which runs
    were measured beside someone else's work."""
    t0, (busy0, ours0) = time.perf_counter(), _cpu_seconds()
    yield
    busy, ours = _cpu_seconds()
    capacity = (time.perf_counter() - t0) * (os.cpu_count() or 1)
    result["others_cpu"] = max(0.0, (busy - busy0) - (ours - ours0)) / capacity


def wait_until_quiet(max_share: float, sample_s: float = 2.0, max_wait_s: float = 600) -> dict:
    """Wait until other processes use at most max_share of the machine's CPUs over sample_s seconds (or max_wait_s
    passed): a run on a shared machine then starts on a quiet machine, though someone may start work during it.
    -> {"waited_s", "others_cpu_before"} for the record."""
    t0, seen = time.perf_counter(), {}
    while True:
        with others_cpu(seen):
            time.sleep(sample_s)
        if seen["others_cpu"] <= max_share or time.perf_counter() - t0 > max_wait_s:
            return dict(waited_s=time.perf_counter() - t0, others_cpu_before=seen["others_cpu"])


def source_images() -> tuple[np.ndarray, np.ndarray, str]:
    """uint8 images (N, H, W), labels (N,) and what they are: MNIST t10k when present, else sklearn digits."""
    images = MNIST_T10K / "t10k-images-idx3-ubyte.gz"
    labels = MNIST_T10K / "t10k-labels-idx1-ubyte.gz"
    if images.is_file() and labels.is_file():
        from torchvision.datasets.mnist import read_image_file, read_label_file

        with tempfile.TemporaryDirectory() as tmp:  # the readers want the decompressed IDX files
            x = read_image_file(_gunzip(images, Path(tmp))).numpy()
            y = read_label_file(_gunzip(labels, Path(tmp))).numpy()
        return x, y, f"MNIST t10k ({len(x):,} real 28x28 digits)"
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.round(bunch.images * (255 / 16)).astype(np.uint8)  # pixel values are 0..16
    return x, bunch.target.astype(np.int64), f"sklearn digits ({len(x):,} real 8x8 digits; MNIST t10k not found)"


def _gunzip(path: Path, folder: Path) -> str:
    out = folder / path.stem
    with gzip.open(path, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return str(out)


def tiled(images: np.ndarray, labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n images: the source repeated, each repeat shifted by a different small (dy, dx) so copies differ."""
    shifts = [(0, 0)] + [(dy, dx) for dy in (-2, -1, 0, 1, 2) for dx in (-2, -1, 0, 1, 2) if (dy, dx) != (0, 0)]
    idx = np.arange(n) % len(images)
    out = images[idx].copy()
    for copy in range(1, -(-n // len(images))):
        rows = slice(copy * len(images), (copy + 1) * len(images))
        out[rows] = np.roll(out[rows], shifts[copy % len(shifts)], axis=(1, 2))
    return out, labels[idx]


def write_png_folder(images: np.ndarray, labels: np.ndarray, folder: Path) -> Path:
    """One grayscale PNG per image in class sub-folders, named by index so a sorted listing is stable."""
    from PIL import Image

    for label in np.unique(labels):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
    for i, (img, label) in enumerate(zip(images, labels)):
        Image.fromarray(img).save(folder / str(label) / f"{i:06d}.png")
    return folder


def epoch_train_seconds(history: list[dict], n_train: int, batch_size: int) -> list[float]:
    """Seconds of training steps per epoch, evaluation excluded, from a checkpoint's step events.

    Each step event carries samples_per_s over its window of steps (the clock restarts after each
    epoch's evaluation), so a window lasted samples / samples_per_s; the samples come from the step
    counter, the last batch of an epoch being short.
    """
    per_epoch = -(-n_train // batch_size)

    def samples_at(step: int) -> int:
        return (step // per_epoch) * n_train + min((step % per_epoch) * batch_size, n_train)

    seconds, prev = {}, 0
    for event in (e for e in history if e.get("type") == "step"):
        epoch = (event["step"] - 1) // per_epoch
        seconds[epoch] = seconds.get(epoch, 0.0) + (samples_at(event["step"]) - samples_at(prev)) / event["samples_per_s"]
        prev = event["step"]
    return [seconds[e] for e in sorted(seconds)]


@contextmanager
def checkouts(before: str | None):
    """{"now": this checkout} and, with a git ref, {"before": a worktree of that ref}, removed afterwards: the
    code before a change, run side by side with the code now."""
    roots = {"now": ROOT}
    tmp = Path(tempfile.mkdtemp())
    try:
        if before:
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(tmp / "before"), before], cwd=ROOT, check=True, capture_output=True
            )
            roots["before"] = tmp / "before"
        yield roots
    finally:
        if "before" in roots:
            subprocess.run(["git", "worktree", "remove", "--force", str(roots["before"])], cwd=ROOT, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def medians(rows: list[tuple]) -> list[float]:
    """The median of each column of a list of equal-length rows (one row per seed)."""
    import statistics

    return [statistics.median(column) for column in zip(*rows)]
