"""Files and folders, without torch: image listings, the cache folder, what identifies a dataset's files, and
checkpoint files as a folder lists them (the app lists and maps checkpoints before torch is imported)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vae_core.config import IMPORTED, DataOptions
from vae_core.stats.metrics import METRIC_NAMES
from vae_core.store.atomic import write_atomic
from vae_core.store.meta import CheckpointMeta

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
SUFFIX = ".pt"  # checkpoint files
TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


UPLOAD_FOLDER = re.compile(r"upload-[0-9a-f]{16}")  # what the app unpacks a zip into (ui/uploads.py), its name beside it


def dataset_title(dataset: str) -> str:
    """A dataset as a person reads it, from its name alone: an uploaded zip (a folder upload-<hash> the app unpacked
    it into, with the zip's own name beside it in upload-<hash>.name) by that name, a folder by its own name,
    never by the server's path."""
    path = Path(dataset)
    for folder in (path, *path.parents):
        if UPLOAD_FOLDER.fullmatch(folder.name):
            label = folder.with_name(f"{folder.name}.name")
            zip_name = label.read_text(errors="replace").strip()[:200] if label.is_file() else ""
            return f"{zip_name or 'a zip'} (uploaded)"
    return path.name or dataset


def write_failure(err: OSError, what: str, folder) -> str:
    """One sentence for a write that failed: a full disk and a read-only folder said as such."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full"
    elif err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        why = "the folder is read-only or not writable here"
    else:
        why = err.strerror or str(err)
    return f"Could not write {what} to {folder}: {why}. Nothing was left half-written there."


def image_paths(folder: Path) -> list[str]:
    """The image files anywhere below `folder`, as path strings, in a stable order (the order of the dataset's
    images): the order of sorted(folder.rglob("*")), from one walk that visits each directory's entries sorted by
    name (sorting Paths and asking each one is_file() took 0.2 s of a cached load of 10k images, the walk 0.06 s;
    making a Path of each file another 0.1 s, so a cached load keeps the strings). As rglob does, it does not
    descend into linked directories, and keeps linked files; a directory it may not read is skipped."""
    found: list[str] = []

    def visit(directory: str) -> None:
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except PermissionError:
            return
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                visit(entry.path)
            elif os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES and entry.is_file():
                found.append(entry.path)

    if folder.is_dir():
        visit(str(folder))
    return found


def image_files(folder: Path) -> list[Path]:
    """image_paths as Paths."""
    return [Path(path) for path in image_paths(folder)]


def cache_dir() -> Path:
    """Where decoded image folders and fitted maps are kept: $VAE_EXPLORER_CACHE, else the user's cache folder."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vae-latent-explorer"
    return Path(os.environ.get("VAE_EXPLORER_CACHE", default))


def file_listing(folder: Path) -> list[tuple]:
    """(relative path, size, mtime) of each image file below `folder`: what tells that a folder's contents changed."""
    paths = image_paths(folder)
    return listing_of(paths, relative_files(folder, paths)[0])


def listing_of(paths: Sequence[str | Path], rel_files: list[str]) -> list[tuple]:
    """file_listing of these files, given their paths below the folder (relative_files)."""
    return [(rel, st.st_size, st.st_mtime_ns) for rel, st in zip(rel_files, map(os.stat, paths))]


def relative_files(folder: Path, files: Sequence[str | Path]) -> tuple[list[str], list[str]]:
    """Each file's path below `folder` as str(path.relative_to(folder)) gives it, and its class: the name of
    its top sub-folder, or the folder's own name for a file directly in it. A file outside the folder raises
    ValueError, as relative_to does.

    The containment is checked once per directory instead of once per file (Path.relative_to on every file cost
    0.4 s of a cached load of 10k images). It is the same lexical check, symlinks not resolved: a file's path is
    its directory's path plus a name that holds no separator, so the file is below the folder exactly when its
    directory is."""
    below: dict[str, tuple[str, str]] = {}  # a directory's path -> (its path below the folder, its files' class)
    rel_files, classes = [], []
    for path in files:
        directory, name = os.path.split(path)
        if directory not in below:
            rel_dir = Path(directory).relative_to(folder)  # raises ValueError when outside, as relative_to did
            below[directory] = (str(rel_dir), rel_dir.parts[0] if rel_dir.parts else folder.name)
        rel_dir_str, cls = below[directory]
        rel_files.append(name if rel_dir_str == "." else rel_dir_str + os.sep + name)
        classes.append(cls)
    return rel_files, classes


def dataset_signature(options: DataOptions) -> str:
    """A digest that changes whenever the data a checkpoint's options name change: the options themselves, and
    for a folder every image file's path, size and mtime and its factors.csv's (for MNIST-like sets, their raw
    files')."""
    name = options.name
    files: list = []
    if name.lower() in TORCHVISION_FOLDERS:
        raw = Path(options.root or "data") / TORCHVISION_FOLDERS[name.lower()] / "raw"
        files = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(raw.glob("*"))] if raw.is_dir() else []
    elif os.path.isdir(name):
        files = file_listing(Path(name))
        factors = Path(name) / "factors.csv"  # its ground-truth factors, coloured on the map
        if factors.is_file():
            files.append(("factors.csv", factors.stat().st_size, factors.stat().st_mtime_ns))
    return hashlib.sha256(json.dumps([options.to_dict(), files], sort_keys=True, default=str).encode()).hexdigest()[:32]


TYPED_FOLDERS = "typed-data-folders.json"  # in the cache folder
MAX_TYPED_FOLDERS = 1000


def typed_folders() -> set[str]:
    """The image folders someone on this machine named themselves (`--data FOLDER`, load_dataset(FOLDER)): a
    checkpoint's own claim to a folder is not enough for the app to read it."""
    try:
        folders = json.loads((cache_dir() / TYPED_FOLDERS).read_text())
        return {str(f) for f in folders} if isinstance(folders, list) else set()
    except (OSError, ValueError):
        return set()


