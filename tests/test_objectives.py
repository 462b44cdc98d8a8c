"""Training objectives beside the β-ELBO (issue 25, point 2, in part): the IWAE bound and free bits."""

import copy
import json
import math

import pytest
import torch

from test_cli import cli
from vae_core import TrainConfig, VAEConfig, load_checkpoint
from vae_core.model.bounds import elbo, free_bits_penalty, iwae_terms, kl_per_dim, recon_per_image, training_terms
from vae_core.model.vae import VAE


@pytest.fixture(scope="module")
def model_and_batch():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(16,)))
    return model, torch.rand(32, 1, 8, 8)


@pytest.fixture
def exact_model_and_batch(model_and_batch, one_thread):
    """The same model and batch in float64, on one thread: for the tests of algebra (one quantity computed two ways,
    such as the TC term as the difference of two losses). In float32 their rounding depends on the CPU and once
    reached 1.5e-4 relative against a 1e-4 tolerance; in float64 it is ~1e-12, so the tolerances hold by construction."""
    model, x = model_and_batch
    return copy.deepcopy(model).double(), x.double()


def log_normal(z, mu, logvar):
    return torch.distributions.Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)


def test_with_one_sample_the_iwae_loss_is_the_elbo_with_a_sampled_kl(exact_model_and_batch):
    model, x = exact_model_and_batch
    torch.manual_seed(3)
    terms, mu, logvar = iwae_terms(model, x, k=1)
    torch.manual_seed(3)
    eps = torch.randn(1, *mu.shape)[0]
    z = mu + (0.5 * logvar).exp() * eps
    by_hand = (
        recon_per_image(x, model.decode(z), model.likelihood)
        + log_normal(z, mu, logvar)
        - log_normal(z, torch.zeros_like(z), torch.zeros_like(z))
    )
    assert float(terms.loss) == pytest.approx(float(by_hand.mean()), rel=1e-5)


def test_on_average_one_sample_gives_the_elbo_and_more_samples_a_tighter_bound(model_and_batch):
    model, x = model_and_batch
    torch.manual_seed(4)
    with torch.no_grad():
        k1 = torch.stack([iwae_terms(model, x, k=1)[0].loss for _ in range(400)]).mean()
        k20 = torch.stack([iwae_terms(model, x, k=20)[0].loss for _ in range(100)]).mean()
        mu, logvar = model.encode(x)
        exact_kl = kl_per_dim(mu, logvar).sum(1).mean()
        recon = torch.stack(
            [recon_per_image(x, model.decode(model.reparameterize(mu, logvar)), model.likelihood).mean() for _ in range(400)]
        ).mean()
    assert float(k1) == pytest.approx(float(recon + exact_kl), rel=2e-3)
    assert float(k20) < float(k1) - 0.01  # Burda et al.: the bound tightens with k


def test_free_bits_make_each_dimensions_kl_count_at_least_f(exact_model_and_batch):
    model, x = exact_model_and_batch
    torch.manual_seed(5)
    plain = training_terms(model, x, 2.0, TrainConfig())
    torch.manual_seed(5)
    floored = training_terms(model, x, 2.0, TrainConfig(free_bits=0.5))
    mu, logvar = model.encode(x)
    per_dim = kl_per_dim(mu, logvar).mean(0)
    expected = plain.recon + 2.0 * torch.clamp(per_dim, min=0.5).sum()
    assert float(floored.loss) == pytest.approx(float(expected), rel=1e-5)
    assert float(floored.kl) == pytest.approx(float(plain.kl))  # the curves still show the true KL
    # below F a dimension gets no push from the KL term: its gradient is the reconstruction's alone
    logvar = logvar.detach().requires_grad_()
    (free_bits_penalty(mu.detach(), logvar, 1e6) + kl_per_dim(mu.detach(), logvar).mean(0).sum()).backward()
    assert torch.allclose(logvar.grad, torch.zeros_like(logvar.grad), atol=1e-6)


def test_the_elbo_objective_is_the_elbo(exact_model_and_batch):
    model, x = exact_model_and_batch
    torch.manual_seed(6)
    terms = training_terms(model, x, 1.5, TrainConfig())
    torch.manual_seed(6)
    out, mu, logvar = model(x)
    assert float(terms.loss) == float(elbo(x, out, mu, logvar, beta=1.5).loss)


