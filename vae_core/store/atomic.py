"""The one way files are written here: whole or not at all."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path, suffix: str = ".tmp", overwrite: bool = True) -> Iterator[Path]:
    """Yield a hidden temporary path beside `path` to write to. When the block ends without an error the file
    becomes `path` in one step, so a reader finds the old file whole or the new one whole, never half of one;
    with overwrite=False an existing `path` is kept and FileExistsError raised. On any error the temporary file
    is removed and the error goes on (a full or read-only disk is the caller's OSError to explain).

    suffix: the temporary name's ending (".tmp.npz" for numpy, which appends .npz to any other name)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}{suffix}")
    try:
        yield tmp
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if `path` exists, unlike a rename
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path, data: bytes | str, fsync: bool = False, overwrite: bool = True) -> Path:
    """Write `data` to `path` whole or not at all (atomic_path); fsync: on the disk before it is renamed."""
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
        if fsync:
            f.flush()
            os.fsync(f.fileno())
    return Path(path)
