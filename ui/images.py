"""Image helpers for display: crisp nearest-neighbour upscaling of small decoded images, as PNG data URLs.

The pages hand st.image a data URL, not an array. For an array Streamlit stores a media file that it
deletes when a later rerun ends without drawing it, and a browser that asked for the file a moment
after such a rerun showed a broken image (seen on Explore after a click on the map, in the browser
tests). A data URL travels inside the page update, so there is nothing to fetch and nothing to lose.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from vae_core.data.images import png_data_url, to_grid_image

if TYPE_CHECKING:
    import torch


def crisp(image: torch.Tensor, width: int = 168) -> str:
    """One (C, H, W) image in [0, 1], upscaled by an integer factor to about `width` pixels."""

    scale = max(1, width // image.shape[-1])
    return png_data_url(to_grid_image(image.unsqueeze(0), nrow=1, padding=0, scale=scale))


def grid(images: torch.Tensor, nrow: int, width: int = 480) -> str:
    """A grid of images, one pixel apart, upscaled by a whole factor to at least `width` pixels wide (the page
    shrinks it to its column when that is narrower; rounding the factor down left 28-pixel images at 28)."""

    scale = max(1, math.ceil(width / (nrow * (images.shape[-1] + 1) + 1)))
    return png_data_url(to_grid_image(images, nrow=nrow, padding=1, scale=scale))


def thumbnail(data: bytes, side: int = 256) -> str:
    """An image file's bytes (already known to be readable) shrunk to fit `side` pixels, upright."""
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
    im.thumbnail((side, side))
    return png_data_url(np.asarray(im))
