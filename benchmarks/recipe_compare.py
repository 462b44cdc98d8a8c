"""vae_core against the pytorch/examples VAE recipe: training speed and model quality, same data, same epochs.

    .venv/bin/python benchmarks/recipe_compare.py [--epochs 10] [--rounds 3] [--iwae-k 100] [--json out.json]
        [--contenders mlp,recipe,conv,recipe-memory] [--vary-seed] [--speed-only] [--wait-quiet SHARE]

Data: the real MNIST test split (10,000 images; sklearn digits when it is missing), written once as PNGs
in class sub-folders. vae_core loads the folder with its own loader and seeded split (8,000 train /
2,000 test); the recipe (benchmarks/recipe_pytorch_examples.py) reads the same folder through
torchvision's ImageFolder, cut to the same train and test files.

Contenders, each a separate process, seed 0 (--vary-seed: seed = round), CPU, batch 128, Adam lr 1e-3:
  mlp            python -m vae_core train --arch mlp --hidden 400 --latent-dim 20 (the recipe's network)
  recipe         the recipe: DataLoader over ImageFolder, per-sample ToTensor, PNGs decoded every epoch
  conv           python -m vae_core train --arch conv --latent-dim 20 (default channels)
  recipe-memory  the recipe over images decoded once, converted per sample like datasets.MNIST
Rounds rotate the order so machine noise hits every contender alike; the table gives medians. With two
contenders the rounds alternate them (A B, B A, A B, ...), so each whole-process ratio is also taken per
round, the two runs next to each other: on a shared machine that paired ratio is the steadier figure.
"others' CPU" is the share of the CPUs other processes used during a run (median per contender); on a shared
machine --wait-quiet SHARE starts each run only once others use at most that share, and runs again (up to 5
tries) a run during which they used more; a last line gives the whole process over the quiet runs alone
(others' CPU at most 10% while it ran).
vae_core's folder cache lives in the temporary folder (VAE_EXPLORER_CACHE), filled once before the rounds:
every vae_core run loads the folder as a user's second run does, and nothing is left in the user's cache.
vae_core's bytecode is written once before the rounds too (cache_bytecode), as a user's first run or pip writes it.

Speed: whole-process wall time (launch to exit: imports, data loading, training, a test pass per epoch,
saving) and training samples/s = training images / train-loop seconds of an epoch (test pass
excluded), median over epochs. vae_core's train-loop seconds come from the step windows in its
checkpoint history, the recipe's from a clock around its train(epoch).
Quality: every model is scored by the same code, `python -m vae_core eval --json --iwae-k K` on the
2,000 test images; the recipe's weights are copied into the identical vae_core MLP first (sigmoid +
BCE there, BCE-with-logits here: the same function, checked on a batch). "own final test loss" is what
each engine itself reported after its last epoch (a different noise draw, same quantity). --speed-only
skips the scoring (the timings do not depend on it; it only makes a round longer).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench_common import (  # noqa: E402
    ROOT,
    epoch_train_seconds,
    machine_line,
    others_cpu,
    source_images,
    wait_until_quiet,
    warn_if_busy,
    write_png_folder,
)
from recipe_pytorch_examples import VAE as RecipeVAE  # noqa: E402
from recipe_pytorch_examples import loss_function  # noqa: E402

from vae_core import VAE, VAEConfig, elbo, load_checkpoint, load_dataset, save_checkpoint  # noqa: E402
from vae_core.data.datasets import _split, as_float  # noqa: E402

BATCH = 128
CONTENDERS = ("mlp", "recipe", "conv", "recipe-memory")


def prepare(work: Path):
    """PNG folder, vae_core's view of it, and the same split as file lists for the recipe."""
    images, labels, description = source_images()
    folder = write_png_folder(images, labels, work / "data")
    data = load_dataset(str(folder))
    files = sorted(p for p in folder.rglob("*.png"))  # the order vae_core's folder loader reads them in
    # vae_core's own split code applied to file numbers instead of images gives the split's files
    o = data.options
    idx = _split("files", torch.arange(len(files)), torch.arange(len(files)), [], o.test_fraction, o.split_seed, o)
    split = {
        part: [str(files[i].relative_to(folder)) for i in ids.tolist()]
        for part, ids in (("train", idx.train_x), ("test", idx.test_x))
    }
    for part, x in (("train", data.train_x), ("test", data.test_x)):
        check_same_images(folder, split[part], x)
    split_file = work / "split.json"
    split_file.write_text(json.dumps(split))
    return folder, data, split_file, description


