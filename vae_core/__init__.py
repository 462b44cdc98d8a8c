"""vae_core: the engine of the latent space explorer. No UI code lives here.

The names below load their module on first use (PEP 562), so `import vae_core.maps` or the torch-free modules
(config, meta, maps, map_cache, files, estimators) do not import torch: the app draws a cached map before torch
is loaded. No module is named after a function exported here (`train` lives in `training`, `elbo` in `bounds`),
so importing a module never replaces the function of its name on the package.
"""

import importlib

_HOME = {
    "bounds": ["ELBO", "elbo", "kl_per_dim", "recon_per_image", "active_units", "iwae_log_likelihood", "image_terms"],
    "checkpoint": ["CheckpointError", "list_checkpoints", "load_checkpoint", "save_checkpoint", "save_run"],
    "config": ["DataOptions", "ModelChoice", "RunSpec", "TrainConfig", "VAEConfig", "parse_hidden"],
    "data": ["Dataset", "DatasetError", "load_dataset"],
    "meta": ["CheckpointMeta"],
    "model": ["VAE"],
    "training": ["BetaControl", "NonFiniteLossError", "PauseControl", "TrainEvent", "available_devices", "evaluate", "train"],
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
