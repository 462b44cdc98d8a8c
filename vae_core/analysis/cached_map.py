"""Build a checkpoint's cached map (vae_core.store.map_cache): encode its test set once, so the app can draw the
map before torch is loaded. `python -m vae_core.analysis.cached_map CHECKPOINT...` is what `make checkpoints`
ships beside the models."""

from __future__ import annotations

import sys
from pathlib import Path

from vae_core.analysis.latent import build_map
from vae_core.data.datasets import load_data
from vae_core.model.checkpoint import load_checkpoint
from vae_core.store.files import dataset_signature
from vae_core.store.map_cache import cache_path, write


def build(checkpoint: Path) -> None:
    """Encode the checkpoint's test set and cache its summary and map (loads torch, the model and the data)."""
    model, meta = load_checkpoint(checkpoint)
    data = load_data(meta.data_options)
    write(
        checkpoint,
        meta,
        build_map(model, data.test_x, data.test_y, data.class_names, data.factors),
        dataset_signature(meta.data_options),
    )


if __name__ == "__main__":
    for name in sys.argv[1:]:
        build(Path(name))
        print(cache_path(Path(name)))
