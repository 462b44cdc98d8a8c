"""vae_core: the engine of the latent space explorer. No UI code lives here.

The engine is built in layers, each a sub-package that imports only from those below it (docs/architecture.md):
config; maps, stats, store (no torch); data; model; analysis; training; runs; cli. `make lint` checks the order.

The public names below load their module on first use (PEP 562), so importing the package, or one of the
torch-free layers, does not import torch: the app draws a cached map before torch is loaded. No sub-package is
named after a function exported here, so importing one never replaces a function on the package.
"""

import importlib

_HOME = {
    "model.bounds": ["ELBO", "elbo", "kl_per_dim", "recon_per_image", "active_units", "iwae_log_likelihood", "image_terms"],
    "model.checkpoint": ["CheckpointError", "list_checkpoints", "load_checkpoint", "save_checkpoint"],
    "training.save": ["save_run"],
    "config": ["DataOptions", "ModelChoice", "RunSpec", "TrainConfig", "VAEConfig", "parse_hidden"],
    "data.datasets": ["Dataset", "DatasetError", "load_dataset", "load_data"],
    "store.meta": ["CheckpointMeta"],
    "model.vae": ["VAE"],
    "training.build": ["build_model"],
    "training.loop": [
        "BetaControl",
        "NonFiniteLossError",
        "PauseControl",
        "TrainEvent",
        "available_devices",
        "evaluate",
        "train",
    ],
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}
__all__ = list(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'vae_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__():
    return sorted([*globals(), *__all__])
