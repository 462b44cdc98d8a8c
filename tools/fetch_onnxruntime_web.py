"""Fetch onnxruntime-web's two browser files into static/onnxruntime-web/, checked against committed SHA-256 sums.

    python tools/fetch_onnxruntime_web.py          # what `make run` and `make test` do; quiet when already there

The Explore page decodes map clicks and the hover preview in the browser with onnxruntime-web (WebAssembly, one
thread). Its npm package is 33 MB; the page needs two files of it: the JS loader with the WebAssembly glue bundled
in (ort.wasm.bundle.min.mjs) and the SIMD WebAssembly build it runs (ort-wasm-simd-threaded.wasm, which also runs on
one thread without cross-origin isolation). They come from the npm registry's tarball of the pinned version, and
each must match its sum in tools/onnxruntime_web.sha256 before it is written; anything else is refused. Without
them the app decodes on the server, as it always could, so a failed fetch (offline, say) prints one line and exits
0: it never stops `make run`. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "1.30.0"
TARBALL = f"https://registry.npmjs.org/onnxruntime-web/-/onnxruntime-web-{VERSION}.tgz"
ROOT = Path(__file__).resolve().parent.parent
SUMS = Path(__file__).with_name("onnxruntime_web.sha256")
DEST = ROOT / "static" / "onnxruntime-web"  # served by Streamlit (server.enableStaticServing) at app/static/...
MAX_TARBALL = 64 * 2**20  # the 1.30.0 tarball is 33 MB: a larger answer is not the package we pinned
TIMEOUT = 60  # seconds without data before the download is given up


class FetchError(Exception):
    """Why the files were not installed, in one line."""


def read_sums(path: Path = SUMS) -> dict[str, str]:
    """{file name: sha256 hex} from `sha256sum`-style lines ("<hex>  <name>"); '#' lines are comments."""
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            sums[name] = digest.lower()
    return sums


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def installed(dest: Path = DEST, sums: dict[str, str] | None = None) -> bool:
    """Whether every file is in dest with its committed sum (a changed or partial file counts as absent)."""
    sums = read_sums() if sums is None else sums
    return all((dest / name).is_file() and sha256((dest / name).read_bytes()) == digest for name, digest in sums.items())


def extract(tarball: bytes, sums: dict[str, str]) -> dict[str, bytes]:
    """The files named in sums, read from the npm tarball's package/dist/ (never extracted to disk as the archive
    says: only these names, read as bytes) and checked against their sums. FetchError for a missing or changed one."""
    files = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            for name, digest in sums.items():
                member = archive.getmember(f"package/dist/{name}")
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is None:
                    raise FetchError(f"{name} in the tarball is not a plain file")
                data = handle.read()
                if sha256(data) != digest:
                    raise FetchError(f"{name} does not match its SHA-256 sum in {SUMS.name}: refused")
                files[name] = data
    except (tarfile.TarError, KeyError, EOFError, OSError) as err:
        raise FetchError(f"the tarball is not the expected package ({err})") from None
    return files


def install(files: dict[str, bytes], dest: Path = DEST) -> None:
    """Write the checked files, each whole (a temporary name, then a rename)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        tmp = dest / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, dest / name)


def download(url: str = TARBALL) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            data = response.read(MAX_TARBALL + 1)
    except OSError as err:
        raise FetchError(f"cannot download {url} ({err})") from None
    if len(data) > MAX_TARBALL:
        raise FetchError(f"{url} is over {MAX_TARBALL // 2**20} MB: not the pinned package")
    return data


def fetch(dest: Path = DEST, sums: dict[str, str] | None = None, get=download) -> bool:
    """Install the files unless they are there already; True when they are there (checked) afterwards."""
    sums = read_sums() if sums is None else sums
    if installed(dest, sums):
        return True
    install(extract(get(), sums), dest)
    return installed(dest, sums)


def main(dest: Path = DEST, get=download) -> int:
    try:
        if fetch(dest, get=get):
            return 0
        print(f"onnxruntime-web {VERSION}: the files did not check out after writing; the app decodes on the server.")
    except FetchError as err:
        print(f"onnxruntime-web {VERSION} not fetched: {err}. The app works without it and decodes on the server.")
    except OSError as err:
        print(f"onnxruntime-web {VERSION} not installed in {dest} ({err}). The app decodes on the server.")
    return 0  # never a failure: the app runs without these files


if __name__ == "__main__":
    sys.exit(main())
