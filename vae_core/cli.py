"""Command line: `python -m vae_core train|sweep|eval|metrics|export ...`."""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
from dataclasses import replace
from pathlib import Path

import torch
from tqdm import tqdm

from vae_core.analysis.effects import label_effect
from vae_core.analysis.html_export import export_html
from vae_core.analysis.latent import build_map, build_map_without_data, nonlinear_map
from vae_core.analysis.replay import ReplayError, ReplayRecorder, from_history, to_history
from vae_core.analysis.scores import score_model
from vae_core.config import (
    ARCHS,
    BACKGROUNDS,
    DEFAULT_HIDDEN,
    LIKELIHOODS,
    OBJECTIVES,
    SCHEDULES,
    DataOptions,
    InputError,
    ModelChoice,
    RunSpec,
    TrainConfig,
    VAEConfig,
    parse_hidden,
)
from vae_core.data.datasets import DatasetError, load_data
from vae_core.data.sprites import DEFAULT_N as SPRITES_DEFAULT_N
from vae_core.model.bounds import iwae_nll, marginal_nll
from vae_core.model.checkpoint import CheckpointError, ResumeState, load_checkpoint, read_resume_state
from vae_core.model.likelihood import bits_per_dim
from vae_core.model.onnx_io import FILES, OnnxModelError, browser_decoder, export_onnx
from vae_core.model.vae import VAE
from vae_core.runs.sweep import RAY_INSTALL, SweepError, run_path, sweep
from vae_core.stats.metrics import METRIC_NAMES, METRIC_TITLES
from vae_core.store.atomic import write_atomic
from vae_core.store.files import write_failure
from vae_core.store.web_runtime import RuntimeMissing, read_runtime
from vae_core.training.build import build_model
from vae_core.training.loop import EpochEvent, NonFiniteLossError, StepEvent, evaluate, pick_device, train
from vae_core.training.save import save_run

DEFAULTS = TrainConfig()
MODEL_DEFAULTS = VAEConfig()


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """States each default, except None ones whose help already says what happens."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def _hidden_sizes(text: str) -> tuple[int, ...]:
    try:
        return parse_hidden(text)
    except InputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive(text: str) -> int:
    """A whole number of at least 1 (a latent size, a number of workers, an image side)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _add_data_options(p: argparse.ArgumentParser, default_data: str | None) -> None:
    p.add_argument(
        "--data",
        default=default_data,
        help="digits, mnist, fashion-mnist, sprites (shapes with known factors, drawn here), or a folder of "
        "images (class sub-folders give labels; a factors.csv gives factors)",
    )
    p.add_argument("--data-root", default="data", help="where MNIST / Fashion-MNIST are downloaded or kept")
    p.add_argument(
        "--image-size",
        type=_positive,
        default=None,
        help="side length for folder images (default: the first image's, at most 64) or sprites (default 64)",
    )
    p.add_argument(
        "--sprites-n", type=_positive, default=None, help=f"sprites: how many images to draw (default {SPRITES_DEFAULT_N})"
    )
    p.add_argument("--channels", default="auto", choices=["auto", "grayscale", "rgb"], help="colour of folder images")
    p.add_argument(
        "--background",
        default="white",
        choices=BACKGROUNDS,
        help="what transparent pixels of folder images are composited on (kept in the checkpoint, so its images are "
        "read the same way everywhere)",
    )


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """The architecture and training options of `train`, which `sweep` shares (all but beta and seed)."""
    p.add_argument(
        "--arch",
        default="auto",
        choices=("auto", *ARCHS),
        help="encoder/decoder architecture; auto: mlp for images under 16 px, conv otherwise",
    )
    p.add_argument(
        "--hidden",
        type=_hidden_sizes,
        default=None,
        help="mlp: hidden widths; conv: channels per stride-2 layer (default: "
        + ", ".join(f"{','.join(map(str, h))} for {a}" for a, h in DEFAULT_HIDDEN.items())
        + ")",
    )
    p.add_argument(
        "--latent-dim",
        type=_positive,
        default=None,
        help="number of latent dimensions (default: 2 for images under 16 px, so the map is the latent space; 20 otherwise)",
    )
    p.add_argument(
        "--likelihood",
        default=MODEL_DEFAULTS.likelihood,
        choices=LIKELIHOODS,
        help="p(x|z): bernoulli, continuous-bernoulli (a density for grey levels) or gaussian (learned sigma)",
    )
    p.add_argument(
        "--conditional",
        action="store_true",
        help="a conditional VAE: the encoder sees the image and its label, the decoder the code and the "
        "label (needs labelled data: a folder with one sub-folder per class)",
    )
    p.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help="passes over the training set")
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="images per step")
    p.add_argument("--lr", type=float, default=DEFAULTS.lr, help="Adam learning rate")
    p.add_argument("--beta-schedule", default=DEFAULTS.beta_schedule, choices=SCHEDULES, help="how beta moves over training")
    p.add_argument(
        "--warmup-epochs",
        type=float,
        default=DEFAULTS.warmup_epochs,
        help="linear: epochs to ramp beta up from 0; cyclical: epochs per cycle",
    )
    p.add_argument("--device", default=DEFAULTS.device, help="auto, cpu, cuda or mps")
    p.add_argument("--log-every", type=int, default=DEFAULTS.log_every, help="steps between logged metrics")
    p.add_argument(
        "--objective",
        default=DEFAULTS.objective,
        choices=OBJECTIVES,
        help="what training minimises: elbo (β-weighted), iwae (the importance-weighted bound) or tcvae "
        "(β-TCVAE: the KL split up, --tc-weight on its total correlation)",
    )
    p.add_argument("--iwae-k", type=_positive, default=DEFAULTS.iwae_k, help="iwae: samples per image")
    p.add_argument(
        "--tc-weight",
        type=_non_negative,
        default=DEFAULTS.tc_weight,
        help="tcvae: the weight of the total correlation (β weighs the other two terms)",
    )
    p.add_argument(
        "--free-bits",
        type=_non_negative,
        default=DEFAULTS.free_bits,
        help="nats per latent dimension that each one's batch-mean KL counts at least (0: off)",
    )