def check_same_images(folder: Path, files: list[str], x: torch.Tensor) -> None:
    pixels = np.stack([np.asarray(Image.open(folder / f).convert("L")) for f in files])
    if not np.array_equal(pixels, (as_float(x)[:, 0] * 255).round().to(torch.uint8).numpy()):
        raise RuntimeError("the recipe's split files do not hold vae_core's split images")


def timed(cmd: list[str], log: Path) -> tuple[float, float]:
    """Whole-process seconds of a command, and the share of the CPUs that other processes used meanwhile."""
    seen: dict = {}
    with others_cpu(seen), open(log, "w") as f:
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, check=True)
        wall = time.perf_counter() - t0
    return wall, seen["others_cpu"]


def run_vae_core(arch: str, folder: Path, out: Path, epochs: int, seed: int, n_train: int) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "vae_core",
        "train",
        "--data",
        str(folder),
        "--arch",
        arch,
        "--latent-dim",
        "20",
        "--epochs",
        str(epochs),
        "--batch-size",
        str(BATCH),
        "--lr",
        "1e-3",
        "--seed",
        str(seed),
        "--device",
        "cpu",
        "--out",
        str(out / "model.pt"),
        "--quiet",
    ]
    if arch == "mlp":
        cmd += ["--hidden", "400"]
    wall, others = timed(cmd, out / "log.txt")
    _, meta = load_checkpoint(out / "model.pt")
    return dict(
        wall_s=wall,
        others_cpu=others,
        epoch_train_s=epoch_train_seconds(meta.history, n_train, BATCH),
        own_test_loss=meta.metrics["test_loss"],
        checkpoint=str(out / "model.pt"),
    )


def run_recipe(source: str, folder: Path, split_file: Path, out: Path, epochs: int, seed: int, data) -> dict:
    cmd = [
        sys.executable,
        str(HERE / "recipe_pytorch_examples.py"),
        "--data",
        str(folder),
        "--split",
        str(split_file),
        "--out",
        str(out),
        "--epochs",
        str(epochs),
        "--seed",
        str(seed),
        "--source",
        source,
    ]
    wall, others = timed(cmd, out.with_suffix(".log"))
    metrics = json.loads((out / "metrics.json").read_text())
    checkpoint = recipe_as_vae_core(out / "model.pt", data, out / "as-vae-core.pt")
    return dict(
        wall_s=wall,
        others_cpu=others,
        epoch_train_s=metrics["epoch_train_s"],
        own_test_loss=metrics["test_loss"][-1],
        checkpoint=str(checkpoint),
    )


def recipe_as_vae_core(state_file: Path, data, out: Path) -> Path:
    """The recipe's weights in the identical vae_core MLP (fc21/fc22 stacked into to_stats), saved as a checkpoint."""
    s = torch.load(state_file, weights_only=True)
    model = VAE(VAEConfig(image_shape=data.image_shape, latent_dim=20, hidden=(400,), arch="mlp"))
    model.load_state_dict(
        {
            "encoder.1.0.weight": s["fc1.weight"],
            "encoder.1.0.bias": s["fc1.bias"],
            "to_stats.weight": torch.cat([s["fc21.weight"], s["fc22.weight"]]),
            "to_stats.bias": torch.cat([s["fc21.bias"], s["fc22.bias"]]),
            "decoder.0.weight": s["fc3.weight"],
            "decoder.0.bias": s["fc3.bias"],
            "decoder.2.weight": s["fc4.weight"],
            "decoder.2.bias": s["fc4.bias"],
        }
    )
    check_same_function(model.eval(), s, as_float(data.test_x[:BATCH]))
    return save_checkpoint(out, model, dataset=data.name, data_options=data.options, overwrite=True)


