"""`vae-explorer`: start the app, from a checkout or from `pip install .`, as `streamlit run app.py` would.

Any arguments go to `streamlit run` (for example `--server.port 8600`).
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

from streamlit.web import cli as streamlit_cli

SHARE = "vae-latent-explorer"  # pyproject.toml installs app.py, pages/, .streamlit/ and checkpoints/ there


def app_dir() -> Path:
    """The folder holding app.py: the checkout this package lies in, else where `pip install` put the app."""
    checkout = Path(__file__).resolve().parents[1]
    for folder in (checkout, Path(sysconfig.get_path("data")) / "share" / SHARE):
        if (folder / "app.py").is_file() and (folder / "pages").is_dir():
            return folder
    raise SystemExit(
        f"error: the app's files (app.py, pages/) are neither in {checkout} nor installed; reinstall with `pip install .`"
    )


def main(argv: list[str] | None = None) -> int:
    folder = app_dir()
    os.environ.setdefault("VAE_EXPLORER_CHECKPOINTS", str(folder / "checkpoints"))
    os.chdir(folder)  # Streamlit reads .streamlit/config.toml (127.0.0.1 only, upload size) from here

    # no static/ (an installed app: onnxruntime-web is fetched into a checkout only): no static serving, and no
    # warning about it; the page then decodes on the server (ui/explore/browser_decode.py)
    serving = [] if (folder / "static").is_dir() else ["--server.enableStaticServing", "false"]
    sys.argv = ["streamlit", "run", str(folder / "app.py"), *serving, *(sys.argv[1:] if argv is None else argv)]
    return streamlit_cli.main()


if __name__ == "__main__":
    sys.exit(main())