@functools.cache  # the same every time; parsing leaves it as it was, and main() runs in-process in tests and tools
def build_parser() -> argparse.ArgumentParser:
    fmt = _HelpFormatter
    parser = argparse.ArgumentParser(prog="python -m vae_core", description="Train and evaluate VAEs.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", formatter_class=fmt, help="train a VAE and save a checkpoint")
    _add_data_options(t, "digits")
    _add_model_options(t)
    t.add_argument("--beta", type=float, default=DEFAULTS.beta, help="KL weight (1 = the true ELBO)")
    t.add_argument("--seed", type=int, default=DEFAULTS.seed, help="seeds weights, shuffling and noise")
    t.add_argument("--out", required=True, help="checkpoint file to write (.pt)")
    t.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    t.add_argument(
        "--resume",
        metavar="CHECKPOINT",
        default=None,
        help="train this saved model --epochs more epochs, on its own data and settings (the data and "
        "model options are then ignored); its history, beta changes and replay go on",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    w = sub.add_parser("sweep", formatter_class=fmt, help="train a grid of betas x seeds, one checkpoint each")
    _add_data_options(w, "digits")
    _add_model_options(w)
    w.add_argument("--betas", type=_numbers(float), required=True, help="KL weights, comma-separated: 0.25,1,4")
    w.add_argument("--seeds", type=_numbers(int), default=(0,), help="seeds, comma-separated: 0,1,2")
    w.add_argument(
        "--out-dir",
        required=True,
        help="folder for the checkpoints (beta<B>-seed<S>.pt); runs already there are not trained again",
    )
    w.add_argument(
        "--workers", type=_positive, default=None, help="local runs at a time (default: half the cores, at most one per run)"
    )
    w.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS|local",
        help="run on a Ray cluster instead (local: start one on this machine); " + RAY_INSTALL,
    )
    w.add_argument("--json", action="store_true", help="print a JSON list of the runs instead of a table")
    w.add_argument("--quiet", action="store_true", help="no progress lines")

    e = sub.add_parser("eval", formatter_class=fmt, help="evaluate a checkpoint on its test set")
    e.add_argument("checkpoint", help="checkpoint file (.pt)")
    _add_data_options(e, None)
    e.add_argument("--iwae-k", type=int, default=0, help="importance samples for the IWAE log-likelihood (0: skip)")
    e.add_argument("--batch-size", type=int, default=500, help="images per evaluation batch")
    e.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    e.add_argument("--seed", type=int, default=0, help="seeds the evaluation noise")
    e.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    m = sub.add_parser(
        "metrics",
        formatter_class=fmt,
        help="disentanglement metrics (MIG, DCI, SAP, FactorVAE score) of a checkpoint on data with known factors",
    )
    m.add_argument("checkpoint", help="checkpoint file (.pt)")
    _add_data_options(m, None)
    m.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    m.add_argument("--seed", type=int, default=0, help="seeds the metrics' sampling and forests")
    m.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    x = sub.add_parser(
        "export",
        formatter_class=fmt,
        help="write a checkpoint as an ONNX model folder, or one of its views as a self-contained HTML file",
    )
    x.add_argument("checkpoint", help="checkpoint file (.pt) or ONNX model folder")
    x.add_argument("--onnx", metavar="DIR", help="write DIR/encoder.onnx, DIR/decoder.onnx and DIR/model.json")
    x.add_argument("--html", metavar="FILE", help="write the latent map as one HTML file that opens without a server")
    x.add_argument("--map", default="pca", choices=("pca", "umap", "tsne"), help="--html: the map's projection")
    x.add_argument("--colour", default="label", help="--html: colour by label or by one of the data's factors")
    x.add_argument(
        "--image",
        default="mean",
        choices=("mean", "mode"),
        help="--html: decoded images show the mean E[x|z] or the most likely x",
    )
    x.add_argument(
        "--label",
        default=None,
        help="--html, a conditional model: the class the decoded map is drawn under (default: the first)",
    )
    x.add_argument(
        "--grid-only",
        action="store_true",
        help="--html: leave out the decoder and its WebAssembly runtime (about 20 MB): the page shows the nearest of a "
        "grid of decodes under the cursor, not the exact point",
    )
    x.add_argument("--force", action="store_true", help="overwrite what is there")
    return parser


