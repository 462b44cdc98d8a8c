import math

import numpy as np
import pytest
import torch
from torch import distributions as D

from vae_core import VAE, VAEConfig, active_units, elbo, image_terms, iwae_log_likelihood, kl_per_dim, recon_per_image
from vae_core.model.bounds import posterior_sample
from vae_core.model.vae import reparameterize
from vae_core.training.loop import evaluate


def test_terms_match_torch_distributions(one_thread):
    # the same terms computed two ways: in float64 (see one_thread), so the match does not hang on float32 rounding
    torch.manual_seed(0)
    x = torch.rand(5, 1, 4, 4).double()
    logits = torch.randn(5, 1, 4, 4).double() * 3
    mu, logvar = torch.randn(5, 3).double(), torch.randn(5, 3).double()
    # independent computation: Bernoulli log-prob (continuous x in [0, 1] is allowed with validate_args off)
    nll = -D.Bernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1)
    q = D.Normal(mu, torch.exp(0.5 * logvar))
    kl = D.kl_divergence(q, D.Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))).sum(1)
    terms = elbo(x, logits, mu, logvar, beta=0.5)
    torch.testing.assert_close(terms.recon, nll.mean())
    torch.testing.assert_close(terms.kl, kl.mean())
    torch.testing.assert_close(terms.loss, nll.mean() + 0.5 * kl.mean())


def test_recon_is_stable_for_extreme_logits():
    x = torch.tensor([[1.0, 0.0]])
    logits = torch.tensor([[-200.0, 200.0]])  # confidently wrong: sigmoid would saturate to 0 / 1
    value = recon_per_image(x, logits)
    assert torch.isfinite(value).all()
    torch.testing.assert_close(value, torch.tensor([400.0]))


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(4, 6)
    assert torch.equal(kl_per_dim(zeros, zeros), torch.zeros(4, 6))
    assert (kl_per_dim(torch.ones(4, 6), torch.zeros(4, 6)) > 0).all()
    assert (kl_per_dim(zeros, torch.full((4, 6), -2.0)) > 0).all()


def test_gradients_reach_the_encoder_through_the_sample():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    x = torch.rand(8, 1, 8, 8)
    mu, logvar = model.encode(x)
    recon = recon_per_image(x, model.decode(model.reparameterize(mu, logvar))).mean()
    recon.backward()  # the reconstruction term alone: its encoder gradient flows only through z
    first_layer = model.encoder[1][0].weight
    assert first_layer.grad is not None and first_layer.grad.abs().sum() > 0


def test_active_units_counts_varying_dimensions():
    mu = torch.zeros(100, 3)
    mu[:, 0] = torch.linspace(-1, 1, 100)  # variance ~0.34: active
    mu[:, 1] = torch.linspace(-0.01, 0.01, 100)  # variance ~3e-5: inactive
    assert active_units(mu) == 1


def test_iwae_bounds_the_elbo_and_tightens_with_k(digits):
    from vae_core import TrainConfig, train

    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=digits.image_shape, latent_dim=4, hidden=(64,)))
    for _ in train(model, digits, TrainConfig(epochs=5, seed=0)):
        pass
    model.eval()
    x = digits.test_x
    neg_elbo = evaluate(model, x)["test_loss"]
    gen = torch.Generator(device=model.device).manual_seed(0)  # train() moved the model to a GPU if there is one
    ll = {k: iwae_log_likelihood(model, x, k, gen).mean().item() for k in (1, 10, 100)}
    assert abs(-ll[1] - neg_elbo) < 0.5  # k = 1 is the ELBO (up to sampling noise)
    assert ll[100] >= -neg_elbo  # a tighter bound on log p(x)
    assert ll[1] < ll[10] < ll[100]  # and it tightens with k


def test_reparameterize_is_mu_plus_sigma_times_eps():
    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, math.log(4.0)]])
    z = reparameterize(mu, logvar, torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(z, torch.tensor([[1.5, -1.0]]))  # sigma = 1 and 2


def test_posterior_sample_follows_q_and_is_fixed_by_its_seed():
    mu, logvar = np.full((20000, 2), [1.0, -3.0], np.float32), np.full((20000, 2), [0.0, math.log(0.25)], np.float32)
    z = posterior_sample(mu, logvar, seed=3)
    assert z.shape == (20000, 2) and z.dtype == np.float32
    assert np.allclose(z.mean(0), [1.0, -3.0], atol=0.03) and np.allclose(z.std(0), [1.0, 0.5], atol=0.02)
    assert np.array_equal(z, posterior_sample(mu, logvar, seed=3))
    assert not np.array_equal(z, posterior_sample(mu, logvar, seed=4))


def test_image_terms_agree_with_torch_distributions(small_model, one_thread):
    # the KL computed two ways is checked to 1e-5: in float64 (see one_thread), so float32 rounding cannot decide it
    small_model = small_model.double()
    torch.manual_seed(0)
    x = torch.rand(1, 8, 8).double()
    terms = image_terms(small_model, x, samples=2000, seed=0)
    mu, logvar = small_model.encode(x[None])
    q = D.Normal(mu[0], torch.exp(0.5 * logvar[0]))
    kl = D.kl_divergence(q, D.Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))).sum()
    assert terms.kl == pytest.approx(kl.item(), rel=1e-5)
    z = q.sample((2000,))  # independent samples: the Monte Carlo reconstruction term agrees within noise
    nll = -D.Bernoulli(logits=small_model.decode(z), validate_args=False).log_prob(x.expand(2000, 1, 8, 8))
    assert terms.recon == pytest.approx(nll.flatten(1).sum(1).mean().item(), rel=0.01)
    assert terms.loss == pytest.approx(terms.recon + terms.kl)
    assert -terms.loss <= terms.log_px  # the IWAE bound is at least the ELBO
    np.testing.assert_allclose(terms.mu, mu[0].detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(terms.sigma, torch.exp(0.5 * logvar[0]).detach().numpy(), rtol=1e-6)
    again = image_terms(small_model, x, samples=2000, seed=0)  # fixed noise: the same numbers on every call
    assert (again.recon, again.log_px) == (terms.recon, terms.log_px)
    np.testing.assert_array_equal(again.z_sample, terms.z_sample)


def test_elbo_documents_its_formula():
    assert "KL(q(z|x) || N(0, I))" in elbo.__doc__ and "recon + beta * kl" in elbo.__doc__


def test_a_finished_runs_iwae_bound_takes_fewer_images_the_larger_they_are():
    from vae_core.model.bounds import FINAL_IWAE_IMAGES, final_iwae_images

    fewest, most = FINAL_IWAE_IMAGES
    assert final_iwae_images(359, 64) == 359  # digits: the whole test split
    assert final_iwae_images(10_000, 8 * 8) == most
    assert fewest < final_iwae_images(10_000, 28 * 28) < most  # MNIST: a sample
    assert final_iwae_images(10_000, 64 * 64) == fewest  # sprites: never fewer than can be read
    assert final_iwae_images(10, 64 * 64) == 10  # never more than there are
