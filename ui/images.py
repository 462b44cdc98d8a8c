"""Image helpers for display: crisp nearest-neighbour upscaling of small decoded images."""
from __future__ import annotations

import numpy as np
import torch

from vae_core.latent import to_grid_image


def crisp(image: torch.Tensor, width: int = 168) -> np.ndarray:
    """One (C, H, W) image in [0, 1] -> uint8 (H', W', 3), upscaled by an integer factor to about `width`."""
    scale = max(1, width // image.shape[-1])
    return to_grid_image(image.unsqueeze(0), nrow=1, padding=0, scale=scale)


def grid(images: torch.Tensor, nrow: int, width: int = 480) -> np.ndarray:
    """A grid of images, one pixel apart, upscaled so the whole grid is about `width` pixels wide."""
    scale = max(1, width // (nrow * (images.shape[-1] + 1) + 1))
    return to_grid_image(images, nrow=nrow, padding=1, scale=scale)
