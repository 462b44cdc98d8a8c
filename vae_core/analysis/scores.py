"""A model's disentanglement scores: its posterior means on the test images, measured against known factors."""

from __future__ import annotations

import torch

from vae_core.analysis.latent import encode_means
from vae_core.stats.metrics import all_metrics, best_dimensions


def score_model(model, data, seed: int = 0) -> dict:
    """Every metric of the model's posterior means on the dataset's test images (a vae_core Dataset with factors),
    plus "best_dimension" and "best_share": per factor, the dimension that carries most of it, and how much. On
    as many threads as torch uses: in a training run, the run's share of the machine."""
    codes, _ = encode_means(model, data.test_x, y=data.test_y)
    factors = data.factors
    scores = all_metrics(
        codes,
        factors.test,
        [k for k, n in enumerate(factors.names) if factors.is_categorical(n)],
        seed=seed,
        n_jobs=torch.get_num_threads(),
    )
    best = best_dimensions(codes, factors.test)
    return dict(scores, best_dimension=[d for d, _ in best], best_share=[s for _, s in best])
