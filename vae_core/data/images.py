"""Images for people: tiles of images laid out as one picture, and pictures as PNG data URLs.

Torch-free (numpy and PIL): the pages draw images with these before torch is loaded. A torch tensor passed in is
read through numpy's array protocol, so this module never imports torch.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_grid_image(images, nrow: int, padding: int = 1, scale: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """(N, C, H, W) in [0, 1] (float, or uint8 in 0..255) -> one uint8 RGB image (H', W', 3), nrow images per row,
    upscaled by an integer factor with nearest neighbour so small images stay crisp.

    Lays images out like torchvision's make_grid, in numpy: torchvision is slow to import (BENCHMARKS.md),
    which the app's cold start would pay just to tile a few images.
    """
    x = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images)
    x = (x / np.float32(255.0) if x.dtype == np.uint8 else x.astype(np.float32)).clip(0, 1)
    n, c, h, w = x.shape
    if c == 1:
        x = np.repeat(x, 3, axis=1)
    cols, rows = min(nrow, n), -(-n // nrow)
    canvas = np.full((3, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, np.float32)
    for i in range(n):
        top, left = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        canvas[:, top : top + h, left : left + w] = x[i, :3]
    if scale > 1:
        canvas = canvas.repeat(scale, axis=1).repeat(scale, axis=2)
    return np.ascontiguousarray((canvas * 255).round().astype(np.uint8).transpose(1, 2, 0))


def png_data_url(pixels: np.ndarray) -> str:
    """uint8 (H, W, 3) or (H, W) -> "data:image/png;base64,..."."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


MID_TONES = (0.1, 0.9)  # pixel values that are neither near black nor near white


def mid_tone_share(images) -> float:
    """The share of pixel values (N, C, H, W in [0, 1]) strictly between MID_TONES: near 0 for digits, sprites and
    flat icons, large for photographs, where a Bernoulli likelihood's loss is no density of the pixels."""
    x = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    low, high = MID_TONES
    return float(((x > low) & (x < high)).mean()) if x.size else 0.0
