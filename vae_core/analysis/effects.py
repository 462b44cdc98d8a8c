"""How much a decoder's input changes what it draws: the label of a conditional model, and each latent dimension
along a traversal. A view that shows nothing (nine nearly identical rows per class) then says why.

Both are measured as spreads of decoded mean images. The spread of a set of images is the root mean square
distance of its images from their mean image, per pixel (pixels in [0, 1]), computed in float64.

- The label's effect: the spread across labels at one code, averaged over codes, divided by the spread across
  codes at one label, averaged over labels. Near 0 the decoder ignores the label; near 1 or more the label changes
  the image as much as the code does.
- A traversal row's effect: the spread along the row (one dimension swept, the others held) divided by the spread
  of prior samples' decodings: how much that dimension moves the image, against what separates two samples.

Under LITTLE, the page says that the input "changes little".
"""

from __future__ import annotations

import numpy as np
import torch

from vae_core.analysis.latent import decode_points, every_label, prior_latents

LITTLE = 0.2  # a ratio under this is said to change little: a fifth of what separates codes
CODES = 64  # prior codes the spreads are measured on (fixed seed: the same figure every time)


def spread(images: torch.Tensor) -> float:
    """The RMS distance of images (N, ...) from their mean image, per pixel; 0 for fewer than two images."""
    x = images.detach().to(torch.float64).flatten(1)
    return float((x - x.mean(0)).pow(2).mean().sqrt()) if len(x) > 1 else 0.0


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0  # a decoder that draws one image whatever its input: nothing changes


def label_effect(model, codes: int = CODES, seed: int = 0) -> float | None:
    """A conditional model's label effect (see the module), or None for an unconditional one."""
    k = model.config.num_classes
    if not k:
        return None
    z = prior_latents(codes, model.config.latent_dim, seed=seed)
    images = every_label(model, z).reshape(codes, k, -1)  # one row of k labels per code
    across_labels = np.mean([spread(images[i]) for i in range(codes)])
    across_codes = np.mean([spread(images[:, j]) for j in range(k)])
    return _ratio(float(across_labels), float(across_codes))


def sample_spread(model, shown: str = "mean", codes: int = CODES, seed: int = 0) -> float:
    """The spread of prior samples' decodings, shown as a traversal shows its rows ("mean" or "mode"): what a
    row's spread is set against."""
    return spread(decode_points(model, prior_latents(codes, model.config.latent_dim, seed=seed), shown))


def row_effects(images: torch.Tensor, steps: int, between_samples: float) -> list[float]:
    """Each traversal row's effect: images (rows * steps, C, H, W) in rows of `steps`, against `between_samples`
    (sample_spread)."""
    return [_ratio(spread(images[r : r + steps]), between_samples) for r in range(0, len(images), steps)]
