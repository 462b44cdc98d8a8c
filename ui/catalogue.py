"""The checkpoints on this server and what the pages load from them: the list of checkpoints (with unusable
ones and their reasons), models, datasets, latent maps and estimates, each cached; and the registry of
training runs. Nothing here holds a session's state (ui/session.py does).

Models and datasets are cached as resources (one shared object); the maps as data. Every cache key carries the
checkpoint's mtime, so a file saved again under the same name is picked up. Nothing here imports torch at
import time: the sidebar's list and the Explore map come from each checkpoint's cache (vae_core.store.map_cache), so
the start page draws its map before torch is loaded. Model, data and encoding are imported where needed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import streamlit as st

from ui.uploads import display_name, short_name
from vae_core.config import BUILTIN, DataOptions
from vae_core.maps.nonlinear import import_pandas_here
from vae_core.maps.projection import MapData
from vae_core.store import map_cache
from vae_core.store.files import (
    MODEL_FOLDER_FILES,
    ListedCheckpoint,
    checkpoint_files,
    dataset_signature,
    is_model_folder,
    model_mtime,
    remove_stale_temp_files,
    typed_folders,
)
from vae_core.store.meta import CheckpointMeta

LOG = logging.getLogger("vae_explorer")

ROOT = Path(__file__).resolve().parents[1]


def data_root() -> str:
    """Where MNIST-like datasets and uploads are kept: $VAE_EXPLORER_DATA, else data/."""
    return os.environ.get("VAE_EXPLORER_DATA", "data")


def _folder_signature(folder: Path) -> tuple:
    if not folder.is_dir():
        return ()
    files = [
        folder.glob(pattern)
        for pattern in ("*.pt", "*/*.pt", *(f"{up}{name}" for up in ("*/", "*/*/") for name in MODEL_FOLDER_FILES))
    ]
    return tuple(
        (str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(p for found in files for p in found)
    )


@st.cache_data(show_spinner=False, max_entries=4)
def _scan(folder: str, signature: tuple) -> list[ListedCheckpoint]:
    """The folder's checkpoints and those one folder down (a sweep's: named "<sweep>/<run>", grouped)."""
    folder = Path(folder)
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not is_model_folder(p)) if folder.is_dir() else []
    rows = []
    for sub in [folder, *subfolders]:
        group = "" if sub == folder else sub.name
        remove_stale_temp_files(sub)
        for path in checkpoint_files(sub):
            rows.append(_listed(path, f"{group}/{path.stem}" if group else path.stem, group))
    return rows


def _listed(path: Path, name: str, group: str) -> ListedCheckpoint:
    """The file's entry; one that fails in any way the reader did not foresee is an unusable entry with the reason,
    so one bad file never takes the list (and every page's sidebar) down with it."""
    try:
        meta, error = _summary(path)
        return ListedCheckpoint(str(path), meta, error, name=name, group=group, mtime=model_mtime(path))
    except Exception as err:
        LOG.exception("listing %s failed", path)
        why = f"it could not be read ({type(err).__name__}); the server's log has the details"
        return ListedCheckpoint(str(path), None, why, name=name)


def _summary(path: Path) -> tuple[CheckpointMeta | None, str | None]:
    """A checkpoint's metadata for the lists, or why it has none: from its cache, else read from the file (torch)
    and cached."""
    summary = map_cache.read_summary(path)
    if summary is not None:
        return summary, None
    from vae_core import CheckpointError, load_checkpoint

    try:
        _, meta = load_checkpoint(path)
    except CheckpointError as err:
        return None, shown_reason(err, path)
    map_cache.write(path, meta)
    return meta, None


def shown_reason(err, path="", name: str = "") -> str:
    """An error's text as a page shows it (raw still: the caller makes it plain), with no server path in it: the
    file's own path, where it leads the text as the engine's errors put it, goes (the page names the file beside
    it), elsewhere it is the file's listed name; the app's folders are said as what they are."""
    text = str(err)
    if path:
        text = text.removeprefix(f"{path}: ").replace(str(path), name or Path(path).name)
    for folder, said in ((uploads_dir(), "the uploads folder"), (checkpoint_dir(), "the checkpoints folder")):
        text = text.replace(str(folder), said)
    return text


def uploads_dir() -> Path:
    """Where uploaded zips are unpacked."""
    return Path(data_root()) / "uploads"


def dataset_label(dataset: str) -> str:
    """A dataset as a person should read it: no server paths (see ui.uploads.display_name)."""
    return display_name(dataset, uploads_dir())


def dataset_short_name(dataset: str) -> str:
    """A dataset's name for a checkpoint's name: an upload by its zip's name (see ui.uploads.short_name)."""
    return short_name(dataset, uploads_dir())


def checkpoint_dir() -> Path:
    """Where checkpoints are listed and saved: checkpoints/ unless VAE_EXPLORER_CHECKPOINTS says otherwise."""
    return Path(os.environ.get("VAE_EXPLORER_CHECKPOINTS", ROOT / "checkpoints"))


def checkpoints() -> list[ListedCheckpoint]:
    """Every checkpoint file in the folder: usable ones with a summary, unusable ones with `error`."""
    folder = checkpoint_dir()
    return _scan(str(folder), _folder_signature(folder))


def warm_up_training() -> None:
    """Start the process that trains runs (it imports torch, in its own process) if it is not running yet, so a
    first Start is quick. Torch-free here: app.py calls it before any page has imported torch."""
    from vae_core.runs.processes import start_training_processes

    start_training_processes()


@st.cache_resource(show_spinner="Reading the runs kept from before the server started…")
def run_registry():
    """One registry of background training runs per server, shared by all sessions."""
    from vae_core.runs.registry import RunRegistry

    return RunRegistry(data_refusal=data_refusal)  # restored runs read only the data a checkpoint may


_PREFETCH: dict = {}  # dataset name -> Future of its Dataset, loaded in the background (prefetch_dataset)
_PREFETCH_LOCK = threading.Lock()


def prefetch_dataset(name: str) -> None:
    """Start loading a built-in dataset (digits, or MNIST-like data already on disk) in the background, once per
    server, so Start does not wait for it (the digits wait mostly for scikit-learn's import)."""
    from vae_core import load_dataset

    with _PREFETCH_LOCK:
        if name not in _PREFETCH:
            import_pandas_here()  # the digits import scikit-learn, and it pandas: whole before the thread starts
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
            _PREFETCH[name] = pool.submit(load_dataset, name, root=data_root(), download=False)  # never download here
            pool.shutdown(wait=False)


def prefetched_dataset(name: str):
    """The dataset prefetch_dataset loaded (waiting for it if it is still loading), or None if it failed."""
    future = _PREFETCH.get(name)
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # not on disk (it would need a download), or broken: the caller loads it the usual way
        with _PREFETCH_LOCK:
            _PREFETCH.pop(name, None)  # try again next time: the files may have arrived
        return None


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(path: str, mtime: int):
    from vae_core import load_checkpoint

    return load_checkpoint(path)


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=4)
def _load_data(options_json: str):
    from vae_core.data.datasets import load_data

    return load_data(DataOptions.from_dict(json.loads(options_json)), download=False)  # never download silently


