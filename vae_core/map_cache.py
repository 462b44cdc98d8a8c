"""What a checkpoint's first view needs, kept beside it: its summary (for lists) and the latent map of its test
set. With both cached, the app lists checkpoints and draws the map without importing torch, loading the model
or reading the data; the model loads after the map is drawn.

The cache of `NAME.pt` is `NAME.map.npz` in the same folder (or, where that folder cannot be written, in the
cache folder). It is used only when it matches: the checkpoint's size and mtime, or failing that (a fresh
clone, a copied file) its SHA-256; and for the map also the data's signature (files.dataset_signature), so
a changed checkpoint or dataset is never shown from a stale map. A damaged cache file is ignored and rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .files import cache_dir, dataset_signature
from .maps import MapData, Projection
from .meta import CheckpointMeta, MetadataError

VERSION = 1
MAP_ARRAYS = ("xy", "mu", "logvar", "labels")


def cache_path(checkpoint: Path) -> Path:
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name.removesuffix(".pt") + ".map.npz")


def _fallback_path(checkpoint: Path) -> Path:
    key = hashlib.sha256(str(Path(checkpoint).resolve()).encode()).hexdigest()[:24]
    return cache_dir() / "checkpoint-maps" / f"{key}.map.npz"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _identity(checkpoint: Path) -> dict:
    stat = Path(checkpoint).stat()
    return dict(size=stat.st_size, mtime_ns=stat.st_mtime_ns)


def _read(checkpoint: Path) -> dict | None:
    """The cache's contents when it belongs to this very checkpoint file, else None."""
    for path in (cache_path(checkpoint), _fallback_path(checkpoint)):
        try:
            with np.load(path, allow_pickle=False) as f:
                contents = {key: f[key] for key in f.files}
            header = json.loads(str(contents.pop("header")))
        except Exception:  # absent, damaged or from another version: rebuilt by whoever has the data
            continue
        if header.get("version") != VERSION:
            continue
        now = _identity(checkpoint)
        if header["size"] != now["size"]:
            continue
        if header["mtime_ns"] != now["mtime_ns"] and header["sha256"] != file_sha256(checkpoint):
            continue
        return dict(header=header, arrays=contents)
    return None


def read_summary(checkpoint: Path) -> CheckpointMeta | None:
    """The checkpoint's metadata for lists (all but its history), from its cache, or None."""
    cached = _read(checkpoint)
    if cached is None:
        return None
    try:
        return CheckpointMeta.from_payload(cached["header"]["summary"], str(checkpoint))
    except (MetadataError, TypeError):  # not what a summary holds: read the checkpoint itself instead
        return None


def read_map(checkpoint: Path, data_signature: str) -> MapData | None:
    """The map of the checkpoint's test set, from its cache when that was made from the same data, or None."""
    cached = _read(checkpoint)
    if cached is None or cached["header"].get("map") is None or cached["header"]["map"]["data"] != data_signature:
        return None
    info, arrays = cached["header"]["map"], cached["arrays"]
    projection = Projection(latent_dim=info["latent_dim"],
                            **{k: arrays[f"projection_{k}"] for k in ("mean", "components", "explained")
                               if f"projection_{k}" in arrays})
    return MapData(*(arrays[k] for k in MAP_ARRAYS), list(info["class_names"]), projection,
                   tuple(info["x_range"]), tuple(info["y_range"]))


def write(checkpoint: Path, meta: CheckpointMeta, md: MapData | None = None, data_signature: str | None = None) -> None:
    """Cache the checkpoint's summary and, when given, its map. Best effort: a folder that cannot be written
    sends it to the cache folder, and a failure there only costs the next start time."""
    checkpoint = Path(checkpoint)
    header = dict(version=VERSION, sha256=file_sha256(checkpoint), **_identity(checkpoint), summary=meta.summary(),
                  map=None)
    arrays = {}
    if md is not None and not md.missing_data:
        header["map"] = dict(data=data_signature, latent_dim=md.projection.latent_dim, class_names=list(md.class_names),
                             x_range=list(md.x_range), y_range=list(md.y_range))
        arrays = {k: getattr(md, k) for k in MAP_ARRAYS}
        arrays.update({f"projection_{k}": v for k, v in md.projection.arrays().items()
                       if k != "latent_dim" and v is not None})
    for path in (cache_path(checkpoint), _fallback_path(checkpoint)):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
            np.savez(tmp, header=np.array(json.dumps(header, default=_plain)), **arrays)
            os.replace(tmp, path)  # whole or absent: a reader never sees half a file
            return
        except OSError:
            continue


def _plain(value):
    """JSON for what metadata holds beside plain types (numpy scalars, tuples stay lists)."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def build(checkpoint: Path) -> None:
    """Encode the checkpoint's test set and cache its summary and map (loads torch, the model and the data)."""
    from .checkpoint import load_checkpoint
    from .latent import build_map

    model, meta = load_checkpoint(checkpoint)
    data = meta.data_options.load()
    write(checkpoint, meta, build_map(model, data.test_x, data.test_y, data.class_names),
          dataset_signature(meta.data_options))


if __name__ == "__main__":  # python -m vae_core.map_cache CHECKPOINT...: what `make checkpoints` ships beside them
    import sys

    for name in sys.argv[1:]:
        build(Path(name))
        print(f"{cache_path(Path(name))}")
