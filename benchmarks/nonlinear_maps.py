"""UMAP and t-SNE maps on Explore (issue 13): how long a first fit takes, how fast a second open is, and
whether a free click on a cached UMAP map is as fast as on the PCA map.

    .venv/bin/python benchmarks/nonlinear_maps.py [--rounds 3] [--clicks 16]

Fit: 2,000 latents (a 16-D MLP VAE trained 2 epochs on 8,000 MNIST t10k digits, encoding the other 2,000;
sklearn digits when MNIST is missing), fitted by vae_core.store.fit_cache.cached_fit in a fresh Python process
each round, with an empty cache: the import of umap-learn/numba or openTSNE, the fit, the inverse and the
round-trip error grid (torch and vae_core imported before the clock starts, as in the app's server); then a
second process reads the same fit from the disk cache. Rounds alternate.

Clicks: Chromium against one `streamlit run app.py`, digits-16d opened by link with proj=pca and proj=umap
(its fit cached first), free clicks alternating between the two maps, as explore_latency.click_latencies.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from bench_common import machine_line, source_images, warn_if_busy  # noqa: E402
from explore_latency import POINTS, click_latencies  # noqa: E402  (puts tests/ on the path)

from browser import chromium_page, streamlit_server, wait_for_app_idle  # noqa: E402

# As in the app's server, where torch and vae_core are loaded already: the clock covers importing umap-learn
# (numba) or openTSNE, the fit, the inverse and the round-trip grid, or the read from the cache.
FIT = """import sys, time, numpy as np
from vae_core.maps.nonlinear import cached_fit
t = time.perf_counter()
p = cached_fit(np.load(sys.argv[1]), sys.argv[2], sys.argv[3])
print(time.perf_counter() - t, float(np.median(p.errors)), float(np.ptp(p.xy[:, 0])))"""


def latents(n: int = 2000) -> tuple[np.ndarray, str]:
    from vae_core import VAE, Dataset, TrainConfig, VAEConfig, train
    from vae_core.analysis.latent import encode_means

    images, labels, description = source_images()
    x = torch.from_numpy(images).unsqueeze(1)
    y = torch.from_numpy(labels).long()
    test = min(n, len(x) // 5)
    data = Dataset("bench", x[test:], y[test:], x[:test], y[:test], [str(c) for c in range(10)])
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=data.image_shape, latent_dim=16))
    for _ in train(model, data, TrainConfig(epochs=2, device="cpu")):
        pass
    return encode_means(model, data.test_x)[0], f"{test:,} latents (16-D) of {description}"


def fit_seconds(path: Path, kind: str, cache: str) -> tuple[float, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", FIT, str(path), kind, cache],
        cwd=HERE.parent,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    seconds, error, span = (float(v) for v in out.stdout.split())
    return seconds, error, span


def fits(rounds: int) -> None:
    mu, description = latents()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "latents.npy"
        np.save(path, mu)
        results = {kind: {"first": [], "again": []} for kind in ("umap", "tsne")}
        for i in range(rounds):
            for kind in results:
                cache = str(Path(tmp) / f"cache-{kind}-{i}")
                first, error, span = fit_seconds(path, kind, cache)
                again, _, _ = fit_seconds(path, kind, cache)
                results[kind]["first"].append(first)
                results[kind]["again"].append(again)
                print(
                    f"  {kind}: first fit {first:.2f} s, from the cache {again:.3f} s; round-trip error median "
                    f"{error:.2f} ({error / span:.0%} of the map's width)",
                    flush=True,
                )
    for kind, r in results.items():
        print(
            f"{kind} on {description}: first fit in a fresh process median {statistics.median(r['first']):.2f} s "
            f"({', '.join(f'{v:.2f}' for v in r['first'])}); second open from the disk cache median "
            f"{statistics.median(r['again']):.3f} s",
            flush=True,
        )


def clicks(n: int) -> None:
    with chromium_page() as page, streamlit_server() as url:
        page.goto(f"{url}/?model=digits-16d&proj=umap")  # fit (or read) the UMAP map once
        page.wait_for_selector(POINTS, timeout=180_000)
        wait_for_app_idle(page, timeout=180_000)
        times = {"pca": [], "umap": []}
        for _ in range(2):
            for proj in times:  # digits-2d: click_latencies' own model choice is skipped, the link picks the model
                times[proj] += click_latencies(page, f"{url}/?model=digits-16d&proj={proj}", n // 2, "digits-2d")
    pca, umap = statistics.median(times["pca"]), statistics.median(times["umap"])
    print(
        f"free click to decoded image, digits-16d: UMAP map (cached) median {umap * 1000:.0f} ms, PCA map median "
        f"{pca * 1000:.0f} ms over {len(times['pca'])} clicks each: ratio {umap / pca:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clicks", type=int, default=16)
    parser.add_argument("--parts", default="fits,clicks")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    warn_if_busy()
    if "fits" in args.parts:
        fits(args.rounds)
    if "clicks" in args.parts:
        clicks(args.clicks)


if __name__ == "__main__":
    main()