def run_spec(args, beta: float, seed: int) -> RunSpec:
    """The run that `train`'s or `sweep`'s options describe."""
    return RunSpec(
        data=data_options(args),
        model=ModelChoice(
            arch=args.arch,
            latent_dim=args.latent_dim,
            hidden=args.hidden or (),
            likelihood=args.likelihood,
            conditional=args.conditional,
        ),
        train=TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            beta=beta,
            beta_schedule=args.beta_schedule,
            warmup_epochs=args.warmup_epochs,
            seed=seed,
            device=args.device,
            log_every=args.log_every,
            objective=args.objective,
            iwae_k=args.iwae_k,
            tc_weight=args.tc_weight,
            free_bits=args.free_bits,
        ),
    )


def data_options(args) -> DataOptions:
    return DataOptions(
        name=args.data,
        root=args.data_root,
        image_size=args.image_size,
        channels=args.channels,
        sprites_n=args.sprites_n,
        background=args.background,
    )


def cmd_train(args) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CheckpointError(f"{out} already exists; pass --force to overwrite it.")
    if args.resume:
        return _train_further(args, out)
    spec = run_spec(args, args.beta, args.seed)
    data = load_data(spec.data, download=True)
    model = build_model(spec, data)
    state = ResumeState()
    history = _run_with_progress(model, data, spec.train, quiet=args.quiet, resume=state)
    _, m = save_run(
        out, model, data, spec.train, history, overwrite=args.force, resume_state=state, measured=_last_epoch(history)
    )
    _saved(out, model.config.likelihood, m)
    return 0


def _train_further(args, out: Path) -> int:
    """`train --resume CHECKPOINT`: the saved model trained --epochs more, as if its run had gone on."""

    state = read_resume_state(args.resume)  # refuses a file without it before anything is loaded
    model, meta = load_checkpoint(args.resume, device=pick_device(args.device))
    assert isinstance(model, VAE)  # read_resume_state refused a model folder (ONNX)
    if meta.train is None:
        raise CheckpointError(f"{args.resume} does not record how it was trained, so it cannot be trained further.")
    config = replace(meta.train, epochs=state.epochs_done + args.epochs, device=args.device)
    data = load_data(meta.data_options, download=True)
    try:
        replay = from_history(meta.history, meta.beta_changes, meta.image_shape)
    except ReplayError:
        replay = None  # a run saved without one: the replay starts here
    earlier = [e for e in meta.history if e.get("type") in ("step", "epoch")]
    history = _run_with_progress(
        model, data, config, quiet=args.quiet, resume=state, replay=replay, beta=lambda: meta.final_beta
    )  # where β ended, changed while it trained or not
    _, m = save_run(
        out,
        model,
        data,
        config,
        earlier + history,
        beta_changes=meta.beta_changes,
        overwrite=args.force,
        resume_state=state,
        measured=_last_epoch(history),
    )
    _saved(out, model.config.likelihood, m, f" after {state.epochs_done} epochs in all")
    return 0


