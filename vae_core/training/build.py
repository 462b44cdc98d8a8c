"""A run's untrained model, made in one place from its spec (RunSpec) and its loaded images."""

from __future__ import annotations

from vae_core.config import RunSpec
from vae_core.data.datasets import Dataset
from vae_core.model.vae import VAE
from vae_core.training.loop import seed_everything


def build_model(spec: RunSpec, data: Dataset) -> VAE:
    """The untrained model this run trains on `data`, its weights drawn from the run's seed, so the same spec
    always starts from the same model."""
    config = spec.model.config_for(data.image_shape, data.class_names)
    seed_everything(spec.train.seed)
    return VAE(config)
