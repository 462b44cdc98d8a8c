"""A model's disentanglement scores: its posterior means on the test images, measured against known factors."""

from __future__ import annotations

import math

import torch

from vae_core.analysis.latent import encode_means
from vae_core.stats.metrics import all_metrics, best_dimensions, metric_sample


def score_model(model, data, seed: int = 0) -> dict:
    """Every metric of the model's posterior means on the dataset's test images (a vae_core Dataset with factors),
    as vae_core.stats.metrics.all_metrics gives them: each a finite float or None when it cannot be measured (then
    "metric_notes" says why), and "metric_sample", how many test images were measured. Of more test images than
    stats.metrics.MAX_METRIC_CODES only a sample drawn by `seed` is encoded at all. Plus "best_dimension" and
    "best_share": per factor, the dimension that carries most of it, and how much (a finite float or None). On as
    many threads as torch uses: in a training run, the run's share of the machine."""
    factors = data.factors
    images, labels, values = data.test_x, data.test_y, factors.test
    rows = metric_sample(len(images), seed)
    if rows is not None:
        index = torch.from_numpy(rows)
        images, labels, values = images[index], labels[index], values[rows]
    codes, _ = encode_means(model, images, y=labels)
    scores = all_metrics(
        codes,
        values,
        [k for k, n in enumerate(factors.names) if factors.is_categorical(n)],
        seed=seed,
        n_jobs=torch.get_num_threads(),
        factor_names=factors.names,
    )
    best = best_dimensions(codes, values)
    return dict(
        scores,
        best_dimension=[d for d, _ in best],
        best_share=[s if math.isfinite(s) else None for _, s in best],
    )