def _last_epoch(history: list):
    """The last epoch's event of a run trained to its end (the CLI never stops one early; an error stops it
    before anything is saved): train() ends with that epoch, so the model is as the event measured it."""
    return next((event for event in reversed(history) if event.get("type") == "epoch"), None)


def _saved(out: Path, likelihood: str, m: dict, note: str = "") -> None:
    print(
        f"saved {out}{note}: test loss ({likelihood}) {m['test_loss']:.2f} nats (recon {m['test_recon']:.2f}, "
        f"KL {m['test_kl']:.2f}), {m['active_units']} active units",
        file=sys.stderr,
    )


def cmd_sweep(args) -> int:

    grid = len(args.betas) * len(args.seeds)
    bar = tqdm(total=grid, unit="run", desc="sweep", disable=args.quiet, file=sys.stderr)

    def started(beta, seed):
        if not args.quiet:
            bar.write(f"started  beta={beta:g} seed={seed}", file=sys.stderr)

    def done(row):
        if not args.quiet:
            what = row.get("error") or (
                f"test loss {row['test_loss']:.2f} (recon {row['test_recon']:.2f}, KL {row['test_kl']:.2f})"
            )
            bar.write(f"{row['status']:<8} beta={row['beta']:g} seed={row['seed']}: {what}", file=sys.stderr)
        bar.update(1)

    try:
        rows = sweep(
            run_spec(args, beta=DEFAULTS.beta, seed=DEFAULTS.seed),
            args.betas,
            args.seeds,
            args.out_dir,
            args.workers,
            args.ray,
            started,
            done,
        )
    except KeyboardInterrupt:
        bar.close()
        kept = [
            str(path) for beta in args.betas for seed in args.seeds if (path := run_path(args.out_dir, beta, seed)).is_file()
        ]  # a save is whole or absent
        print(
            f"interrupted: {len(kept)} of {grid} runs saved{': ' if kept else ''}{', '.join(kept)}; run the same "
            "command again to train the rest (saved runs are not trained again)",
            file=sys.stderr,
        )
        return 130
    finally:
        bar.close()
    print(json.dumps(rows) if args.json else _sweep_table(rows))
    return 0 if all(r["status"] != "failed" for r in rows) else 1


def _sweep_table(rows: list[dict]) -> str:
    lines = [f"{'beta':>8} {'seed':>5} {'status':<11} {'recon':>9} {'KL':>8} {'-ELBO':>9}  path or reason"]
    for r in rows:
        terms = (
            "{:9.2f} {:8.2f} {:9.2f}".format(r["test_recon"], r["test_kl"], r["test_loss"])
            if r["status"] != "failed"
            else f"{'':9} {'':8} {'':9}"
        )
        lines.append(f"{r['beta']:>8g} {r['seed']:>5} {r['status']:<11} {terms}  {r.get('error') or r['path']}")
    return "\n".join(lines)


