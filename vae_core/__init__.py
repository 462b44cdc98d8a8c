"""vae_core: the engine of the latent space explorer. No UI code lives here.

The names below load their module on first use (PEP 562), so `import vae_core.maps` or the torch-free modules
(maps, map_cache, files, estimators) do not import torch: the app draws a cached map before torch is loaded.
"""
import importlib
import sys
import types

_HOME = {
    "checkpoint": ["CheckpointError", "list_checkpoints", "load_checkpoint", "save_checkpoint", "save_run"],
    "data": ["Dataset", "DatasetError", "load_dataset"],
    "elbo": ["ELBO", "elbo", "kl_per_dim", "recon_per_image", "active_units", "iwae_log_likelihood", "image_terms"],
    "model": ["VAE", "VAEConfig", "parse_hidden"],
    "train": ["BetaControl", "NonFiniteLossError", "PauseControl", "TrainConfig", "TrainEvent", "available_devices",
              "evaluate", "train"],
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


class _Package(types.ModuleType):
    """Importing a submodule sets it as an attribute of its package. `vae_core.train` and `vae_core.elbo` are
    functions of those names, as they have always been: those submodule bindings are not kept."""

    def __setattr__(self, name, value):
        if name in _MODULE_OF and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
