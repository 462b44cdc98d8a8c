"""What a checkpoint's first view needs, kept beside it: its summary (for lists) and the latent map of its test
set. With both cached, the app lists checkpoints and draws the map without importing torch, loading the model
or reading the data; the model loads after the map is drawn.

The cache of `NAME.pt` is `NAME.map.npz` in the same folder (or, where that folder cannot be written, in the
cache folder). It is used only when it was made from this very file (its size and SHA-256) and, for the map,
from the same data (files.dataset_signature), so a changed checkpoint or dataset is never shown from a stale
map; and only when it holds what it must (a readable summary, a map whose arrays agree in shape and are
finite). Anything else is ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from vae_core.config import InputError
from vae_core.maps.projection import MapData, Projection
from vae_core.store.atomic import atomic_path
from vae_core.store.files import cache_dir, model_files, model_mtime
from vae_core.store.meta import CheckpointMeta, MetadataError

VERSION = 2  # 2: the header carries a digest of itself and the arrays
MAP_ARRAYS = ("xy", "mu", "logvar", "labels")


def cache_path(checkpoint: Path) -> Path:
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name.removesuffix(".pt") + ".map.npz")


def _fallback_path(checkpoint: Path) -> Path:
    key = hashlib.sha256(str(Path(checkpoint).resolve()).encode()).hexdigest()[:24]
    return cache_dir() / "checkpoint-maps" / f"{key}.map.npz"


def file_sha256(path: Path) -> str:
    """The hash of a checkpoint file, or of a model folder's files (their names and contents)."""
    digest = hashlib.sha256()
    for file in model_files(path):
        if Path(path).is_dir():
            digest.update(file.name.encode())
        with open(file, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def _size(checkpoint: Path) -> int:
    return sum(f.stat().st_size for f in model_files(checkpoint))


def _identity(checkpoint: Path) -> dict:
    return dict(size=_size(checkpoint), mtime_ns=model_mtime(checkpoint))


def _read(checkpoint: Path) -> dict | None:
    """The cache's contents when it belongs to this very checkpoint file (its size and content hash), else None."""
    for path in (cache_path(checkpoint), _fallback_path(checkpoint)):
        try:
            with np.load(path, allow_pickle=False) as f:
                contents = {key: f[key] for key in f.files}
            text = str(contents.pop("header"))
            header = json.loads(text)
            if not (
                isinstance(header, dict)
                and header.get("version") == VERSION
                and _belongs_to(header, checkpoint)
                and header.get("digest") == _digest(text, contents)
            ):
                continue
        except Exception:  # absent, damaged, malformed or from another version: rebuilt by whoever has the data
            continue
        return dict(header=header, arrays=contents)
    return None


def _digest(header_text: str, arrays: dict) -> str:
    """What the cache file holds, hashed with the checkpoint's own hash (inside the header): a summary or a map
    edited by hand, or copied from another file's cache, no longer matches its digest. (A cache is a
    convenience, not a trust boundary: whoever can write into the checkpoints folder can write a checkpoint.)"""
    header = json.loads(header_text)
    header.pop("digest", None)
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _belongs_to(header: dict, checkpoint: Path) -> bool:
    """Whether the cache was made from this checkpoint's very bytes: a cache copied beside another file of the
    same size and time (or written by hand) never describes it."""
    return header["size"] == _size(checkpoint) and header["sha256"] == file_sha256(checkpoint)


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
    """The map of the checkpoint's test set, from its cache when that was made from the same data and holds a
    whole, finite map, or None (then it is built again)."""
    cached = _read(checkpoint)
    if cached is None or not isinstance(cached["header"].get("map"), dict):
        return None
    info, arrays = cached["header"]["map"], cached["arrays"]
    try:
        if info["data"] != data_signature:
            return None
        projection = Projection(
            latent_dim=int(info["latent_dim"]),
            **{k: arrays[f"projection_{k}"] for k in ("mean", "components", "explained") if f"projection_{k}" in arrays},
        )
        known = (
            {}
            if "factors" not in arrays
            else dict(
                factors=arrays["factors"],
                factor_names=[str(n) for n in info["factor_names"]],
                factor_categories={str(k): [str(v) for v in values] for k, values in info["factor_categories"].items()},
            )
        )
        md = MapData(
            arrays["xy"],
            arrays["mu"],
            arrays["logvar"],
            arrays["labels"],
            [str(n) for n in info["class_names"]],
            projection,
            _range(info["x_range"]),
            _range(info["y_range"]),
            **known,
        )
        return md if _whole(md) else None
    except (KeyError, TypeError, ValueError):
        return None


def _range(values) -> tuple[float, float]:
    low, high = (float(v) for v in values)
    if not (np.isfinite([low, high]).all() and low < high):
        raise InputError(f"not an axis range: {values}")
    return low, high


def _whole(md: MapData) -> bool:
    """Every array of the map has the shape the others and the model's latent size say, and is finite."""
    n, d = len(md.mu), md.projection.latent_dim
    p = md.projection
    assert isinstance(p, Projection)  # read_map built it: a cached map is a PCA (or identity) one
    shapes_ok = (
        md.mu.shape == md.logvar.shape == (n, d)
        and md.xy.shape == (n, 2)
        and md.labels.shape == (n,)
        and n > 0
        and np.issubdtype(md.labels.dtype, np.integer)
        and all(a is None or a.shape[-1] == d for a in (p.mean, p.components))
    )
    arrays = [md.xy, md.mu, md.logvar, *(a for a in (p.mean, p.components, p.explained, md.factors) if a is not None)]
    factors_ok = md.factors is None or md.factors.shape == (n, len(md.factor_names))
    return shapes_ok and factors_ok and all(np.isfinite(a).all() for a in arrays)


def write(checkpoint: Path, meta: CheckpointMeta, md: MapData | None = None, data_signature: str | None = None) -> None:
    """Cache the checkpoint's summary and, when given, its map. Best effort: a folder that cannot be written
    sends it to the cache folder, and a failure there only costs the next start time."""
    checkpoint = Path(checkpoint)
    header = dict(version=VERSION, sha256=file_sha256(checkpoint), **_identity(checkpoint), summary=meta.summary(), map=None)
    arrays = {}
    if md is not None and not md.missing_data:
        header["map"] = dict(
            data=data_signature,
            latent_dim=md.projection.latent_dim,
            class_names=list(md.class_names),
            x_range=list(md.x_range),
            y_range=list(md.y_range),
        )
        arrays = {k: getattr(md, k) for k in MAP_ARRAYS}
        if md.factors is not None:
            arrays["factors"] = md.factors
            header["map"].update(factor_names=list(md.factor_names), factor_categories=dict(md.factor_categories))
        projection = md.projection
        assert isinstance(projection, Projection)  # only the PCA (or identity) map is cached; UMAP and t-SNE have their own
        arrays.update({f"projection_{k}": v for k, v in projection.arrays().items() if k != "latent_dim" and v is not None})
    header["digest"] = _digest(json.dumps(header, default=_plain), arrays)
    text = json.dumps(header, default=_plain)
    for path in (cache_path(checkpoint), _fallback_path(checkpoint)):
        try:
            with atomic_path(path, suffix=".tmp.npz") as tmp:
                np.savez(tmp, header=np.array(text), **arrays)
            return
        except OSError:  # a full disk or a read-only folder: try the next place; a cache only saves time
            continue


def _plain(value):
    """JSON for what metadata holds beside plain types (numpy scalars, tuples stay lists)."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
