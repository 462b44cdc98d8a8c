"""Whatever images the notebook is given, as the engine's: (N, C, H, W) uint8 or float32 in [0, 1], labels, names.

A tensor or numpy array of images (N, C, H, W) or (N, H, W); a vae_core Dataset (its test split, as the app maps);
or a torchvision dataset (or any sequence of (image, label) pairs). At most MAX_POINTS images: a map of more would
be a slow page and a slow encode, so the message names the limit and how to pass a subset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MAX_POINTS = 100_000


@dataclass
class Images:
    x: torch.Tensor  # (N, C, H, W) uint8, or float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64: 0 for all when none were given
    class_names: list

    @property
    def image_shape(self) -> tuple:
        return tuple(self.x.shape[1:])


def as_images(data, labels=None) -> Images:
    """The images `data` holds (see the module's note); labels may be given beside a tensor or array."""
    if hasattr(data, "test_x") and hasattr(data, "test_y"):  # a vae_core Dataset: the app maps its test split
        _check_count(len(data.test_x))
        return Images(data.test_x, data.test_y.long(), list(data.class_names))
    if isinstance(data, (torch.Tensor, np.ndarray)):
        return Images(_image_tensor(data), _labels(labels, len(data)), [])
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        return _from_pairs(data)
    raise TypeError(
        "data must be a tensor or numpy array of images, a vae_core Dataset or a torchvision dataset; "
        f"got {type(data).__name__}."
    )


def _check_count(n: int) -> None:
    if n > MAX_POINTS:
        raise ValueError(
            f"The map draws at most {MAX_POINTS:,} points and the data hold {n:,}; pass a subset, such as data[:{MAX_POINTS}]."
        )
    if n == 0:
        raise ValueError("The data hold no images.")


def _image_tensor(data) -> torch.Tensor:
    _check_count(len(data))
    x = torch.as_tensor(np.asarray(data)) if isinstance(data, np.ndarray) else data.detach().cpu()
    if x.dim() == 3:  # (N, H, W): grey images
        x = x[:, None]
    if x.dim() != 4:
        raise ValueError(f"Images must be shaped (N, C, H, W) or (N, H, W); these are {tuple(x.shape)}.")
    if x.dtype == torch.uint8:
        return x
    x = x.float()
    if not torch.isfinite(x).all():
        raise ValueError("The images hold NaN or infinite values.")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(
            "Images must be floats in [0, 1] or uint8 in 0..255; these floats run from "
            f"{float(x.min()):.3g} to {float(x.max()):.3g}."
        )
    return x


def _labels(labels, n: int) -> torch.Tensor:
    if labels is None:
        return torch.zeros(n, dtype=torch.int64)
    y = torch.as_tensor(np.asarray(labels)).long().reshape(-1)
    if len(y) != n:
        raise ValueError(f"There are {len(y)} labels for {n} images.")
    return y


def _from_pairs(dataset) -> Images:
    """A torchvision dataset: its stored arrays when it has them (MNIST's .data and .targets), else its items."""
    _check_count(len(dataset))
    names = [str(c) for c in getattr(dataset, "classes", [])]
    if isinstance(getattr(dataset, "data", None), (torch.Tensor, np.ndarray)) and hasattr(dataset, "targets"):
        x = torch.as_tensor(np.asarray(dataset.data))
        if x.dim() == 4 and x.shape[-1] in (1, 3):  # CIFAR's (N, H, W, C)
            x = x.permute(0, 3, 1, 2)
        return Images(_image_tensor(x.contiguous()), _labels(dataset.targets, len(x)), names)
    images, labels = zip(*(_pair(dataset[i]) for i in range(len(dataset))))
    return Images(_image_tensor(torch.stack(images)), _labels(labels, len(images)), names)


def _pair(item) -> tuple[torch.Tensor, int]:
    """One (image, label) item: a tensor (C, H, W) or a PIL image (H, W[, C])."""
    image, label = item if isinstance(item, (tuple, list)) else (item, 0)
    if isinstance(image, torch.Tensor):
        return image, int(label)
    pixels = torch.as_tensor(np.array(image))  # a copy: PIL gives a read-only array
    return (pixels[None] if pixels.dim() == 2 else pixels.permute(2, 0, 1)), int(label)
