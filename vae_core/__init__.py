"""vae_core: the engine of the latent space explorer. No UI code lives here."""
from .checkpoint import CheckpointError, list_checkpoints, load_checkpoint, save_checkpoint
from .data import Dataset, DatasetError, load_dataset
from .elbo import ELBO, active_units, elbo, iwae_log_likelihood, kl_per_dim, recon_per_image
from .model import VAE, VAEConfig
from .train import BetaControl, NonFiniteLossError, TrainConfig, evaluate, train

__all__ = [
    "VAE", "VAEConfig", "ELBO", "elbo", "kl_per_dim", "recon_per_image", "active_units", "iwae_log_likelihood",
    "Dataset", "DatasetError", "load_dataset", "train", "TrainConfig", "BetaControl", "NonFiniteLossError",
    "evaluate", "save_checkpoint", "load_checkpoint", "list_checkpoints", "CheckpointError",
]
