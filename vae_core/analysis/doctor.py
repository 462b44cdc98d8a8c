"""The collapse doctor: which latent dimensions a model has given up on, and the retrains that treat it.

A dimension has collapsed when its average KL(q(z_d|x) || N(0, 1)) is under COLLAPSED_KL nats: its posterior is the
prior whatever the image, so it carries nothing. The remedies are the usual ones, each one change to the run that
trained the model (same data, model, epochs and seed), so their outcome can be set against the original:

- free bits (Kingma et al. 2016): each dimension's KL counts at least F nats, so pushing it lower gains nothing;
- cyclical β (Fu et al. 2019): β starts again from 0 a few times, so the code is learned before the KL bites;
- a smaller β: a weaker pull toward the prior;
- the IWAE objective (Burda et al. 2016), whose models keep more active units.

Torch-free: the pages decide what to offer before torch is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vae_core.config import InputError, ModelChoice, RunSpec, TrainConfig

COLLAPSED_KL = 0.01  # nats: below this a dimension's posterior is the prior (the active-units threshold's scale)
FREE_BITS = 0.5  # nats per dimension a free-bits retrain grants
CYCLES = 4  # a cyclical retrain's number of β cycles over its epochs
SMALLER_BETA = 0.25  # a smaller-β retrain's β, as a share of the original's
IWAE_K = 5  # samples per image of an IWAE retrain


def collapsed_dimensions(kl_per_dim, threshold: float = COLLAPSED_KL) -> list[int]:
    """The dimensions whose average KL is under `threshold` nats."""
    return [d for d, kl in enumerate(kl_per_dim) if kl < threshold]


@dataclass(frozen=True)
class Remedy:
    key: str
    title: str  # a button's label
    change: str  # what it changes, in words, for the table


def remedies(train: TrainConfig) -> list[tuple[Remedy, TrainConfig]]:
    """Each remedy for a model trained with `train`, as the TrainConfig of its retrain; one that would change nothing
    (free bits already as high, an IWAE run already) is left out."""
    free_bits = max(FREE_BITS, 2 * train.free_bits)
    cycle = max(1.0, train.epochs / CYCLES)
    smaller = train.beta * SMALLER_BETA
    options = [
        (
            Remedy("free_bits", f"Free bits ({free_bits:g} nats)", f"free bits {free_bits:g} nats per dimension"),
            replace(train, free_bits=free_bits),
        ),
        (
            Remedy("cyclical", "Cyclical β", f"cyclical β, {CYCLES} cycles of {cycle:g} epochs"),
            replace(train, beta_schedule="cyclical", warmup_epochs=cycle),
        ),
        (Remedy("smaller_beta", f"Smaller β ({smaller:g})", f"β {train.beta:g} → {smaller:g}"), replace(train, beta=smaller)),
        (
            Remedy("iwae", f"IWAE objective (k={IWAE_K})", f"the IWAE bound with k = {IWAE_K}"),
            replace(train, objective="iwae", iwae_k=IWAE_K),
        ),
    ]
    return [(remedy, config) for remedy, config in options if config != train]


def original_spec(meta, beta: float | None = None) -> RunSpec:
    """The run that trained a model, from its checkpoint metadata (vae_core.store.meta.CheckpointMeta): its data, model and
    training settings; β its last value (a β changed by hand while it trained ends where it was left), unless given."""
    if meta.train is None:
        raise InputError(
            "This model was not trained here (no training settings are stored with it), so it cannot be retrained."
        )
    return spec_of(meta.vae_config, meta.train, meta.data_options, meta.final_beta if beta is None else beta)


def spec_of(vae, train: TrainConfig, data_options, beta: float) -> RunSpec:
    """The run that makes a model like `vae` (a VAEConfig) on the same data, with the training settings `train` at β."""
    model = ModelChoice(
        arch=vae.arch, latent_dim=vae.latent_dim, hidden=vae.hidden, likelihood=vae.likelihood, conditional=vae.conditional
    )
    return RunSpec(data=data_options, model=model, train=replace(train, beta=float(beta)))


def comparison_row(run: str, change: str, metrics: dict, iwae: dict | None) -> dict:
    """One row of the doctor's table: active units, I(x; z), test −ELBO and the IWAE NLL, from a model's test metrics
    (vae_core.training.loop.evaluate) and its IWAE bound (vae_core.model.bounds.final_iwae); missing ones are None."""
    dims = len(metrics.get("kl_per_dim") or [])
    return {
        "run": run,
        "change": change,
        "active units": None if "active_units" not in metrics else f"{metrics['active_units']} / {dims}",
        "collapsed": None if not dims else len(collapsed_dimensions(metrics["kl_per_dim"])),
        "I(x; z)": metrics.get("mutual_info"),
        "test −ELBO": metrics.get("test_loss"),
        f"IWAE-{iwae['iwae_k'] if iwae else 100}": None if iwae is None else iwae["iwae_nll"],
    }