def remember_typed_folder(folder: Path) -> None:
    """Note a folder someone loaded by naming it. Best effort: a cache that cannot be written only means the app
    will not show that folder's images for a model trained on it (it says why)."""
    resolved = str(Path(folder).resolve())
    known = typed_folders()
    if resolved in known:
        return
    path = cache_dir() / TYPED_FOLDERS
    try:
        write_atomic(path, json.dumps(sorted(known | {resolved})[-MAX_TYPED_FOLDERS:]))
    except OSError:
        pass


@dataclass(frozen=True)
class ListedCheckpoint:
    """One checkpoint (a file, or an ONNX model folder) as a list shows it: its metadata, or, for an unusable one,
    `error` saying why. The engine's list_checkpoints and the app's sidebar and Compare list the same record."""

    path: str
    meta: CheckpointMeta | None  # None when unreadable
    error: str | None = None
    name: str = ""  # "<sweep>/<run>" for a sweep's; the file's stem when not given
    group: str = ""  # the sub-folder a sweep wrote it to, "" for the folder itself
    mtime: int = 0  # model_mtime when listed: a file saved again under the same name is a new entry

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", Path(self.path).stem)

    @property
    def ok(self) -> bool:
        return self.error is None

    def _config(self, name: str, default):
        return default if self.meta is None else getattr(self.meta.vae_config, name)

    @property
    def dataset(self) -> str:
        return "" if self.meta is None else self.meta.dataset

    @property
    def latent_dim(self) -> int:
        return self._config("latent_dim", 0)

    @property
    def arch(self) -> str:
        return self._config("arch", "")

    @property
    def num_classes(self) -> int:
        """A conditional VAE's labels; 0: unconditional."""
        return self._config("num_classes", 0)

    @property
    def image_shape(self) -> tuple:
        """(C, H, W) of its images."""
        return () if self.meta is None else self.meta.image_shape

    @property
    def likelihood(self) -> str:
        return "bernoulli" if self.meta is None else self.meta.likelihood

    @property
    def beta(self) -> float | None:
        return None if self.meta is None else self.meta.final_beta

    @property
    def beta_path(self) -> tuple:
        """(start, ..., end) when beta was changed during training, else ()."""
        return () if self.meta is None else self.meta.beta_path

    @property
    def seed(self) -> int | None:
        return None if self.meta is None or self.meta.train is None else self.meta.train.seed

    def score(self, name: str) -> float | None:
        """A stored metric (test_loss, test_recon, test_kl, a disentanglement metric), None when absent."""
        return None if self.meta is None else self.meta.metric(name)

    @property
    def scores(self) -> tuple:
        """((metric, value), ...): its disentanglement metrics, on data with known factors."""
        return tuple((name, value) for name in METRIC_NAMES if (value := self.score(name)) is not None)

    @property
    def test_loss(self) -> float | None:
        return self.score("test_loss")

    @property
    def test_recon(self) -> float | None:
        return self.score("test_recon")

    @property
    def test_kl(self) -> float | None:
        return self.score("test_kl")

    @property
    def beta_text(self) -> str:
        """ "1", or "1 → 4 → 0.1" for a run whose beta was changed while it trained."""
        if self.beta_path:
            return " → ".join(f"{b:g}" for b in self.beta_path)
        return "unknown" if self.beta is None else f"{self.beta:g}"  # an imported model may not say

    @property
    def bound(self) -> str:
        """What its losses bound: −log p(x), or −log p(x|y) for a conditional model, which is given the label."""
        return "−log p(x|y)" if self.num_classes else "−log p(x)"

    def describe(self) -> str:
        """The figures that tell models apart first, the name last: a narrow picker cuts off the end."""
        loss = "" if self.test_loss is None else f" · loss {self.test_loss:.1f}"
        imported = " · ONNX" if self.arch == IMPORTED else ""
        conditional = " · conditional" if self.num_classes else ""
        beta = "" if self.beta is None and not self.beta_path else f" · β={self.beta_text}"
        return f"z={self.latent_dim}{beta}{loss}{imported}{conditional} · {self.name}"


MODEL_FOLDER_FILES = ("encoder.onnx", "decoder.onnx", "model.json")  # an ONNX model folder (vae_core.model.onnx_io)
HISTORY_FILE = "history.pt"  # beside them, optional: how the model trained elsewhere (vae_explorer.Monitor writes it)


def checkpoint_files(folder: Path) -> list[Path]:
    """The checkpoint files of a folder, and its ONNX model folders (a model.json inside), sorted by name."""
    folder = Path(folder)
    models = [p for p in folder.iterdir() if is_model_folder(p)] if folder.is_dir() else []
    return sorted([*folder.glob(f"*{SUFFIX}"), *models])


def is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / "model.json").is_file()


def model_files(path: Path) -> list[Path]:
    """What a model is made of: a checkpoint's one file, or a model folder's files that are there."""
    path = Path(path)
    return [f for name in MODEL_FOLDER_FILES if (f := path / name).is_file()] if path.is_dir() else [path]


def model_mtime(path: Path) -> int:
    """When a checkpoint, or any file of a model folder, last changed (ns)."""
    return max((f.stat().st_mtime_ns for f in model_files(path)), default=0)


STALE_TEMP_S = 600  # a save takes seconds: a temp file this old was left by an interrupted one


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Remove the hidden temp files (.NAME.pt.*.tmp) that saves interrupted by a crash or kill left behind."""
    removed = []
    for tmp in folder.glob(f".*{SUFFIX}.*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime > STALE_TEMP_S:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # gone already, or not ours to remove
            pass
    return removed
