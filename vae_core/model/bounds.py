"""The evidence lower bound, written out term by term, plus evaluation bounds.

All values are nats per image: sums over pixels and latent dimensions, means over the batch.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from vae_core.data.datasets import Dataset, as_float
from vae_core.model.likelihood import Bernoulli, Likelihood
from vae_core.model.vae import reparameterize


class ELBO(NamedTuple):
    loss: torch.Tensor  # recon + beta * kl (beta = 1: the negative ELBO)
    recon: torch.Tensor  # -E_q[log p(x|z)], one sample
    kl: torch.Tensor  # KL(q(z|x) || N(0, I))


_BERNOULLI = Bernoulli()


def recon_per_image(x: torch.Tensor, out: torch.Tensor, likelihood: Likelihood | None = None) -> torch.Tensor:
    """-log p(x|z) summed over pixels, (B,), for the decoder's output `out` under `likelihood`
    (the model's `model.likelihood`; Bernoulli when not given)."""
    return (likelihood or _BERNOULLI).nll(x, out)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Closed-form KL(N(mu, sigma^2) || N(0, 1)) per latent dimension: (B, D).

    Kingma & Welling 2014, Appendix B: -1/2 * (1 + log sigma^2 - mu^2 - sigma^2).
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def posterior_sample(mu, logvar, seed: int = 0) -> np.ndarray:
    """One z ~ q(z|x) per row of numpy means and log-variances (N, D), the same for the same seed."""
    mu, logvar = torch.as_tensor(np.asarray(mu, np.float32)), torch.as_tensor(np.asarray(logvar, np.float32))
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(seed))
    return reparameterize(mu, logvar, eps).numpy()


def elbo(x, out, mu, logvar, beta: float = 1.0, likelihood: Likelihood | None = None) -> ELBO:
    """The (beta-weighted) negative ELBO of a batch and its two terms, in nats per image:

        recon = -log p(x|z), z one sample of q(z|x); for the Bernoulli default BCE(x, sigmoid(out)) summed
                over pixels (likelihood.py gives the continuous Bernoulli and Gaussian terms)
        kl    = KL(q(z|x) || N(0, I)) = -1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)
        loss  = recon + beta * kl          (beta = 1: the negative ELBO, -E_q[log p(x|z)] + KL)

    Each is a sum over pixels or latent dimensions and a mean over the batch.
    """
    recon = recon_per_image(x, out, likelihood).mean()
    kl = kl_per_dim(mu, logvar).sum(1).mean()
    return ELBO(recon + beta * kl, recon, kl)


def free_bits_penalty(mu, logvar, free_bits: float) -> torch.Tensor:
    """Σ_d max(0, F − KL̄_d), KL̄_d the batch-mean KL of dimension d: added to the KL term it makes
    Σ_d max(F, KL̄_d), the free-bits KL (Kingma et al. 2016), which stops pushing a dimension below F nats."""
    return torch.relu(free_bits - kl_per_dim(mu, logvar).mean(0)).sum()


def iwae_terms(model, x, k: int, beta: float = 1.0, y=None) -> tuple[ELBO, torch.Tensor, torch.Tensor]:
    """The k-sample importance-weighted bound of a batch (Burda et al. 2016) as a loss, with the ELBO's terms of its
    first sample for the curves: -> (ELBO(loss, recon, kl), mu, logvar).

        log w_i = log p(x|z_i) + β (log p(z_i) − log q(z_i|x)),   z_i ~ q(z|x), i = 1..k
        loss    = −mean over the batch of log (1/k Σ_i w_i)

    β = 1 is the IWAE bound itself; with k = 1 its expectation is the ELBO (a Monte Carlo KL for the closed form).
    y: a conditional model's labels (B,); the bound is then on log p(x|y).
    """
    mu, logvar, log_px_z, log_pz, log_qz = _importance_samples(model, x, k, y)
    bound = torch.logsumexp(log_px_z + beta * (log_pz - log_qz), dim=0) - math.log(k)
    return ELBO(-bound.mean(), -log_px_z[0].mean(), kl_per_dim(mu, logvar).sum(1).mean()), mu, logvar