def data_refusal(options: DataOptions) -> str | None:
    """Why the app will not read the image folder a checkpoint names, or None when it may: a built-in dataset, a
    folder inside the checkpoints or uploads folder, or one someone on this server loaded by naming it. A
    checkpoint alone must not make the app show the images of any folder on the server."""
    if options.name.lower() in BUILTIN:
        return None
    folder = Path(options.name).resolve()
    if str(folder) in typed_folders() or any(
        folder == place or place in folder.parents for place in (checkpoint_dir().resolve(), uploads_dir().resolve())
    ):
        return None
    return (
        f"Its images would come from a folder “{folder.name}” that nobody named on this server, so they "
        "are not read: the app reads a model's image folder only inside the checkpoints or uploads folder, or "
        "once someone has loaded it by name (--data FOLDER)."
    )


def dataset_for(meta: CheckpointMeta):
    """The checkpoint's dataset with its training split, or (None, reason) when it is not on this machine or
    may not be read (data_refusal)."""
    from vae_core import DatasetError

    if refusal := data_refusal(meta.data_options):
        return None, refusal
    try:
        return _load_data(json.dumps(meta.data_options.to_dict(), sort_keys=True)), None
    except DatasetError as err:
        return None, shown_reason(err)


def map_data(path: str, mtime: int) -> MapData:
    """The map of the checkpoint's test set: from its cache when checkpoint and data are unchanged (no torch, no
    model, no data read), else encoded and cached for the next start. Drawn again once a folder is named on
    this server, as that may let the model show its images (data_refusal)."""
    return _map_data(path, mtime, tuple(sorted(typed_folders())))


@st.cache_data(show_spinner="Encoding the test set…", max_entries=8)
def _map_data(path: str, mtime: int, typed_folders_key: tuple) -> MapData:  # the last part of the key only
    summary = map_cache.read_summary(Path(path))
    signature = dataset_signature(summary.data_options) if summary and not data_refusal(summary.data_options) else None
    cached = map_cache.read_map(Path(path), signature) if signature else None
    if cached is not None:
        return cached
    from vae_core.analysis.latent import build_map, build_map_without_data

    model, meta = load_model(path, mtime)
    data, reason = dataset_for(meta)
    if data is None:
        return build_map_without_data(model, meta.class_names, reason)
    md = build_map(model, data.test_x, data.test_y, data.class_names, data.factors)
    map_cache.write(Path(path), meta, md, dataset_signature(meta.data_options))
    return md


_NONLINEAR: dict = {}  # (path, mtime, kind) -> MapData: in memory for this server; on disk in the cache too


def nonlinear_map(row: ListedCheckpoint, md: MapData, kind: str, progress) -> MapData:
    """The test set's map by UMAP or t-SNE (vae_core.maps.nonlinear): fitted once per model, then read from disk.
    `progress(message, fraction)` is called while a fit runs."""
    from vae_core.analysis.latent import nonlinear_map as fitted

    key = (row.path, row.mtime, kind)
    if key not in _NONLINEAR:
        _NONLINEAR[key] = fitted(md, kind, progress)
    return _NONLINEAR[key]


@st.cache_data(show_spinner="Estimating how the codes fill the prior…", max_entries=16)
def posterior_estimates(path: str, mtime: int, max_images: int = 2000):
    """The split of the model's average KL on (up to max_images of) its test set (vae_core.stats.estimators)."""
    from vae_core.stats.estimators import posterior_estimates as estimate

    md = map_data(path, mtime)
    return None if len(md.mu) == 0 else estimate(md.mu[:max_images], md.logvar[:max_images])


def partners(rows: list[ListedCheckpoint], a: ListedCheckpoint) -> list[ListedCheckpoint]:
    """The usable checkpoints other than A that take A's images (the same shape): those trained on A's dataset
    first, so that the first, the default B, shares A's test images when any does."""
    fits = [r for r in rows if r.error is None and r.name != a.name and r.image_shape == a.image_shape]
    return sorted(fits, key=lambda r: r.dataset != a.dataset)


def same_data(meta_a: CheckpointMeta, meta_b: CheckpointMeta) -> bool:
    """Whether two checkpoints were trained on the same data with the same split, so that a test image of one is
    a test image of the other."""
    return meta_a.data_options == meta_b.data_options