def _numbers(kind):
    def parse(text: str):
        try:
            return tuple(kind(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 0.25,1,4, got {text!r}") from None

    return parse


def _run_with_progress(model, data, config, quiet: bool, resume: ResumeState | None = None, replay=None, beta=None):
    """Train with a progress bar; -> the events and the replay as history entries. `replay`: earlier frames to
    go on from."""

    history: list[StepEvent | EpochEvent] = []
    bar, recorder = None, ReplayRecorder(data, model.config.latent_dim)
    if replay is not None:
        recorder.replay.frames = list(replay.frames)
    replay = recorder
    try:
        for event in train(model, data, config, beta=beta, resume=resume):
            if event["type"] == "start":
                bar = tqdm(
                    total=event["total_steps"], unit="step", disable=quiet, file=sys.stderr, desc=f"train on {event['device']}"
                )
            elif event["type"] == "step":
                assert bar is not None  # made at the start event, which comes first
                bar.update(event["step"] - bar.n)
                bar.set_postfix(loss=f"{event['loss']:.2f}", kl=f"{event['kl']:.2f}", beta=f"{event['beta']:.2f}")
                history.append(event)
            elif event["type"] == "epoch":
                history.append(event)
                replay.record(model, event)
    finally:
        if bar is not None:
            bar.close()
    return history + [to_history(replay.replay)]


def cmd_eval(args) -> int:
    model, meta, data = _model_and_data(args)
    trained = meta.train  # None: built by hand or imported; its objective is not known
    result = dict(
        checkpoint=str(args.checkpoint),
        dataset=data.name,
        n_test=len(data.test_x),
        likelihood=model.config.likelihood,
        objective=None if trained is None else trained.objective,
        free_bits=None if trained is None else trained.free_bits,
        conditional=model.config.conditional,
        **evaluate(model, data.test_x, batch_size=args.batch_size, seed=args.seed, y=data.test_y),
    )
    result["bits_per_dim"] = bits_per_dim(result["test_loss"], model.config.image_shape)
    result["label_effect"] = label_effect(model)  # None unless conditional; under LITTLE: the decoder ignores the label
    if args.iwae_k > 0:
        result["iwae_k"] = args.iwae_k
        per_batch = max(1, args.batch_size * 50 // args.iwae_k)  # keep k * batch decoded images bounded in memory
        result["iwae_nll"] = iwae_nll(model, data.test_x, data.test_y, args.iwae_k, per_batch, args.seed)
        if model.config.conditional:  # iwae_nll bounds -log p(x|y); this one -log p(x), comparable with any model's
            prior = torch.bincount(data.train_y, minlength=model.config.num_classes).float() / len(data.train_y)
            result["iwae_nll_marginal"] = marginal_nll(model, data.test_x, args.iwae_k, per_batch, args.seed, prior)
    if args.json:
        print(strict_json(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


def strict_json(value) -> str:
    """value as JSON that any parser reads: a float that is not finite (NaN, ±inf) becomes null, at any depth, as
    JSON has no NaN (Python writes a bare NaN, which a browser's JSON.parse refuses)."""
    return json.dumps(_finite_or_none(value), allow_nan=False)


def _finite_or_none(value):
    if isinstance(value, float):  # numpy's float64 too
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_none(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def _model_and_data(args):
    """The checkpoint's model and its own data, or the data --data names instead."""
    model, meta = load_checkpoint(args.checkpoint, device=pick_device(args.device))
    options = meta.data_options
    if args.data:  # its split's share and seed kept
        options = replace(
            options, **{k: v for k, v in data_options(args).to_dict().items() if k not in ("test_fraction", "split_seed")}
        )
    data = load_data(options, download=True)
    if data.image_shape != model.config.image_shape:
        raise DatasetError(
            f"{options.name} has images of shape {data.image_shape}, the model expects {model.config.image_shape}."
        )
    return model, meta, data


def cmd_metrics(args) -> int:

    model, _, data = _model_and_data(args)
    if data.factors is None:
        raise DatasetError(
            f"{data.name} has no known factors, so disentanglement cannot be measured: use --data "
            "sprites, or a folder whose factors.csv names each image's factors."
        )
    scores = score_model(model, data, seed=args.seed)
    result = dict(
        checkpoint=str(args.checkpoint),
        dataset=data.name,
        n_images=len(data.test_x),
        **{name: scores[name] for name in METRIC_NAMES},
        factors=[
            dict(name=name, best_dimension=d, share=share)
            for name, d, share in zip(data.factors.names, scores["best_dimension"], scores["best_share"])
        ],
    )
    if args.json:  # how many codes were measured, and why a metric is None when one is
        print(strict_json(dict(result, metric_sample=scores.get("metric_sample"), metric_notes=scores.get("metric_notes", {}))))
        return 0
    print(f"{data.name}: {len(data.test_x)} test images, {model.config.latent_dim} latent dimensions")
    notes = scores.get("metric_notes", {})
    for name in METRIC_NAMES:
        print(f"{METRIC_TITLES[name]:>22}: {_figure(result[name], '.3f')}" + (f" ({notes[name]})" if name in notes else ""))
    print(f"(measured on {scores.get('metric_sample', len(data.test_x)):,} test images)")
    print("factor: the latent dimension that carries most of it (its share of the factor's entropy, beyond chance)")
    for f in result["factors"]:
        print(f"{f['name']:>22}: z{f['best_dimension'] + 1} ({_figure(f['share'], '.2f')})")
    return 0


def _figure(value, spec: str) -> str:
    """A measured number, or a dash for one that could not be measured (None)."""
    return "—" if value is None else format(value, spec)


def cmd_export(args) -> int:
    if not (args.onnx or args.html):
        raise InputError("say what to write: --onnx DIR, --html FILE, or both")
    model, meta = load_checkpoint(args.checkpoint)
    if args.onnx:
        _export_onnx(model, meta, Path(args.onnx), args.force)
    if args.html:
        _export_html(model, meta, Path(args.html), args)
    return 0


def _label_index(label: str | None, class_names: list) -> int:
    """--label, a class name, as its class number; the first class when not given."""
    names = [str(n) for n in class_names]
    if label is None:
        return 0
    if label in names:
        return names.index(label)
    raise InputError(f"--label must be one of the model's classes ({', '.join(names)}), not {label!r}")


def _export_onnx(model, meta, folder: Path, force: bool) -> None:

    if any((folder / name).exists() for name in FILES) and not force:
        raise CheckpointError(f"{folder} already holds a model; pass --force to overwrite it.")
    export_onnx(model, meta, folder)
    sizes = ", ".join(f"{name} {(folder / name).stat().st_size / 1024:.0f} KB" for name in FILES)
    print(f"wrote {folder}: {sizes}", file=sys.stderr)


def _in_page(model, checkpoint: str) -> tuple | None:
    """The decoder's ONNX and onnxruntime-web's files, for a page that decodes the exact point itself; None, with a
    note saying why, for one that shows the grid of decodes."""
    try:
        return browser_decoder(model, checkpoint), read_runtime()
    except (OnnxModelError, RuntimeMissing) as err:
        print(f"note: the page shows a grid of decodes, not the exact point: {str(err).rstrip('.')}.", file=sys.stderr)
        return None


def _export_html(model, meta, out: Path, args) -> None:

    if out.exists() and not args.force:
        raise CheckpointError(f"{out} already exists; pass --force to overwrite it.")
    try:
        data = load_data(meta.data_options, download=False)
    except DatasetError as err:  # the map is drawn from the model's own samples; no dots, no thumbnails
        print(f"note: {err} The page shows the decoded map without test images.", file=sys.stderr)
        data = None
    if data is None:
        md, test_x = build_map_without_data(model, meta.class_names, "its data are not here"), None
    else:
        md, test_x = build_map(model, data.test_x, data.test_y, data.class_names, data.factors), data.test_x
    if args.colour != "label" and args.colour not in md.factor_names:
        raise InputError(f"--colour must be label{''.join(', ' + n for n in md.factor_names)}, not {args.colour!r}")
    projection = args.map if model.config.latent_dim > 2 and len(md.mu) else "pca"  # 2-D: the map is the space
    if projection != "pca":
        md = nonlinear_map(md, projection)
    model = model.with_label(_label_index(args.label, md.class_names)) if model.config.conditional else model
    in_page = None if args.grid_only else _in_page(model, args.checkpoint)
    page = export_html(model, meta, md, test_x, projection, args.colour, args.image, Path(args.checkpoint).stem, in_page)
    try:
        write_atomic(out, page)
    except OSError as err:
        raise CheckpointError(write_failure(err, f"the page {out.name}", out.parent)) from err
    print(f"wrote {out}: {out.stat().st_size / 2**20:.1f} MB", file=sys.stderr)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        commands = {"train": cmd_train, "sweep": cmd_sweep, "eval": cmd_eval, "metrics": cmd_metrics, "export": cmd_export}
        return commands[args.command](args)
    except (DatasetError, CheckpointError, NonFiniteLossError, InputError, SweepError) as err:  # said for people
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing was saved", file=sys.stderr)
        return 130
    except Exception as err:  # anything else still ends in one line, not a traceback (VAE_DEBUG=1 shows it)
        if os.environ.get("VAE_DEBUG"):
            raise
        # its kind only: the text names internals and can quote whatever a file held (a terminal would act on that)
        print(
            f"error: {args.command} failed unexpectedly ({type(err).__name__}); set VAE_DEBUG=1 for the details",
            file=sys.stderr,
        )
        return 1
