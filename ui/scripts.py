"""The JavaScript of the app's own components lives in ui/js/ as plain .js files, where an editor and a syntax
check see it (tests/test_browser_scripts.py). Here each component's files are joined into the one ES module it
runs, after the constants it shares with the Python side."""

import json
from pathlib import Path

JS_DIR = Path(__file__).with_name("js")


def component_script(*files: str, constants: dict | None = None) -> str:
    """`const NAME = value;` for each shared constant, then the files' text, in order."""
    prelude = "".join(f"const {name} = {json.dumps(value)};\n" for name, value in (constants or {}).items())
    return prelude + "\n".join((JS_DIR / name).read_text(encoding="utf-8") for name in files)
