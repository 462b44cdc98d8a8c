"""The evidence lower bound, written out term by term, plus evaluation bounds.

All values are nats per image: sums over pixels and latent dimensions, means over the batch.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F


class ELBO(NamedTuple):
    loss: torch.Tensor   # recon + beta * kl (beta = 1: the negative ELBO)
    recon: torch.Tensor  # -E_q[log p(x|z)], one sample
    kl: torch.Tensor     # KL(q(z|x) || N(0, I))


def recon_per_image(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Bernoulli negative log-likelihood summed over pixels: (B,).

    BCE-with-logits uses log-sum-exp internally, so large logits do not overflow as sigmoid + log would.
    """
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Closed-form KL(N(mu, sigma^2) || N(0, 1)) per latent dimension: (B, D).

    Kingma & Welling 2014, Appendix B: -1/2 * (1 + log sigma^2 - mu^2 - sigma^2).
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def elbo(x, logits, mu, logvar, beta: float = 1.0) -> ELBO:
    recon = recon_per_image(x, logits).mean()
    kl = kl_per_dim(mu, logvar).sum(1).mean()
    return ELBO(recon + beta * kl, recon, kl)


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> int:
    """Dimensions whose posterior mean varies across the data: Cov_x(E_q[z_d]) > threshold (Burda et al. 2015)."""
    if mu.shape[0] < 2:
        return 0
    return int((mu.var(dim=0) > threshold).sum())


def _log_normal(z, mu, logvar):
    """log N(z; mu, diag(exp(logvar))) summed over the last dim."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


@torch.no_grad()
def iwae_log_likelihood(model, x: torch.Tensor, k: int = 100, generator: torch.Generator | None = None) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) per image with k samples (Burda et al. 2015): (B,).

    log p(x) >= log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x); the bound tightens as k grows and equals
    the ELBO for k = 1 in expectation.
    """
    x = x.to(model.device)                                         # as evaluate(): data may be on the CPU
    mu, logvar = model.encode(x)                                   # (B, D)
    eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device)
    z = mu + torch.exp(0.5 * logvar) * eps                         # (k, B, D)
    logits = model.decode(z.flatten(0, 1))                         # (k*B, C, H, W)
    x_rep = x.unsqueeze(0).expand(k, *x.shape).flatten(0, 1)
    log_px_z = -recon_per_image(x_rep, logits).view(k, -1)         # (k, B)
    log_pz = _log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
    log_qz = _log_normal(z, mu, logvar)
    return torch.logsumexp(log_px_z + log_pz - log_qz, dim=0) - math.log(k)
