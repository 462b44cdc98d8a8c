"""Any model the notebook is given, as the engine's model interface (config, device, encode, decode_image, ...).

A vae_core VAE or an ONNX model is used as it is; a checkpoint path or a model folder is loaded by the engine; any
other torch module with encode(x) -> (mu, logvar) and decode(z) is wrapped in ModuleVAE, which gives its output
the meaning the `likelihood` argument names (vae_core.model.likelihood), so the engine's maps, grids and replay run
on it unchanged. It is probed once on the data, so a wrong model fails here with one sentence, not later.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vae_core.config import IMPORTED, LIKELIHOODS, VAEConfig
from vae_core.model.checkpoint import CheckpointError, load_checkpoint
from vae_core.model.likelihood import make_likelihood


class ModuleVAE(nn.Module):
    """A user's torch module behind the engine's VAE interface. Unconditional: labels only colour the map."""

    def __init__(self, module: nn.Module, config: VAEConfig):
        super().__init__()
        self.module, self.config = module, config
        self.likelihood = make_likelihood(config.likelihood)  # what decode's output means

    @property
    def device(self) -> torch.device:
        first = next(self.module.parameters(), None)
        return torch.device("cpu") if first is None else first.device

    def encode(self, x, y=None):
        with _test_mode(self.module):
            return self.module.encode(x)

    def decode(self, z, y=None):
        with _test_mode(self.module):
            return self.module.decode(z).reshape(-1, *self.config.image_shape)  # MLP decoders often give (B, C*H*W)

    def decode_mean(self, z, y=None):
        return self.likelihood.mean(self.decode(z))

    def decode_image(self, z, shown: str = "mean", y=None):
        return self.likelihood.image(self.decode(z), shown)

    def reparameterize(self, mu, logvar, eps=None):
        eps = torch.randn_like(mu) if eps is None else eps
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x, y=None):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


@contextmanager
def _test_mode(module: nn.Module):
    """The module in eval mode for the call, then as it was: maps and decodes see no dropout noise, and batch norm
    keeps its running statistics, while the user's own loop keeps training it in train mode."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def engine_model(model, image_shape: tuple, likelihood: str = "bernoulli"):
    """The model in the engine's interface, checked against images of `image_shape` (C, H, W)."""
    if isinstance(model, (str, Path)):
        try:
            model, _ = load_checkpoint(model)
        except CheckpointError as err:
            raise ValueError(str(err)) from None
    if hasattr(model, "config") and hasattr(model, "decode_image"):  # a vae_core VAE, or an ONNX model folder's
        if tuple(model.config.image_shape) != tuple(image_shape):
            raise ValueError(
                f"The data's images are {_shape(image_shape)} but the model takes {_shape(model.config.image_shape)}."
            )
        return model
    if (
        not isinstance(model, nn.Module)
        or not callable(getattr(model, "encode", None))
        or not callable(getattr(model, "decode", None))
    ):
        raise TypeError(
            f"model must be a vae_core VAE, a checkpoint path, an ONNX model folder or a torch module with encode and "
            f"decode methods; got {type(model).__name__}."
        )
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}; got {likelihood!r}.")
    return ModuleVAE(
        model,
        VAEConfig(image_shape=tuple(image_shape), latent_dim=_probe(model, image_shape), arch=IMPORTED, likelihood=likelihood),
    )


@torch.no_grad()
def _probe(module: nn.Module, image_shape: tuple) -> int:
    """The latent size, from one encode and decode of two blank images; a TypeError or ValueError says what is wrong."""
    first = next(module.parameters(), None)
    x = torch.full((2, *image_shape), 0.5, device=None if first is None else first.device)
    out = _call(module, "encode", x, image_shape)
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, torch.Tensor) for t in out)):
        got = f"one tensor of shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else type(out).__name__
        raise TypeError(f"model.encode(x) must return two tensors (mu, logvar), each (batch, latent_dim); it returned {got}.")
    mu, logvar = out
    if mu.dim() != 2 or mu.shape != logvar.shape or len(mu) != 2:
        raise ValueError(
            f"model.encode(x) must return mu and logvar of shape (batch, latent_dim); for a batch of 2 they were "
            f"{tuple(mu.shape)} and {tuple(logvar.shape)}."
        )
    images = _call(module, "decode", mu, image_shape)
    if not isinstance(images, torch.Tensor) or images.shape[0] != 2 or images[0].numel() != int(np.prod(image_shape)):
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"model.decode(z) must return a batch of images of {_shape(image_shape)}; it returned {got}.")
    return int(mu.shape[1])


def _call(module: nn.Module, name: str, value, image_shape: tuple):
    """module.name(value) in eval mode; its failure (a layer of other sizes than the data's, say) as one sentence."""
    try:
        with _test_mode(module):
            return getattr(module, name)(value)
    except (RuntimeError, ValueError, TypeError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise ValueError(f"model.{name} failed on the data's images of {_shape(image_shape)}: {first}") from None


def _shape(shape) -> str:
    c, h, w = shape
    return f"{h}x{w} pixels with {c} channel{'s' if c != 1 else ''}"
