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
