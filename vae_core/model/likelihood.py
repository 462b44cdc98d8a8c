"""The decoder's likelihood p(x|z): what its output means, the reconstruction term it gives, its mean image.

The decoder outputs one number per pixel, `out` (B, C, H, W):

    bernoulli             out = logit of p(x=1); -log p(x|z) = BCE(x, sigmoid(out)) summed over pixels
    continuous-bernoulli  out = logit of lambda; -log p(x|z) = BCE(x, lambda) - log C(lambda), where
                          C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda) makes the density integrate
                          to 1 over [0, 1] (Loaiza-Ganem & Cunningham 2019)
    gaussian              out = the mean; -log p(x|z) = sum of 1/2 ((x - out) / sigma)^2 + log sigma
                          + 1/2 log 2 pi, with one learned sigma shared by all pixels, kept above SIGMA_MIN

Grey levels are not coin flips: for them Bernoulli is a convenient loss, not a density, while the other two
are densities on [0, 1] and on the reals. Losses of different likelihoods are not comparable with each other.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vae_core.config import IMAGES, LIKELIHOODS, InputError

SIGMA_MIN = 0.01  # the Gaussian's smallest sigma: 1% of the pixel range, so the variance cannot collapse
SIGMA_START = 0.1  # its sigma before training
_NEAR_HALF = 1e-2  # |logit| below which log C and the CB mean use their Taylor series


class Likelihood(nn.Module):
    """p(x|z) given the decoder's output. Subclasses hold their own parameters (the Gaussian's sigma)."""

    name = ""

    def nll(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) summed over pixels: (B,), nats."""
        raise NotImplementedError

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        """E[x|z], the image to show, in [0, 1]."""
        raise NotImplementedError

    def mode(self, out: torch.Tensor) -> torch.Tensor:
        """The most likely x given z, per pixel, in [0, 1]."""
        raise NotImplementedError

    def image(self, out: torch.Tensor, shown: str = "mean") -> torch.Tensor:
        """The image to show: "mean" E[x|z] or "mode", the most likely x."""
        if shown not in IMAGES:
            raise InputError(f"shown must be one of {', '.join(IMAGES)}, got {shown!r}")
        return self.mean(out) if shown == "mean" else self.mode(out)


class Bernoulli(Likelihood):
    name = "bernoulli"

    def nll(self, x, out):
        # BCE-with-logits uses log-sum-exp internally, so large logits do not overflow as sigmoid + log would
        return F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1)

    def mean(self, out):
        return torch.sigmoid(out)

    def mode(self, out):
        return (out > 0).float()  # 1 where p(x=1) > 1/2


def cb_log_norm(logits: torch.Tensor) -> torch.Tensor:
    """log C(lambda) of the continuous Bernoulli with lambda = sigmoid(logits), elementwise.

    With eta = logits, 1 - 2 lambda = -tanh(eta / 2) and artanh(1 - 2 lambda) = -eta / 2, so
    C = eta / tanh(eta / 2): exact for all eta away from 0, where it tends to 2 (lambda = 1/2), and
    log C = log 2 + eta^2 / 12 + O(eta^4) there.
    """
    near = logits.abs() < _NEAR_HALF
    safe = torch.where(near, 1.0, logits)  # a scalar, not ones_like: an ONNX export would fix its batch size
    exact = torch.log(safe / torch.tanh(safe / 2))
    return torch.where(near, math.log(2.0) + logits.pow(2) / 12, exact)


def cb_mean(logits: torch.Tensor) -> torch.Tensor:
    """E[x] of the continuous Bernoulli: lambda / (2 lambda - 1) + 1 / (2 artanh(1 - 2 lambda)), which in the
    logit eta is sigmoid(eta) / tanh(eta / 2) - 1 / eta; 1/2 + eta / 12 + O(eta^3) near eta = 0."""
    near = logits.abs() < _NEAR_HALF
    safe = torch.where(near, 1.0, logits)  # a scalar, not ones_like: an ONNX export would fix its batch size
    exact = torch.sigmoid(safe) / torch.tanh(safe / 2) - 1 / safe
    return torch.where(near, 0.5 + logits / 12, exact).clamp(0, 1)


class ContinuousBernoulli(Likelihood):
    name = "continuous-bernoulli"

    def nll(self, x, out):
        per_pixel = F.binary_cross_entropy_with_logits(out, x, reduction="none") - cb_log_norm(out)
        return per_pixel.flatten(1).sum(1)

    def mean(self, out):
        return cb_mean(out)

    def mode(self, out):
        # the density is proportional to lambda^x (1 - lambda)^(1 - x): increasing in x when lambda > 1/2, so its
        # most likely value is 1 there and 0 below (flat at lambda = 1/2)
        return (out > 0).float()


class Gaussian(Likelihood):
    name = "gaussian"

    def __init__(self):
        super().__init__()
        # sigma = SIGMA_MIN + softplus(raw): smooth, always above SIGMA_MIN, learned with the rest of the model
        start = SIGMA_START - SIGMA_MIN
        self.raw_sigma = nn.Parameter(torch.tensor(math.log(math.expm1(start))))

    @property
    def sigma(self) -> torch.Tensor:
        return SIGMA_MIN + F.softplus(self.raw_sigma)

    def nll(self, x, out):
        sigma = self.sigma
        per_pixel = 0.5 * ((x - out) / sigma).pow(2) + torch.log(sigma) + 0.5 * math.log(2 * math.pi)
        return per_pixel.flatten(1).sum(1)

    def mean(self, out):
        return out.clamp(0, 1)

    def mode(self, out):
        return self.mean(out)  # a Gaussian's mode is its mean


def make_likelihood(name: str) -> Likelihood:
    classes = {c.name: c for c in (Bernoulli, ContinuousBernoulli, Gaussian)}
    if name not in classes:
        raise InputError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {name!r}")
    return classes[name]()


def bits_per_dim(nats_per_image: float, image_shape) -> float:
    """A loss in nats per image as bits per pixel value: nats / (C * H * W * ln 2)."""
    c, h, w = image_shape
    return nats_per_image / (c * h * w * math.log(2))
