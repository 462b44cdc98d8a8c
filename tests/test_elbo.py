import torch
from torch import distributions as D

from vae_core import VAE, VAEConfig, elbo, iwae_log_likelihood, kl_per_dim, recon_per_image, active_units
from vae_core.train import evaluate


def test_terms_match_torch_distributions():
    torch.manual_seed(0)
    x = torch.rand(5, 1, 4, 4)
    logits = torch.randn(5, 1, 4, 4) * 3
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    # independent computation: Bernoulli log-prob (continuous x in [0, 1] is allowed with validate_args off)
    nll = -D.Bernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1)
    q = D.Normal(mu, torch.exp(0.5 * logvar))
    kl = D.kl_divergence(q, D.Normal(torch.zeros(3), torch.ones(3))).sum(1)
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
    mu[:, 0] = torch.linspace(-1, 1, 100)   # variance ~0.34: active
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
    assert abs(-ll[1] - neg_elbo) < 0.5          # k = 1 is the ELBO (up to sampling noise)
    assert ll[100] >= -neg_elbo                    # a tighter bound on log p(x)
    assert ll[1] < ll[10] < ll[100]                # and it tightens with k
