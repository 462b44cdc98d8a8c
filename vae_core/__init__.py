"""vae_core: the engine of the latent space explorer. No UI code lives here."""
from .checkpoint import CheckpointError, list_checkpoints, load_checkpoint, save_checkpoint, save_run
from .data import Dataset, DatasetError, load_dataset
from .elbo import ELBO, active_units, elbo, image_terms, iwae_log_likelihood, kl_per_dim, recon_per_image
from .model import VAE, VAEConfig, parse_hidden
from .train import BetaControl, NonFiniteLossError, TrainConfig, TrainEvent, available_devices, evaluate, train

__all__ = [
    "VAE", "VAEConfig", "parse_hidden", "ELBO", "elbo", "kl_per_dim", "recon_per_image", "active_units",
    "iwae_log_likelihood", "image_terms", "Dataset", "DatasetError", "load_dataset", "train", "TrainConfig",
    "TrainEvent", "BetaControl", "NonFiniteLossError", "available_devices", "evaluate", "save_checkpoint",
    "save_run", "load_checkpoint", "list_checkpoints", "CheckpointError",
]
