"""From Stop to Save on the Train page (issue 24, point 4): how long a person waits for the Save button, and for
the test scores (the test terms, then the IWAE bound) that now fill in after it.

    .venv/bin/python benchmarks/stop_to_save.py [--rounds 3] [--images 3000] [--before REF]

Each round starts a fresh `streamlit run app.py`, uploads a zip of `images` 28x28 MNIST t10k digits (a test
share of 0.2: 600 test images; the page suggests a conv net for them), trains until the third epoch is under way,
clicks Stop and times until Save shows and until the IWAE bound shows. With --before, the same rounds run,
alternating, against a checkout of REF (a git worktree), the code before the change.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from bench_common import checkouts, machine_line, source_images, warn_if_busy  # noqa: E402

from browser import chromium_page, fill_input, streamlit_server, wait_for_app_idle  # noqa: E402


def digits_zip(n: int) -> bytes:
    images, labels, _ = source_images()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(n):
            png = io.BytesIO()
            Image.fromarray(images[i]).save(png, format="PNG")
            archive.writestr(f"{labels[i]}/{i}.png", png.getvalue())
    return buffer.getvalue()


def stop_to_save(root: Path, zip_bytes: bytes, n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"VAE_EXPLORER_CHECKPOINTS": str(Path(tmp) / "checkpoints"), "VAE_EXPLORER_DATA": str(Path(tmp) / "data")}
        shutil.copytree(root / "checkpoints", Path(tmp) / "checkpoints")
        with streamlit_server(env=env, root=root) as url, chromium_page() as page:
            page.goto(f"{url}/train")
            page.get_by_role("combobox", name="Dataset").click()
            page.get_by_role("option", name="a zip of images (upload)").click()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                files=[{"name": "digits.zip", "mimeType": "application/zip", "buffer": zip_bytes}]
            )
            page.get_by_text(f"{n:,} images").wait_for(timeout=120_000)
            wait_for_app_idle(page)
            fill_input(page, "Epochs", "50")
            page.get_by_role("button", name="Start training").click()
            page.get_by_text("epoch 3/50").wait_for(timeout=300_000)
            start = time.perf_counter()
            page.get_by_role("button", name="Stop", exact=True).click()
            page.get_by_role("button", name="Save checkpoint").wait_for(timeout=300_000)
            save = time.perf_counter() - start
            page.get_by_text("IWAE-100 NLL").wait_for(timeout=300_000)
            return save, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--before", help="a git ref: the code to compare with, run alternately")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    warn_if_busy()
    zip_bytes = digits_zip(args.images)
    with checkouts(args.before) as roots:
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in roots}
        for i in range(args.rounds):
            for name, root in roots.items():
                save, scores = stop_to_save(root, zip_bytes, args.images)
                times[name].append((save, scores))
                print(
                    f"  round {i + 1} {name}: Stop to Save shown {save:.2f} s, to the IWAE bound shown {scores:.2f} s",
                    flush=True,
                )
        for name, values in times.items():
            saves, scores = [v[0] for v in values], [v[1] for v in values]
            print(
                f"{name}: Stop to Save median {statistics.median(saves):.2f} s ({', '.join(f'{v:.2f}' for v in saves)});"
                f" Stop to every score shown median {statistics.median(scores):.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
