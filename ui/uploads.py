"""Uploaded zips of images on the server's disk: one folder per distinct upload, swept when nothing uses it.

Each upload unpacks into $VAE_EXPLORER_DATA/uploads/upload-<first 16 hex of its SHA-256>/, so the same zip started
twice is unpacked once. A folder stays while a checkpoint names it as its dataset, a run on the server trains
on it, or a session showed or chose it lately (hold_upload); `remove_unused_uploads` removes the rest.
"""

from __future__ import annotations

import errno
import hashlib
import io
import shutil
import tempfile
import threading
import time
from pathlib import Path

from vae_core.store.files import write_failure

STALE_UNPACK_S = 600  # a half-unpacked temp folder this old was left by a crash
HOLD_S = 3600  # an upload some session previewed or chose within this time is in use, whoever's it is

_held: dict[str, float] = {}  # upload folder -> when a session last showed or chose it (this server's sessions)
_held_lock = threading.Lock()


def hold_upload(folder: Path) -> None:
    """Mark an upload in use by a session (previewed or chosen): remove_unused_uploads must keep it."""
    with _held_lock:
        _held[str(Path(folder).resolve())] = time.time()


def held_uploads() -> set[str]:
    """The uploads some session showed or chose within HOLD_S."""
    now = time.time()
    with _held_lock:
        for folder in [f for f, t in _held.items() if now - t > HOLD_S]:
            del _held[folder]
        return set(_held)


def unpack_upload(zip_bytes: bytes, root: Path, file_name: str = "") -> Path:
    """The image folder of an uploaded zip (unpacked now, or found from an earlier identical upload). The
    zip's own name is kept beside it (upload-<hash>.name), for display_name."""
    from vae_core.data.datasets import DatasetError, extract_image_zip, image_root  # torch: not for an upload's name

    folder = root / f"upload-{hashlib.sha256(zip_bytes).hexdigest()[:16]}"
    if not folder.is_dir():
        try:
            root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=root))
        except OSError as err:  # a read-only or full disk
            raise DatasetError(write_failure(err, "the unpacked zip", root)) from err
        try:
            extract_image_zip(io.BytesIO(zip_bytes), tmp)
            tmp.rename(folder)  # complete or absent: a half-unpacked upload is never taken for a whole one
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (err.errno in (errno.EEXIST, errno.ENOTEMPTY) and folder.is_dir()):  # a full disk: nothing half stays
                raise DatasetError(write_failure(err, "the unpacked zip", root)) from err
            # else the same zip, unpacked at the same moment by another session: theirs is as good
        except BaseException:  # a refused zip leaves nothing behind
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    name = folder.with_suffix(".name")
    if file_name and not (name.is_file() and name.read_text() == file_name):  # the preview asks at every rerun
        try:
            name.write_text(file_name)
        except OSError:  # a full disk: the upload is named "a zip" until it can be written
            name.unlink(missing_ok=True)
    return image_root(folder)


def remove_unused_uploads(root: Path, in_use: set[str]) -> list[Path]:
    """Remove upload folders that no dataset path in `in_use` lies in, and stale half-unpacked ones."""
    if not root.is_dir():
        return []
    used = {Path(p).resolve() for p in in_use}
    removed = []
    for folder in root.iterdir():
        stale = folder.name.startswith(".unpacking-") and time.time() - folder.stat().st_mtime > STALE_UNPACK_S
        unused = folder.name.startswith("upload-") and not any(
            u == folder.resolve() or folder.resolve() in u.parents for u in used
        )
        if folder.is_dir() and (stale or unused):
            shutil.rmtree(folder, ignore_errors=True)
            folder.with_suffix(".name").unlink(missing_ok=True)
            removed.append(folder)
    return removed


def display_name(dataset: str, root: Path) -> str:
    """How to name a dataset to a person: an upload by its zip's name, never by the server's folder for it;
    a folder by its own name; a built-in one as it is."""
    upload = uploaded_zip_name(dataset, root)
    if upload is not None:
        return f"{upload or 'a zip'} (uploaded)"
    return Path(dataset).name or dataset


def short_name(dataset: str, root: Path) -> str:
    """A dataset's name for a file name: an upload's zip without ".zip", else the folder's or dataset's name."""
    upload = uploaded_zip_name(dataset, root)
    if upload:
        return Path(upload).stem
    return Path(dataset).name or dataset


def uploaded_zip_name(dataset: str, root: Path) -> str | None:
    """The zip's own name when the dataset is an upload ("" when it was not kept), else None."""
    try:
        upload = Path(dataset).resolve().relative_to(root.resolve()).parts[0]
    except (ValueError, IndexError):
        return None
    label = root / f"{upload}.name"
    return label.read_text().strip() if label.is_file() else ""
