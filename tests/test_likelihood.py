"""The decoder likelihoods (vae_core/model/likelihood.py) against torch.distributions, and how models carry them."""

import math

import pytest
import torch
from torch import distributions as D

from ui.formulas import LIKELIHOODS
from vae_core import VAE, CheckpointError, TrainConfig, VAEConfig, elbo, load_checkpoint, save_checkpoint, train
from vae_core.model.likelihood import (
    SIGMA_MIN,
    Bernoulli,
    ContinuousBernoulli,
    Gaussian,
    bits_per_dim,
    cb_log_norm,
    cb_mean,
    make_likelihood,
)

# logits across the range, many right at and around 0 (lambda = 1/2), where C(lambda) is 0/0. Beyond |logit| 15
# torch's own ContinuousBernoulli clamps lambda and drifts (0.1 nats at 40, even in float64): tested apart below.
LOGITS = torch.cat([torch.linspace(-15, 15, 601), torch.linspace(-0.05, 0.05, 201), torch.tensor([0.0, 1e-7])])


def pixels(logits: torch.Tensor) -> torch.Tensor:
    return torch.rand(logits.shape, generator=torch.Generator().manual_seed(0))


def as_images(t: torch.Tensor) -> torch.Tensor:
    return t.view(-1, 1, 1, 1)


def test_continuous_bernoulli_matches_torch_everywhere_including_lambda_one_half():
    x = pixels(LOGITS)
    ref = -D.ContinuousBernoulli(logits=LOGITS.double()).log_prob(x.double())
    ours = ContinuousBernoulli().nll(as_images(x), as_images(LOGITS))
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours.double(), ref, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(
        cb_mean(LOGITS).double(), D.ContinuousBernoulli(logits=LOGITS.double()).mean, atol=1e-5, rtol=1e-5
    )


def test_continuous_bernoulli_is_exact_for_confident_logits():
    eta = torch.tensor([-200.0, -40.0, 40.0, 200.0], dtype=torch.float64)
    x = torch.tensor([0.3, 0.9, 0.3, 0.0], dtype=torch.float64)
    # there tanh(eta / 2) = +-1 in float64, so C = |eta|, and BCE = softplus(eta) - x * eta
    exact = torch.nn.functional.softplus(eta) - x * eta - torch.log(eta.abs())
    ours = ContinuousBernoulli().nll(as_images(x.float()), as_images(eta.float()))
    torch.testing.assert_close(ours.double(), exact, rtol=1e-6, atol=1e-4)


def test_continuous_bernoulli_normaliser_is_smooth_and_exact_at_one_half():
    assert cb_log_norm(torch.tensor(0.0)).item() == pytest.approx(math.log(2))
    # both sides of the Taylor switch agree: no step where the formula changes
    left, right = cb_log_norm(torch.tensor([0.00999, 0.01001], dtype=torch.float64))
    assert abs((left - right).item()) < 1e-6
    # it integrates: C(lambda) * integral of lambda^x (1 - lambda)^(1 - x) dx over [0, 1] = 1
    x = torch.linspace(0, 1, 20001, dtype=torch.float64)
    for eta in (-3.0, -0.2, 0.004, 2.5):
        density = torch.exp(-ContinuousBernoulli().nll(as_images(x), torch.full((len(x), 1, 1, 1), eta, dtype=torch.float64)))
        assert torch.trapezoid(density, x).item() == pytest.approx(1.0, abs=1e-4)


def test_gaussian_matches_torch_normal_and_its_sigma_stays_above_the_bound(one_thread):
    # the NLL computed two ways, to assert_close's tight default: in float64 (see one_thread), not at float32 rounding
    likelihood = Gaussian().double()
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(6, 1, 4, 4, generator=generator, dtype=torch.float64)
    mean = torch.randn(6, 1, 4, 4, generator=generator, dtype=torch.float64)
    ref = -D.Normal(mean, likelihood.sigma).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(likelihood.nll(x, mean), ref)
    with torch.no_grad():
        likelihood.raw_sigma.fill_(-1e4)  # as far down as training could push it
    assert likelihood.sigma.item() == pytest.approx(SIGMA_MIN)
    assert torch.isfinite(likelihood.nll(x, x)).all()  # a perfect mean still gives a finite loss
    torch.testing.assert_close(likelihood.mean(torch.tensor([-0.5, 0.3, 1.7])), torch.tensor([0.0, 0.3, 1.0]))


