"""The VAE: a Gaussian encoder q(z|x) and a decoder p(x|z) of the configured likelihood (likelihood.py).

Vocabulary follows pytorch/examples `vae/main.py`: encode -> (mu, logvar), reparameterize, decode -> the
likelihood's parameters (logits for Bernoulli); decode_mean -> the image to show.
"""

from __future__ import annotations

import torch
from torch import nn

from vae_core.config import InputError, VAEConfig
from vae_core.model.likelihood import make_likelihood
from vae_core.store.machine import free_memory_bytes


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample of q(z|x) that stays differentiable in mu and logvar
    (Kingma & Welling 2014, section 2.4). eps may be given to fix the noise; it broadcasts against mu."""
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


def parameter_count(config: VAEConfig) -> int:
    """The number of weights VAE(config) has, computed without building it."""
    c, h, w = config.image_shape
    d, hidden = config.latent_dim, config.hidden
    linear = lambda a, b: a * b + b  # noqa: E731
    pairs = lambda widths: zip(widths[:-1], widths[1:])  # noqa: E731
    if config.arch == "mlp":
        feat = hidden[-1]
        encoder = sum(linear(a, b) for a, b in pairs([c * h * w, *hidden]))
        total = encoder + sum(linear(a, b) for a, b in pairs([d, *reversed(hidden), c * h * w]))
    else:
        last_h, last_w = _conv_sizes(h, w, len(hidden))[-1]
        feat = hidden[-1] * last_h * last_w
        # 3x3 convs in the encoder, the same transposed (biases of the smaller side) in the decoder
        convs = sum(2 * a * b * 9 + a + b for a, b in pairs([c, *hidden]))
        total = convs + linear(d, feat)
    # a conditional model's one-hot label joins the encoder's features and the decoder's input
    first_decoder_width = hidden[-1] if config.arch == "mlp" else feat
    labels = config.num_classes * (2 * d + first_decoder_width)
    return total + labels + linear(feat, 2 * d) + (1 if config.likelihood == "gaussian" else 0)


TRAINING_COPIES = 4  # weights, gradients and Adam's two moments, float32 each


def check_model_fits(config: VAEConfig) -> None:
    """Refuse, with the numbers, a model whose training would need more than half the memory free now."""
    needed = parameter_count(config) * 4 * TRAINING_COPIES
    free = free_memory_bytes()
    if needed > free / 2:
        raise InputError(
            f"This model is too large for this machine: {parameter_count(config) / 1e6:,.0f} million weights "
            f"(hidden sizes {','.join(map(str, config.hidden))}), about {needed / 2**30:.1f} GB to train, with "
            f"{free / 2**30:.1f} GB of memory free. Choose smaller hidden sizes."
        )


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _conv_sizes(h: int, w: int, n: int) -> list[tuple[int, int]]:
    """Spatial sizes after each of n stride-2 convs (k=3, p=1): ceil(s / 2) each time."""
    sizes = [(h, w)]
    for _ in range(n):
        h, w = (h + 1) // 2, (w + 1) // 2
        sizes.append((h, w))
    return sizes


class VAE(nn.Module):
    def __init__(self, config: VAEConfig):
        check_model_fits(config)  # before allocating anything: hidden sizes of 100000 would take 40 GB
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        d, k = config.latent_dim, config.num_classes
        if config.arch == "mlp":
            self.encoder = nn.Sequential(nn.Flatten(), _mlp([c * h * w, *config.hidden]), nn.ReLU())
            feat = config.hidden[-1]
            self.decoder = _mlp([d + k, *reversed(config.hidden), c * h * w])
        else:
            self.encoder, self.decoder, feat = self._conv_stacks(c, h, w, d + k, config.hidden)
        self.to_stats = nn.Linear(feat + k, 2 * d)  # (features, one-hot y) -> (mu, logvar)
        self.likelihood = make_likelihood(config.likelihood)  # holds the Gaussian's learned sigma

    @staticmethod
    def _conv_stacks(c, h, w, d, channels):
        sizes = _conv_sizes(h, w, len(channels))
        chans = [c, *channels]
        enc = []
        for a, b in zip(chans[:-1], chans[1:]):
            enc += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.ReLU()]
        enc.append(nn.Flatten())
        last_h, last_w = sizes[-1]
        feat = chans[-1] * last_h * last_w
        dec = [nn.Linear(d, feat), nn.ReLU(), nn.Unflatten(1, (chans[-1], last_h, last_w))]
        for i in range(len(channels), 0, -1):
            (th, tw), (sh, sw) = sizes[i - 1], sizes[i]
            # a transposed conv gives 2s - 1 + output_padding: pick the padding that restores the size
            pad = (th - (2 * sh - 1), tw - (2 * sw - 1))
            dec.append(nn.ConvTranspose2d(chans[i], chans[i - 1], 3, stride=2, padding=1, output_padding=pad))
            if i > 1:
                dec.append(nn.ReLU())
        return nn.Sequential(*enc), nn.Sequential(*dec), feat

    def encode(self, x: torch.Tensor, y=None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W) in [0, 1] -> mu, logvar: (B, D). y: a conditional model's labels (B,), or one label for
        all; an unconditional model ignores it."""
        features = self.encoder(x)
        if self.config.conditional:
            features = torch.cat([features, self.one_hot(y, len(x))], dim=1)
        mu, logvar = self.to_stats(features).chunk(2, dim=1)
        return mu, logvar

    def reparameterize(self, mu, logvar, eps: torch.Tensor | None = None) -> torch.Tensor:
        """z = mu + sigma * eps keeps the sample differentiable in mu and logvar."""
        return reparameterize(mu, logvar, eps)

    def decode(self, z: torch.Tensor, y=None) -> torch.Tensor:
        """z: (B, D) -> the likelihood's per-pixel parameter (B, C, H, W): logits, or the Gaussian's mean. y: as
        encode's."""
        if self.config.conditional:
            z = torch.cat([z, self.one_hot(y, len(z))], dim=1)
        return self.decoder(z).view(-1, *self.config.image_shape)

    def decode_mean(self, z: torch.Tensor, y=None) -> torch.Tensor:
        """z: (B, D) -> E[x|z] (B, C, H, W) in [0, 1]."""
        return self.likelihood.mean(self.decode(z, y))

    def decode_image(self, z: torch.Tensor, shown: str = "mean", y=None) -> torch.Tensor:
        """z: (B, D) -> the image to show (B, C, H, W) in [0, 1]: the mean E[x|z], or with shown="mode" the most
        likely x."""
        return self.likelihood.image(self.decode(z, y), shown)

    def forward(self, x: torch.Tensor, y=None):
        mu, logvar = self.encode(x, y)
        z = self.reparameterize(mu, logvar)
        return self.decode(z, y), mu, logvar

    def one_hot(self, y, batch: int) -> torch.Tensor:
        """Labels (B,), or one label for the whole batch, as a float one-hot (B, num_classes); a conditional model
        refuses to run without them."""
        k = self.config.num_classes
        if y is None:
            raise InputError("This is a conditional VAE: it encodes and decodes under a label, and none was given.")
        y = torch.as_tensor(y, dtype=torch.int64, device=self.device)
        if y.dim() == 0:
            y = y.expand(batch)
        # the range is checked on the CPU only: on a GPU it would wait for the device at every step
        if len(y) != batch or (y.device.type == "cpu" and len(y) and not 0 <= int(y.min()) <= int(y.max()) < k):
            raise InputError(f"labels must be {batch} class numbers in 0..{k - 1}, got {y.tolist()[:8]}")
        return nn.functional.one_hot(y, k).float()

    def with_label(self, label: int | None) -> VAE | LabelledVAE:
        """This model with one label fixed, for views that encode and decode under a label the user chooses: it
        answers encode(x), decode(z) and the rest as the model does. An unconditional model (or no label) is itself."""
        return LabelledVAE(self, int(label)) if self.config.conditional and label is not None else self

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


class LabelledVAE:
    """A conditional VAE under one label: the model's interface (config, device, likelihood, encode, decode, ...)
    with y fixed, so code written for unconditional models (maps, grids, traversals) runs on it unchanged."""

    def __init__(self, model: VAE, label: int):
        self.model, self.label = model, label

    def __getattr__(self, name):  # config, device, likelihood, reparameterize, eval, ...: the model's own
        return getattr(self.model, name)

    def encode(self, x, y=None):
        return self.model.encode(x, self.label if y is None else y)

    def decode(self, z, y=None):
        return self.model.decode(z, self.label if y is None else y)

    def decode_mean(self, z, y=None):
        return self.model.decode_mean(z, self.label if y is None else y)

    def decode_image(self, z, shown: str = "mean", y=None):
        return self.model.decode_image(z, shown, self.label if y is None else y)

    def __call__(self, x, y=None):
        return self.model(x, self.label if y is None else y)