def kl_decomposition(z, mu, logvar) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The KL term split up on a batch (Chen et al. 2018, β-TCVAE): (index-code MI, total correlation, dimension-wise
    KL), each a batch mean, for samples z (B, D) of the batch's posteriors N(mu, exp(logvar)) (B, D):

        MI  = E[log q(z|x) − log q(z)]      TC = E[log q(z) − Σ_d log q(z_d)]      dim-KL = E[Σ_d log q(z_d) − log p(z_d)]

    q(z) and q(z_d) are the batch's mixture of posteriors: the minibatch-weighted sampling estimate less its
    constant log N per term (no gradient), so on a batch that holds the whole dataset they are the exact mixture
    densities of vae_core.stats.estimators. MI + TC + dim-KL = E[log q(z|x) − log p(z)], a sampled KL."""
    per_dim = _log_normal_dims(z.unsqueeze(1), mu.unsqueeze(0), logvar.unsqueeze(0))  # (B, B, D): z_i under q(.|x_j)
    log_m = math.log(len(z))
    log_qz = torch.logsumexp(per_dim.sum(2), dim=1) - log_m  # (B,)
    log_qz_dims = torch.logsumexp(per_dim, dim=1) - log_m  # (B, D)
    log_qzx = _log_normal(z, mu, logvar)
    log_pz_dims = _log_normal_dims(z, torch.zeros_like(z), torch.zeros_like(z))
    mi = (log_qzx - log_qz).mean()
    tc = (log_qz - log_qz_dims.sum(1)).mean()
    dim_kl = (log_qz_dims - log_pz_dims).sum(1).mean()
    return mi, tc, dim_kl


def tcvae_terms(model, x, beta: float = 1.0, tc_weight: float = 1.0, y=None) -> tuple[ELBO, torch.Tensor, torch.Tensor]:
    """β-TCVAE (Chen et al. 2018) as a loss, with the ELBO's terms of the batch for the curves:
    loss = recon + β (MI + dim-KL) + W · TC (kl_decomposition). With W = β it is the β-ELBO with a sampled KL.
    -> (ELBO(loss, recon, kl), mu, logvar)"""
    mu, logvar = model.encode(x, y)
    z = model.reparameterize(mu, logvar)
    recon = recon_per_image(x, model.decode(z, y), model.likelihood).mean()
    mi, tc, dim_kl = kl_decomposition(z, mu, logvar)
    loss = recon + beta * (mi + dim_kl) + tc_weight * tc
    return ELBO(loss, recon, kl_per_dim(mu, logvar).sum(1).mean()), mu, logvar


def training_terms(model, x, beta: float, config, y=None) -> ELBO:
    """What a training step minimises under the run's TrainConfig (objective, iwae_k, free_bits), with the recon and
    true KL terms of the same batch for the curves. y: a conditional model's labels of the batch."""
    if config.objective == "iwae":
        terms, mu, logvar = iwae_terms(model, x, config.iwae_k, beta, y)
    elif config.objective == "tcvae":
        terms, mu, logvar = tcvae_terms(model, x, beta, config.tc_weight, y)
    else:
        out, mu, logvar = model(x, y)
        terms = elbo(x, out, mu, logvar, beta=beta, likelihood=model.likelihood)
    if config.free_bits > 0:
        terms = terms._replace(loss=terms.loss + beta * free_bits_penalty(mu, logvar, config.free_bits))
    return terms


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> int:
    """Dimensions whose posterior mean varies across the data: Cov_x(E_q[z_d]) > threshold (Burda et al. 2015)."""
    if mu.shape[0] < 2:
        return 0
    return int((mu.var(dim=0) > threshold).sum())


def _importance_samples(model, x, k: int, y=None, generator: torch.Generator | None = None):
    """k samples z_i ~ q(z|x) of each image of the batch, and the log-densities an importance-weighted bound weighs
    them by: -> (mu, logvar (B, D), log p(x|z_i), log p(z_i), log q(z_i|x), each (k, B)). y: a conditional model's
    labels."""
    mu, logvar = model.encode(x, y)  # (B, D)
    eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device)
    z = reparameterize(mu, logvar, eps)  # (k, B, D)
    out = model.decode(z.flatten(0, 1), _repeat(y, k))  # (k*B, C, H, W)
    x_rep = x.unsqueeze(0).expand(k, *x.shape).flatten(0, 1)
    log_px_z = -recon_per_image(x_rep, out, model.likelihood).view(k, -1)
    return mu, logvar, log_px_z, _log_normal(z, torch.zeros_like(z), torch.zeros_like(z)), _log_normal(z, mu, logvar)


def _repeat(y, k: int):
    """Labels (B,) for k samples of each image laid out as (k, B) flattened: y repeated k times (one label as is)."""
    if y is None or torch.as_tensor(y).dim() == 0:
        return y
    return torch.as_tensor(y).repeat(k)


def _log_normal_dims(z, mu, logvar):
    """log N(z; mu, exp(logvar)) per dimension (broadcast)."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp())


def _log_normal(z, mu, logvar):
    """log N(z; mu, diag(exp(logvar))) summed over the last dim."""
    return _log_normal_dims(z, mu, logvar).sum(-1)


@torch.no_grad()
def iwae_log_likelihood(model, x: torch.Tensor, k: int = 100, generator: torch.Generator | None = None, y=None) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) per image with k samples (Burda et al. 2015): (B,).

    log p(x) >= log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x); the bound tightens as k grows and equals
    the ELBO for k = 1 in expectation. y: a conditional model's labels (B,): the estimate is then of log p(x|y).
    """
    x = as_float(x.to(model.device))  # as evaluate(): data may be on the CPU, uint8
    _, _, log_px_z, log_pz, log_qz = _importance_samples(model, x, k, y, generator)
    return torch.logsumexp(log_px_z + log_pz - log_qz, dim=0) - math.log(k)


def iwae_nll(model, x: torch.Tensor, y=None, k: int = 100, batch: int = 100, seed: int = 0) -> float:
    """−log p(x) by the k-sample IWAE bound, averaged over the images x, `batch` at a time (k * batch decoded images
    in memory); −log p(x|y) for a conditional model, which reads the labels y."""
    return _mean_nll(
        model,
        x,
        batch,
        seed,
        lambda xb, i, generator: iwae_log_likelihood(model, xb, k, generator, None if y is None else y[i : i + batch]),
    )


