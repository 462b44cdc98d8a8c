import pytest
import torch

from vae_core import VAE, VAEConfig


@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 13, 17), (1, 1, 1)])
def test_shapes_round_trip(arch, shape):
    model = VAE(VAEConfig(image_shape=shape, latent_dim=5, arch=arch, hidden=(8, 16)))
    x = torch.rand(4, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (4, 5)
    assert model.decode(mu).shape == (4, *shape)
    logits, mu2, _ = model(x)
    assert logits.shape == x.shape and torch.equal(mu, mu2)


def test_config_defaults_and_validation():
    assert VAEConfig(arch="conv").hidden == (32, 64)
    assert VAEConfig.from_dict(VAEConfig(latent_dim=7, hidden=[10, 20]).to_dict()) == VAEConfig(latent_dim=7, hidden=(10, 20))
    with pytest.raises(ValueError, match="arch"):
        VAEConfig(arch="transformer")
    with pytest.raises(ValueError, match="latent_dim"):
        VAEConfig(latent_dim=0)


def test_reparameterize_uses_mu_and_sigma():
    model = VAE(VAEConfig())
    mu, logvar = torch.full((1, 2), 3.0), torch.full((1, 2), 2 * torch.log(torch.tensor(0.5)))
    z = model.reparameterize(mu, logvar, eps=torch.ones(1, 2))
    torch.testing.assert_close(z, torch.full((1, 2), 3.5))


def test_parse_hidden_reads_comma_separated_sizes():
    from vae_core import parse_hidden

    assert parse_hidden("512, 256") == (512, 256)
    assert parse_hidden("") == ()  # the architecture's default
    for bad in ("512;256", "a,b", "64,0"):
        with pytest.raises(ValueError, match="Hidden sizes"):
            parse_hidden(bad)


@pytest.mark.parametrize(
    "config",
    [
        VAEConfig(),
        VAEConfig(image_shape=(3, 32, 32), latent_dim=20, arch="conv", likelihood="gaussian"),
        VAEConfig(image_shape=(1, 28, 28), hidden=(400,), latent_dim=20),
        VAEConfig(image_shape=(1, 13, 17), hidden=(8, 16, 32), arch="conv"),
    ],
)
def test_parameter_count_is_exact_without_building(config):
    from vae_core.model.vae import parameter_count

    assert parameter_count(config) == sum(p.numel() for p in VAE(config).parameters())


def test_a_model_too_large_for_the_machine_is_refused_before_allocating():
    with pytest.raises(ValueError, match="too large for this machine.*GB to train.*Choose smaller hidden sizes"):
        VAE(VAEConfig(image_shape=(1, 28, 28), hidden=(100000, 100000)))  # 20 billion weights, never allocated