def test_bernoulli_matches_torch():
    x = pixels(LOGITS)
    ref = -D.Bernoulli(logits=LOGITS, validate_args=False).log_prob(x)
    torch.testing.assert_close(Bernoulli().nll(as_images(x), as_images(LOGITS)), ref, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("name", LIKELIHOODS)
def test_each_model_decodes_its_likelihoods_mean_and_its_elbo_follows_it(name):
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), likelihood=name))
    z, x = torch.randn(5, 2), torch.rand(5, 1, 8, 8)
    out = model.decode(z)
    torch.testing.assert_close(model.decode_mean(z), make_likelihood(name).mean(out))
    assert 0 <= model.decode_mean(z).min() and model.decode_mean(z).max() <= 1
    mu, logvar = model.encode(x)
    terms = elbo(x, out, mu, logvar, likelihood=model.likelihood)
    torch.testing.assert_close(terms.recon, model.likelihood.nll(x, out).mean())


def test_gaussian_sigma_is_a_model_parameter_that_training_moves(digits):
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(64,), likelihood="gaussian"))
    before = model.likelihood.sigma.item()
    assert "likelihood.raw_sigma" in model.state_dict()
    epochs = [e for e in train(model, digits, TrainConfig(epochs=5)) if e["type"] == "epoch"]
    assert model.likelihood.sigma.item() != pytest.approx(before)
    assert epochs[-1]["test_loss"] < epochs[0]["test_loss"]


def test_the_likelihood_is_stored_and_old_checkpoints_load_as_bernoulli(tmp_path, small_model):
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,), likelihood="gaussian"))
    loaded, meta = load_checkpoint(save_checkpoint(tmp_path / "g.pt", model, dataset="digits"))
    assert loaded.config.likelihood == "gaussian" and meta.vae_config.likelihood == "gaussian"
    assert loaded.likelihood.sigma.item() == pytest.approx(model.likelihood.sigma.item())
    # a checkpoint written before likelihoods existed: no such field
    payload = torch.load(save_checkpoint(tmp_path / "old.pt", small_model, dataset="digits"), weights_only=True)
    del payload["vae_config"]["likelihood"]
    torch.save(payload, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")[0].config.likelihood == "bernoulli"
    payload["vae_config"]["likelihood"] = "poisson"  # one a later version might add
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="likelihood 'poisson', which this version does not know"):
        load_checkpoint(tmp_path / "future.pt")


def test_unknown_likelihood_names_are_refused():
    with pytest.raises(ValueError, match="likelihood must be one of"):
        VAEConfig(likelihood="poisson")


def test_bits_per_dim_divides_by_pixels_and_ln2():
    assert bits_per_dim(784 * math.log(2), (1, 28, 28)) == pytest.approx(1.0)
    assert bits_per_dim(3 * 32 * 32 * math.log(2) * 2, (3, 32, 32)) == pytest.approx(2.0)


@pytest.mark.parametrize("name", ["continuous-bernoulli", "gaussian"])
def test_a_diverging_run_of_any_likelihood_stops_with_a_message_and_finite_weights(digits, name):
    from vae_core import NonFiniteLossError

    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(32,), likelihood=name))
    with pytest.raises(NonFiniteLossError, match="lower learning rate"):
        for _ in train(model, digits, TrainConfig(epochs=50, lr=1e4)):
            pass
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


def test_each_likelihood_has_its_own_reconstruction_formula():
    from ui.formulas import elbo_formulas
    from vae_core.config import LIKELIHOODS

    formulas = {name: elbo_formulas(name) for name in LIKELIHOODS}
    assert len({f["recon"] for f in formulas.values()}) == len(LIKELIHOODS)
    assert "C(" in formulas["continuous-bernoulli"]["recon"] and "sigma" in formulas["gaussian"]["recon"]
    assert all(f["kl"] == formulas["bernoulli"]["kl"] for f in formulas.values())  # the KL does not depend on p(x|z)
    with pytest.raises(ValueError, match="unknown likelihood"):
        elbo_formulas("poisson")


def test_each_likelihood_shows_its_mean_or_its_most_likely_image():
    from ui.formulas import negative_loss_note

    out = torch.tensor([[-3.0, -0.5, 0.5, 3.0]])
    for name in ("bernoulli", "continuous-bernoulli"):
        lik = make_likelihood(name)
        assert torch.equal(lik.image(out, "mode"), torch.tensor([[0.0, 0.0, 1.0, 1.0]]))  # the likelier of 0 and 1
        assert torch.equal(lik.image(out, "mean"), lik.mean(out))
    # the CB mean sits well inside (0, 1) even where lambda is sure: the washed-out grey its mode avoids
    cb_mean_at_lambda_095 = make_likelihood("continuous-bernoulli").mean(torch.tensor([3.0]))
    assert 0.6 < cb_mean_at_lambda_095.item() < 0.75
    gaussian = make_likelihood("gaussian")
    assert torch.equal(gaussian.image(out, "mode"), gaussian.mean(out))
    with pytest.raises(ValueError, match="shown must be one of"):
        gaussian.image(out, "median")
    assert negative_loss_note("bernoulli") is None and "below zero" in negative_loss_note("continuous-bernoulli")