@torch.no_grad()
def marginal_log_likelihood(
    model, x: torch.Tensor, k: int = 100, generator: torch.Generator | None = None, prior=None
) -> torch.Tensor:
    """A conditional model's log p(x) with the label summed out, per image (B,): log Σ_y p(y) p(x|y), each p(x|y) by
    the k-sample IWAE estimate. Those are unbiased for p(x|y), so their p(y)-weighted sum is unbiased for p(x) and its
    log a lower bound on log p(x), as the IWAE bound is: a number comparable with an unconditional model's log p(x).
    prior: p(y) (num_classes,), e.g. the training labels' frequencies; uniform when not given."""
    classes = model.config.num_classes
    log_prior = (
        torch.full((classes,), -math.log(classes)) if prior is None else torch.log(torch.as_tensor(prior, dtype=torch.float32))
    )
    per_label = torch.stack([iwae_log_likelihood(model, x, k, generator, label) for label in range(classes)])  # (Y, B)
    return torch.logsumexp(per_label + log_prior[:, None].to(per_label.device), dim=0)


def marginal_nll(model, x: torch.Tensor, k: int = 100, batch: int = 100, seed: int = 0, prior=None) -> float:
    """−log p(x) of a conditional model, the label summed out (marginal_log_likelihood), averaged over the images."""
    return _mean_nll(model, x, batch, seed, lambda xb, _, generator: marginal_log_likelihood(model, xb, k, generator, prior))


def _mean_nll(model, x: torch.Tensor, batch: int, seed: int, log_likelihood) -> float:
    """−mean of log_likelihood(images, index of the first, generator) (B,) over x, `batch` images at a time, with one
    seeded generator for all of them."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    total = sum(log_likelihood(x[i : i + batch].to(model.device), i, generator).sum().item() for i in range(0, len(x), batch))
    return -total / max(len(x), 1)


class ImageTerms(NamedTuple):
    """The ELBO terms of one image, as the Generate page reports them (nats)."""

    recon: float  # -E_q[log p(x|z)], averaged over the samples
    kl: float  # KL(q(z|x) || N(0, I))
    loss: float  # recon + kl: the negative ELBO
    log_px: float  # the IWAE lower bound on log p(x) from the same samples
    mu: np.ndarray  # (D,) posterior mean
    sigma: np.ndarray  # (D,) posterior standard deviation
    z_sample: np.ndarray  # (D,) the first sample of q(z|x), for a reconstruction to show


@torch.no_grad()
def image_terms(model, x: torch.Tensor, samples: int = 500, seed: int = 0) -> ImageTerms:
    """ELBO terms and IWAE bound of one image x (C, H, W), with `samples` draws of q(z|x) and fixed noise."""
    x = x.unsqueeze(0).to(model.device)
    generator = torch.Generator(device=model.device).manual_seed(seed)
    mu, logvar = model.encode(x)  # (1, D)
    z = reparameterize(mu, logvar, torch.randn((samples, mu.shape[1]), generator=generator, device=mu.device))
    recon = float(recon_per_image(x.expand(samples, *x.shape[1:]), model.decode(z), model.likelihood).mean())
    kl = float(kl_per_dim(mu, logvar).sum())
    log_px = float(iwae_log_likelihood(model, x, k=samples, generator=generator)[0])
    return ImageTerms(
        recon, kl, recon + kl, log_px, mu[0].cpu().numpy(), torch.exp(0.5 * logvar[0]).cpu().numpy(), z[0].cpu().numpy()
    )


FINAL_IWAE_K = 100  # samples per image of the bound a finished run reports: the same for every run, so comparable
FINAL_IWAE_WORK = 10_000_000  # images x k x pixels decoded for it: about 5 s on one CPU thread for 64x64 images
FINAL_IWAE_IMAGES = (64, 1000)  # fewest and most test images it averages over


def final_iwae_images(n_test: int, pixels: int) -> int:
    """How many test images a finished run's IWAE bound averages over: as many as FINAL_IWAE_WORK allows (all of
    digits' 359, 127 of MNIST's), at least enough to read (64 sprites), never more than the test split holds. A
    subsample, as disentanglement_lib scores one: on 500 sprites the bound took 40 s on one thread."""
    fewest, most = FINAL_IWAE_IMAGES
    return min(n_test, max(fewest, min(most, FINAL_IWAE_WORK // (FINAL_IWAE_K * pixels))))


def final_iwae(model, data: Dataset) -> dict:
    """A model's IWAE bound as finished runs report it: FINAL_IWAE_K samples on the first final_iwae_images test
    images, with how many (the page says it)."""
    n = final_iwae_images(len(data.test_x), math.prod(data.image_shape))
    x, y = data.test_x[:n], data.test_y[:n]
    return dict(iwae_nll=iwae_nll(model, x, y, FINAL_IWAE_K), iwae_k=FINAL_IWAE_K, iwae_images=len(x))