@torch.no_grad()
def check_same_function(model: VAE, recipe_state: dict, x: torch.Tensor) -> None:
    """Same encoder, decoder and loss on a batch: sigmoid + BCE(sum) / B there, BCE-with-logits mean here."""
    recipe = RecipeVAE(pixels=x[0].numel())
    recipe.load_state_dict(recipe_state)
    mu, logvar = model.encode(x)
    r_mu, r_logvar = recipe.encode(x.flatten(1))
    logits = model.decode(mu)
    recipe_loss = loss_function(recipe.decode(mu), x, mu, logvar, recipe.pixels).item() / len(x)
    ours = elbo(x, logits, mu, logvar).loss.item()
    if not (
        torch.allclose(mu, r_mu, atol=1e-5)
        and torch.allclose(logvar, r_logvar, atol=1e-5)
        and torch.allclose(torch.sigmoid(logits).flatten(1), recipe.decode(mu), atol=1e-5)
        and abs(recipe_loss - ours) < 1e-3 * abs(ours)
    ):
        raise RuntimeError(f"recipe and vae_core MLP disagree (loss {recipe_loss:.4f} vs {ours:.4f})")


def evaluate(checkpoint: str, iwae_k: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "vae_core", "eval", checkpoint, "--json", "--iwae-k", str(iwae_k), "--device", "cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def run_one(name: str, work: Path, args, seed: int, folder, data, split_file) -> dict:
    out = work / name
    out.mkdir(parents=True, exist_ok=True)
    if name in ("mlp", "conv"):
        result = run_vae_core(name, folder, out, args.epochs, seed, len(data.train_x))
    else:
        source = "memory" if name == "recipe-memory" else "folder"
        result = run_recipe(source, folder, split_file, out, args.epochs, seed, data)
    result["samples_per_s"] = statistics.median(len(data.train_x) / s for s in result["epoch_train_s"])
    checkpoint = result.pop("checkpoint")
    if not args.speed_only:
        result["eval"] = evaluate(checkpoint, args.iwae_k)  # the file goes with the temp folder
    return result


QUIET = 0.1  # a run during which other processes used at most this share of the CPUs counts as a quiet one


TRIES = 5  # --wait-quiet: how many times a run that others disturbed is run, the last one kept either way


def run_quietly(name: str, r: int, work: Path, args, seed: int, folder, data, split_file) -> dict:
    """run_one; with --wait-quiet SHARE, started once other processes use at most SHARE of the CPUs, and run again
    when they used more than that while it ran (a shared machine's other work slows both engines, by up to tens
    of times). The result says how many tries it took."""
    for tries in range(1, TRIES + 1):
        gate = wait_until_quiet(args.wait_quiet) if args.wait_quiet is not None else {}
        result = run_one(name, work / f"round{r}-try{tries}", args, seed, folder, data, split_file)
        if args.wait_quiet is None or result["others_cpu"] <= args.wait_quiet or tries == TRIES:
            return dict(tries=tries, **gate, **result)
        print(
            f"round {r} {name}: {result['wall_s']:.1f} s, others used {result['others_cpu']:.0%} of the CPUs: run again",
            file=sys.stderr,
            flush=True,
        )
    raise AssertionError("unreachable")


def summarize(runs: list[dict], contenders: list[str]) -> dict:
    """Medians per contender (whole process and quality also as [min, max]), and speed ratios against each
    recipe variant run: of the medians, and the median of the per-round ratios (the runs of a round side by side).
    The whole process also over the quiet runs alone (others' CPU at most QUIET), where there are any."""
    scored = all("eval" in r for r in runs)
    speed, quality = ("wall_s", "samples_per_s", "others_cpu"), ("test_loss", "iwae_nll", "own_test_loss", "active_units")
    summary = {}
    for name in contenders:
        mine = [dict(r, **r.get("eval", {})) for r in runs if r["contender"] == name]
        s = {k: statistics.median(r[k] for r in mine) for k in speed + (quality if scored else ())}
        ranged = ("wall_s",) + (("test_loss", "iwae_nll") if scored else ())
        s.update({f"{k}_range": [min(r[k] for r in mine), max(r[k] for r in mine)] for k in ranged})
        quiet = [r["wall_s"] for r in mine if r["others_cpu"] <= QUIET]
        s.update(quiet_runs=len(quiet), wall_s_quiet=statistics.median(quiet) if quiet else None)
        summary[name] = s
    wall = {(r["round"], r["contender"]): r["wall_s"] for r in runs}
    for base in ("recipe", "recipe-memory"):
        for name, s in summary.items() if base in summary else ():
            s[f"x_{base}_samples_per_s"] = s["samples_per_s"] / summary[base]["samples_per_s"]
            s[f"x_{base}_wall"] = summary[base]["wall_s"] / s["wall_s"]
            paired = [wall[r, base] / wall[r, name] for r, c in wall if c == name and (r, base) in wall]
            s[f"x_{base}_wall_per_round"] = paired
            s[f"x_{base}_wall_paired"] = statistics.median(paired)
            if s["wall_s_quiet"] and summary[base]["wall_s_quiet"]:
                s[f"x_{base}_wall_quiet"] = summary[base]["wall_s_quiet"] / s["wall_s_quiet"]
    return summary


def table(summary: dict, iwae_k: int) -> str:
    """Ratios against the folder recipe (it reads the same files as vae_core); a line each against recipe-memory."""
    base = "recipe" if "recipe" in summary else "recipe-memory"
    scored = all("test_loss" in s for s in summary.values())
    header = (
        f"| contender | whole process (s) | train samples/s | x {base} (samples/s) | x {base} (wall) "
        f"| x {base} (wall, per round) | others' CPU |"
    )
    if scored:
        header += f" test -ELBO | IWAE-{iwae_k} NLL | own final test loss | active units |"
    rows = [header, "| --- " * (header.count(" | ") + 1) + "|"]
    for name, s in summary.items():
        cells = [
            _with_range(s["wall_s"], s["wall_s_range"], 1),
            f"{s['samples_per_s']:,.0f}",
            f"{s.get(f'x_{base}_samples_per_s', 0):.2f}",
            f"{s.get(f'x_{base}_wall', 0):.2f}",
            f"{s.get(f'x_{base}_wall_paired', 0):.2f}",
            f"{s['others_cpu']:.0%}",
        ]
        if scored:
            cells += [
                _with_range(s["test_loss"], s["test_loss_range"]),
                _with_range(s["iwae_nll"], s["iwae_nll_range"]),
                f"{s['own_test_loss']:.2f}",
                f"{s['active_units']:.0f}",
            ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    rows.append(
        f"\nQuiet runs only (others' CPU at most {QUIET:.0%} during the run): "
        + ", ".join(
            f"{name} {s['quiet_runs']} run(s)"
            + (f", median {s['wall_s_quiet']:.1f} s" if s["quiet_runs"] else "")
            + (f", x{s[f'x_{base}_wall_quiet']:.2f} {base} (wall)" if f"x_{base}_wall_quiet" in s and name != base else "")
            for name, s in summary.items()
        )
    )
    if base == "recipe" and "recipe-memory" in summary:
        rows.append(
            "\nAgainst recipe-memory (the recipe's in-memory path, as torchvision.datasets.MNIST): "
            + ", ".join(
                f"{name} x{s['x_recipe-memory_samples_per_s']:.2f} samples/s, x{s['x_recipe-memory_wall']:.2f} wall"
                for name, s in summary.items()
                if name != "recipe-memory"
            )
        )
    return "\n".join(rows)


def _with_range(median: float, span: list[float], digits: int = 2) -> str:
    m, lo, hi = (f"{v:.{digits}f}" for v in (median, *span))
    return m if lo == hi else f"{m} [{lo}, {hi}]"


def cache_bytecode() -> None:
    """vae_core's modules compiled once (vae_core/__pycache__), as a user's second run finds them: Python writes the
    bytecode at the first import, pip at install. Where PYTHONDONTWRITEBYTECODE is set (the sandbox these figures
    come from sets it) Python never writes it, so every vae_core run compiled its 50 modules again (about 0.25 s),
    while the recipe's libraries, torch and torchvision, came compiled by pip. The recipe's own script, run as a
    file, is compiled at every start either way: Python keeps the bytecode of imported modules only."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "vae_core")], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iwae-k", type=int, default=100)
    parser.add_argument(
        "--vary-seed",
        action="store_true",
        help="round r trains with seed r (a quality spread across seeds); default: seed 0 every round",
    )
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated, from the default")
    parser.add_argument("--json", help="write the raw numbers here")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        metavar="SHARE",
        help="on a shared machine: start each run only once other processes use at most this share of the CPUs "
        f"(e.g. 0.15; at most 10 minutes' wait), and run it again (up to {TRIES} tries) when they used more meanwhile",
    )
    parser.add_argument("--speed-only", action="store_true", help="time only: do not score the models with vae_core eval")
    args = parser.parse_args()
    machine = machine_line()  # the load average before this script adds its own
    warn_if_busy()
    contenders = [c for c in args.contenders.split(",") if c]
    if unknown := set(contenders) - set(CONTENDERS):
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="recipe-compare-") as tmp:
        work = Path(tmp)
        os.environ["VAE_EXPLORER_CACHE"] = str(work / "cache")  # read by prepare's load and every vae_core run
        folder, data, split_file, description = prepare(work)
        cache_bytecode()
        runs = []
        for r in range(args.rounds):
            for name in contenders[r % len(contenders) :] + contenders[: r % len(contenders)]:
                seed = r if args.vary_seed else 0
                result = run_quietly(name, r, work, args, seed, folder, data, split_file)
                runs.append(dict(round=r, seed=seed, contender=name, **result))
                scores = result.get("eval")
                print(
                    f"round {r} {name}: {result['wall_s']:.1f} s, {result['samples_per_s']:,.0f} samples/s, "
                    f"others' CPU {result['others_cpu']:.0%}"
                    + (f", test -ELBO {scores['test_loss']:.2f}, IWAE NLL {scores['iwae_nll']:.2f}" if scores else ""),
                    file=sys.stderr,
                    flush=True,
                )
    summary = summarize(runs, contenders)
    seeds = "seed = round" if args.vary_seed else "seed 0"
    header = (
        f"{machine}\n\nData: {description}; {len(data.train_x):,} train / {len(data.test_x):,} test "
        f"{'x'.join(map(str, data.image_shape))} images. Epochs: {args.epochs}, {seeds}, CPU; medians over "
        f"rounds: {args.rounds} [min, max where they differ]."
        + ("" if args.speed_only else " Losses: nats per image on the test split, scored by `vae_core eval`.")
        + "\n"
    )
    print(header)
    print(table(summary, args.iwae_k))
    if args.json:
        raw = dict(
            machine=machine,
            data=description,
            n_train=len(data.train_x),
            n_test=len(data.test_x),
            epochs=args.epochs,
            rounds=args.rounds,
            vary_seed=args.vary_seed,
            iwae_k=None if args.speed_only else args.iwae_k,
            summary=summary,
            runs=runs,
        )
        Path(args.json).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
