"""onnxruntime-web's two files, which decode in a browser: the Explore page loads them from the app's static folder,
and the offline HTML view (analysis.html_export) carries them inside. tools/fetch_onnxruntime_web.py puts them in
a checkout's static/onnxruntime-web/; they are used only when they match the SHA-256 sums committed beside that
script, so a page never runs a runtime other than the pinned one. An installed package has neither: its pages
decode on the server, and its HTML views show the grid of decodes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: tools/ and static/ are beside vae_core/
SUMS = ROOT / "tools" / "onnxruntime_web.sha256"
MODULE, WASM = "ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm"  # the JS loader, and the WebAssembly it runs
MISSING = "the in-browser runtime (onnxruntime-web) is not installed here; make run fetches it"
CHANGED = "the in-browser runtime's files do not match their committed sums; make run fetches them again"


class RuntimeMissing(Exception):
    """Why the runtime's files cannot be used, in one line (MISSING or CHANGED)."""


def runtime_dir() -> Path:
    """static/onnxruntime-web in the checkout, or $VAE_EXPLORER_ORT_DIR (the tests point it at an empty folder)."""
    return Path(os.environ.get("VAE_EXPLORER_ORT_DIR") or ROOT / "static" / "onnxruntime-web")


def stamps(folder: Path | None = None) -> tuple:
    """The files' modification times, to recheck them only when they change; RuntimeMissing when one is absent."""
    folder = folder or runtime_dir()
    try:
        return tuple((folder / name).stat().st_mtime_ns for name in (MODULE, WASM))
    except OSError:
        raise RuntimeMissing(MISSING) from None


def read_runtime(folder: Path | None = None) -> dict[str, bytes]:
    """{file name: bytes} of both files, each checked against its committed sum as read (what is checked is what is
    used); RuntimeMissing saying why not."""
    folder = folder or runtime_dir()
    stamps(folder)
    try:
        sums = {}
        for line in SUMS.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                digest, name = line.split()
                sums[name] = digest.lower()
        files = {name: (folder / name).read_bytes() for name in (MODULE, WASM)}
    except (OSError, ValueError):
        raise RuntimeMissing(MISSING) from None
    if any(hashlib.sha256(data).hexdigest() != sums.get(name) for name, data in files.items()):
        raise RuntimeMissing(CHANGED)
    return files
