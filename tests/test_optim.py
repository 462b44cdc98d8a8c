"""vae_core.training.optim.Adam makes torch.optim.Adam(fused=True)'s updates, and does not import torch._dynamo."""

import subprocess
import sys

import pytest
import torch

from conftest import ROOT
from vae_core import VAE, VAEConfig, elbo
from vae_core.training.optim import Adam


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])  # gaussian: its learned sigma is a parameter too
def test_the_same_updates_as_torch_adam(digits, likelihood, one_thread):
    # float64 and one thread: both sides run the same kernel on the same gradients, so they agree to rounding
    torch.manual_seed(0)
    ours = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,), likelihood=likelihood)).double()
    theirs = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,), likelihood=likelihood)).double()
    theirs.load_state_dict(ours.state_dict())
    start = {k: v.clone() for k, v in ours.state_dict().items()}
    optimizers = Adam(ours.parameters(), lr=3e-3), torch.optim.Adam(theirs.parameters(), lr=3e-3, fused=True)
    x = digits.train_x[:64].double()
    x = x / 255 if digits.train_x.dtype == torch.uint8 else x
    for step in range(40):
        for model, opt in zip((ours, theirs), optimizers):
            torch.manual_seed(step)  # the same z sample for both
            out, mu, logvar = model(x)
            opt.zero_grad(set_to_none=True)
            elbo(x, out, mu, logvar, likelihood=model.likelihood).loss.backward()
            opt.step()
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=name)
    assert all(not torch.equal(ours.state_dict()[k], start[k]) for k in start if "weight" in k)  # they did train


def test_training_does_not_import_torch_dynamo():
    code = (
        "import sys, vae_core; from vae_core import TrainConfig, VAE, VAEConfig, load_dataset, train\n"
        "d = load_dataset('digits'); m = VAE(VAEConfig(image_shape=d.image_shape, latent_dim=2, hidden=(16,)))\n"
        "list(train(m, d, TrainConfig(epochs=1)))\n"
        "print('torch._dynamo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