@pytest.mark.parametrize("bad", [dict(objective="vimco"), dict(iwae_k=0), dict(free_bits=-0.1), dict(free_bits=math.nan)])
def test_bad_objective_settings_are_refused(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_the_cli_trains_on_the_iwae_bound_with_free_bits_and_eval_says_so(tmp_path):
    out = tmp_path / "iw.pt"
    cli(
        "train",
        "--epochs",
        "2",
        "--latent-dim",
        "3",
        "--hidden",
        "32",
        "--objective",
        "iwae",
        "--iwae-k",
        "4",
        "--free-bits",
        "0.25",
        "--out",
        str(out),
    )
    train = load_checkpoint(out)[1].train
    assert (train.objective, train.iwae_k, train.free_bits) == ("iwae", 4, 0.25)
    result = json.loads(cli("eval", str(out), "--json", "--iwae-k", "10").stdout)
    assert result["objective"] == "iwae" and result["free_bits"] == 0.25 and "iwae_nll" in result
    old = json.loads(cli("eval", "checkpoints/digits-2d.pt", "--json").stdout)  # saved before objectives: the ELBO
    assert old["objective"] == "elbo" and old["free_bits"] == 0.0


def test_the_train_page_trains_on_the_iwae_bound_with_free_bits(tmp_path, monkeypatch):
    from test_app_train import current_run_id, train_page, wait_until_done

    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = train_page()
    assert at.selectbox(key="train_objective").value == "elbo" and at.number_input(key="train_free_bits").value == 0.0
    at.selectbox(key="train_objective").set_value("iwae").run()
    at.number_input(key="train_iwae_k").set_value(3)
    at.number_input(key="train_free_bits").set_value(0.25)
    at.number_input(key="train_epochs").set_value(2)
    at.button(key="train_start").click().run()
    run_id = current_run_id(at)
    at = wait_until_done(at)
    assert not at.exception and "Status: **finished**" in [m.value for m in at.markdown]
    assert any(r"\frac{1}{k}" in f.body and "k = 3" in f.body and r"\max(0, F" in f.body for f in at.latex)
    at.text_input(key=f"save_name_{run_id}").set_value("iwae-run").run()
    at.button(key=f"save_{run_id}").click().run()
    train = load_checkpoint(tmp_path / "iwae-run.pt")[1].train
    assert (train.objective, train.iwae_k, train.free_bits) == ("iwae", 3, 0.25)


def test_the_tc_decomposition_on_a_batch_of_the_whole_dataset_is_the_exact_mixture_estimate():
    """Gaussian toys: with every posterior in the batch, the minibatch q(z) is the dataset's mixture itself, so MI, TC
    and dimension-wise KL equal vae_core.stats.estimators' exact mixture estimates at the same samples."""
    import numpy as np

    from vae_core.model.bounds import kl_decomposition
    from vae_core.stats.estimators import aggregate_log_densities

    rng = np.random.default_rng(0)
    mu = rng.normal(size=(64, 3)) @ np.array([[1.0, 0.6, 0.0], [0.0, 0.8, 0.3], [0.0, 0.0, 0.5]])  # correlated codes
    logvar = rng.normal(-1.5, 0.3, size=(64, 3))
    z = mu + np.exp(0.5 * logvar) * rng.normal(size=mu.shape)
    mi, tc, dim_kl = (float(t) for t in kl_decomposition(*(torch.tensor(a) for a in (z, mu, logvar))))
    log_q, log_q_dims = aggregate_log_densities(z, mu, logvar)
    log_qzx = (-0.5 * (np.log(2 * np.pi) + logvar + (z - mu) ** 2 / np.exp(logvar))).sum(1)
    log_p_dims = -0.5 * (np.log(2 * np.pi) + z**2)
    assert mi == pytest.approx(np.mean(log_qzx - log_q), rel=1e-9)
    assert tc == pytest.approx(np.mean(log_q - log_q_dims.sum(1)), rel=1e-9)
    assert dim_kl == pytest.approx(np.mean((log_q_dims - log_p_dims).sum(1)), rel=1e-9)
    assert tc > 0.05  # the toy's correlated codes: a total correlation to find
    assert mi + tc + dim_kl == pytest.approx(np.mean(log_qzx - log_p_dims.sum(1)), rel=1e-9)  # a sampled KL


def test_tcvae_with_the_tc_weight_at_beta_is_the_beta_elbo_with_a_sampled_kl(exact_model_and_batch):
    from vae_core.model.bounds import kl_decomposition, tcvae_terms

    model, x = exact_model_and_batch
    torch.manual_seed(7)
    terms, mu, logvar = tcvae_terms(model, x, beta=2.0, tc_weight=2.0)
    torch.manual_seed(7)
    mu2, logvar2 = model.encode(x)
    z = model.reparameterize(mu2, logvar2)
    recon = recon_per_image(x, model.decode(z), model.likelihood).mean()
    sampled_kl = (log_normal(z, mu2, logvar2) - log_normal(z, torch.zeros_like(z), torch.zeros_like(z))).mean()
    assert float(terms.loss) == pytest.approx(float(recon + 2.0 * sampled_kl), rel=1e-5)
    torch.manual_seed(7)
    heavier, _, _ = tcvae_terms(model, x, beta=2.0, tc_weight=8.0)
    tc = kl_decomposition(z, mu2, logvar2)[1]
    assert float(heavier.loss - terms.loss) == pytest.approx(6.0 * float(tc), rel=1e-4)  # W weighs the TC alone


def test_the_cli_trains_a_tcvae_and_keeps_its_tc_weight(tmp_path):
    out = tmp_path / "tc.pt"
    cli(
        "train",
        "--epochs",
        "2",
        "--latent-dim",
        "3",
        "--hidden",
        "32",
        "--objective",
        "tcvae",
        "--tc-weight",
        "6",
        "--out",
        str(out),
    )
    train = load_checkpoint(out)[1].train
    assert (train.objective, train.tc_weight) == ("tcvae", 6.0)
    assert json.loads(cli("eval", str(out), "--json").stdout)["objective"] == "tcvae"
