"""One image as a model reads it: its ELBO terms estimated by sampling, and what it decodes to."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from vae_core.analysis.latent import decode_points
from vae_core.config import InputError
from vae_core.data.datasets import as_float
from vae_core.model.bounds import ImageTerms, image_terms


class ImageReading(NamedTuple):
    """One image as one model reads it: its ELBO terms and the two decodings the pages show."""

    terms: ImageTerms
    reconstruction: torch.Tensor  # (C, H, W): decoded from the first sample of q(z|x)
    mean: torch.Tensor  # (C, H, W): decoded from the posterior mean


def read_image(model, x: torch.Tensor, samples: int = 500, seed: int = 0) -> ImageReading:
    """One image x (C, H, W) as one model reads it: its terms (image_terms) and the decodings of the first sample of
    q(z|x) and of its mean."""
    terms = image_terms(model, as_float(x), samples=samples, seed=seed)
    reconstruction, mean = decode_points(model, np.stack([terms.z_sample, terms.mu]))
    return ImageReading(terms, reconstruction, mean)


def read_with_each(models, x: torch.Tensor, samples: int = 500, seed: int = 0) -> list[ImageReading]:
    """The same image x (C, H, W) through each model, with the same noise seed for each, so the terms differ only
    by the models (read_image)."""
    shapes = {tuple(m.config.image_shape) for m in models}
    if shapes != {tuple(x.shape)}:
        raise InputError(f"the image is {tuple(x.shape)}, the models take {sorted(shapes)}: one image cannot go through all")
    return [read_image(model, x, samples, seed) for model in models]
