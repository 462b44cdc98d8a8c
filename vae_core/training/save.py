"""Saving a finished run: its checkpoint with the test metrics measured now."""

from __future__ import annotations

import math
from pathlib import Path

from vae_core.analysis.scores import score_model
from vae_core.config import TrainConfig
from vae_core.data.datasets import Dataset
from vae_core.model.checkpoint import ResumeState, save_checkpoint
from vae_core.model.vae import VAE
from vae_core.training.loop import DisentanglementTerms, EpochEvent, EvalTerms, evaluate


def save_run(
    path,
    model: VAE,
    data: Dataset,
    config: TrainConfig,
    history: list,
    beta_changes=(),
    overwrite: bool = False,
    resume_state: ResumeState | None = None,
    measured: EpochEvent | None = None,
) -> tuple[Path, dict]:
    """Save a trained model with what it takes to explore and compare it later: its dataset's name, options
    (to rebuild the same split) and class names, the training config, how beta was changed while it trained,
    the history, and its test metrics, measured now at beta = 1 (a run stopped before its first epoch ended
    has them too), with the disentanglement metrics on data with known factors. -> (path, metrics)

    measured: the last epoch's event of a run that ended with that epoch, the model unchanged since: its test terms
    and scores are what measuring now would give (the same weights, the same seed), so they are taken as they are."""
    if measured is None:
        metrics: dict = dict(evaluate(model, data.test_x, seed=config.seed, y=data.test_y))  # scores, epoch join them
        scores = score_model(model, data, seed=config.seed) if data.factors is not None else {}
    else:
        measured_terms = EvalTerms.__annotations__.keys() - DisentanglementTerms.__annotations__.keys()  # evaluate()'s
        metrics = {name: value for name, value in measured.items() if name in measured_terms}
        scores = measured.get("disentanglement", {}) if data.factors is not None else {}
    metrics.update(_numbers_only(scores))  # what Compare sets against beta: MIG, DCI, SAP, the FactorVAE score
    # the epochs as its events count them (a whole number each; an event a file garbled does not count)
    metrics["epoch"] = max((e["epoch"] for e in history if e.get("type") == "epoch" and type(e.get("epoch")) is int), default=0)
    path = save_checkpoint(
        path,
        model,
        dataset=data.name,
        train_config=config,
        beta_changes=beta_changes,
        history=history,
        metrics=metrics,
        class_names=data.class_names,
        data_options=data.options,
        overwrite=overwrite,
        resume_state=resume_state,
    )
    return path, metrics


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _numbers_only(scores: dict) -> dict:
    """What a checkpoint keeps of the scores: finite numbers, and lists of them. A metric that could not be
    measured (None, with its note) is left out, so the app shows it as missing rather than as a number."""
    return {k: v for k, v in scores.items() if _finite(v) or (isinstance(v, list) and v and all(_finite(x) for x in v))}
