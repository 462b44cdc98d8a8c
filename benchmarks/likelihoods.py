"""Each decoder likelihood on real 28x28 digits, and whether the CLI's defaults suit 28x28 image folders.

    .venv/bin/python benchmarks/likelihoods.py [--epochs 10] [--seeds 3]

Everything goes through the command line a user types (`python -m vae_core train` / `eval --json`) on PNG
folders, split 8,000 / 2,000 by vae_core's folder loader:

1. Likelihoods: MNIST t10k (../shared/datasets) with the CLI's defaults for 28x28 images (a conv net, 20
   latent dimensions) under each likelihood, and the pytorch/examples recipe's network (784-400-20 MLP,
   Bernoulli; recipe_compare.py shows vae_core computes the same function). Test loss in nats and bits per
   dimension, IWAE-100, training time, and a picture per model of test images, their reconstructions and
   prior samples (results/likelihood-<name>.png).
2. Defaults: the CLI with no architecture options against the two reference networks (the 784-400-20 MLP
   and the conv net with 20 latent dimensions) on MNIST and on a set of 28x28 grey shapes made here, medians
   over seeds; and the defaults before this change (a 512-256 MLP with a 2-D code) for scale.

Only losses of the same likelihood are comparable: a Gaussian or continuous Bernoulli density on [0, 1]
is not a Bernoulli probability.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench_common import ROOT, machine_line, source_images, warn_if_busy, write_png_folder  # noqa: E402

from vae_core import load_checkpoint, load_dataset  # noqa: E402
from vae_core.analysis.latent import decode_points, encode_means, sample_prior  # noqa: E402
from vae_core.data.images import to_grid_image  # noqa: E402

RESULTS = HERE / "results"
RECIPE = ["--arch", "mlp", "--hidden", "400", "--latent-dim", "20"]
CONV = ["--arch", "conv", "--latent-dim", "20"]
BEFORE = ["--arch", "mlp", "--hidden", "512,256", "--latent-dim", "2"]


def cli(*args) -> str:
    proc = subprocess.run([sys.executable, "-m", "vae_core", *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return proc.stdout


def train_and_eval(folder: Path, out: Path, options: list[str], epochs: int, seed: int, iwae_k: int = 0) -> dict:
    cli(
        "train",
        "--data",
        str(folder),
        "--epochs",
        str(epochs),
        "--seed",
        str(seed),
        "--quiet",
        "--force",
        "--out",
        str(out),
        *options,
    )
    result = json.loads(cli("eval", str(out), "--json", *(["--iwae-k", str(iwae_k)] if iwae_k else [])))
    _, meta = load_checkpoint(out)
    epochs_done = [e for e in meta.history if e["type"] == "epoch"]
    result["train_s"] = epochs_done[-1]["elapsed_s"]  # training with its per-epoch test evaluation
    result["arch"], result["latent_dim"] = meta.vae_config.arch, meta.vae_config.latent_dim
    return result


def shapes_28(n_per_class: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Grey shapes on black, 28x28, drawn at 4x and shrunk with antialiasing: ellipses, boxes, triangles,
    crosses and rings of random place, size, turn and grey level."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, shape in enumerate(("ellipse", "box", "triangle", "cross", "ring")):
        for _ in range(n_per_class):
            big = Image.new("L", (112, 112), 0)
            draw = ImageDraw.Draw(big)
            cx, cy = rng.uniform(36, 76, 2)
            r, turn, grey = rng.uniform(16, 34), rng.uniform(0, np.pi), int(rng.integers(120, 256))
            corners = lambda k, cx=cx, cy=cy, r=r, turn=turn: [  # k corners of a regular polygon
                (cx + r * np.cos(turn + 2 * np.pi * i / k), cy + r * np.sin(turn + 2 * np.pi * i / k)) for i in range(k)
            ]
            if shape == "ellipse":
                draw.ellipse([cx - r, cy - r * rng.uniform(0.4, 1), cx + r, cy + r * rng.uniform(0.4, 1)], fill=grey)
            elif shape in ("box", "triangle"):
                draw.polygon(corners(4 if shape == "box" else 3), fill=grey)
            elif shape == "cross":
                for (x0, y0), (x1, y1) in (corners(4)[0::2], corners(4)[1::2]):
                    draw.line([(x0, y0), (x1, y1)], fill=grey, width=10)
            else:
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=grey, width=9)
            images.append(np.asarray(big.resize((28, 28), Image.LANCZOS)))
            labels.append(label)
    return np.stack(images), np.array(labels)


def picture(checkpoint: Path, folder: Path, out: Path, n: int = 10) -> None:
    """Rows: test images, their reconstructions (decoded means of q(z|x)), samples from the prior."""
    model, _ = load_checkpoint(checkpoint)
    test = load_dataset(str(folder)).test_x[:n]
    mu, _ = encode_means(model, test)
    rows = [to_grid_image(images, nrow=n, scale=3) for images in (test, decode_points(model, mu), sample_prior(model, n))]
    Image.fromarray(np.concatenate(rows)).save(out)


def likelihood_table(mnist: Path, work: Path, epochs: int) -> tuple[list[str], list[dict]]:
    runs = [(f"defaults, {name}", ["--likelihood", name]) for name in ("bernoulli", "continuous-bernoulli", "gaussian")]
    runs.append(("pytorch/examples recipe network (784-400-20 MLP), bernoulli", RECIPE))
    lines = [
        "| model and likelihood | test loss (nats) | bits/dim | IWAE-100 NLL (nats) | training (s) | picture |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    raw = []
    for label, options in runs:
        name = label.split(", ")[-1] if label.startswith("defaults") else "recipe"
        out = work / f"{name}.pt"
        r = train_and_eval(mnist, out, options, epochs, seed=0, iwae_k=100)
        png = RESULTS / f"likelihood-{name}.png"
        picture(out, mnist, png)
        raw.append(dict(r, label=label))
        lines.append(
            f"| {label} | {r['test_loss']:.1f} | {r['bits_per_dim']:.3f} | {r['iwae_nll']:.1f} | "
            f"{r['train_s']:.1f} | `results/{png.name}` |"
        )
        print(lines[-1], flush=True)
    return lines, raw


def defaults_table(sets: dict[str, Path], work: Path, epochs: int, seeds: int) -> tuple[list[str], list[dict]]:
    runs = [
        ("CLI defaults (no architecture options)", []),
        ("784-400-20 MLP", RECIPE),
        ("conv net, 20 latent", CONV),
        ("before: 512-256 MLP, 2-D code", BEFORE),
    ]
    lines = [
        "| data | " + " | ".join(label for label, _ in runs) + " | defaults / best reference |",
        "| --- | " + " | ".join("---" for _ in runs) + " | --- |",
    ]
    raw = []
    for data_name, folder in sets.items():
        medians = {}
        for label, options in runs:
            losses = [train_and_eval(folder, work / "d.pt", options, epochs, seed)["test_loss"] for seed in range(seeds)]
            medians[label] = statistics.median(losses)
            raw.append(dict(data=data_name, run=label, test_loss=losses))
            print(f"{data_name}: {label}: {losses}", flush=True)
        best = min(medians["784-400-20 MLP"], medians["conv net, 20 latent"])
        ratio = medians["CLI defaults (no architecture options)"] / best
        lines.append(f"| {data_name} | " + " | ".join(f"{medians[label]:.1f}" for label, _ in runs) + f" | {ratio:.3f} |")
    return lines, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warn_if_busy()
    machine = machine_line()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        images, labels, description = source_images()
        mnist = write_png_folder(images, labels, work / "mnist")
        shapes = write_png_folder(*shapes_28(), work / "shapes")
        likelihood_lines, likelihood_raw = likelihood_table(mnist, work, args.epochs)
        default_lines, default_raw = defaults_table(
            {description: mnist, "28x28 grey shapes (10,000, made here)": shapes}, work, args.epochs, args.seeds
        )
    command = f"python benchmarks/likelihoods.py --epochs {args.epochs} --seeds {args.seeds}"
    text = "\n".join(
        [
            f"{machine}\n\n`{command}`; {args.epochs} epochs, 8,000 train / 2,000 test images.\n",
            "Likelihoods (seed 0):\n",
            *likelihood_lines,
            f"\nDefaults: median test loss (Bernoulli, nats) over {args.seeds} seeds:\n",
            *default_lines,
        ]
    )
    (RESULTS / "likelihoods.md").write_text(text + "\n")
    (RESULTS / "likelihoods.json").write_text(
        json.dumps(dict(machine=machine, command=command, likelihoods=likelihood_raw, defaults=default_raw), indent=1)
    )
    print(text)


if __name__ == "__main__":
    main()
