"""Print the pinned requirements that pyproject.toml holds, for pip: the app's, then each extra named.

    python tools/pins.py              # the app's requirements
    python tools/pins.py onnx         # what `make run` adds: bring your own model (ONNX in and out)
    python tools/pins.py dev ray      # what `make test` adds

pyproject.toml is the one place for pins; the Makefile installs from this output, so nothing can drift.
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
extras = project["optional-dependencies"]
unknown = [name for name in sys.argv[1:] if name not in extras]
if unknown:
    sys.exit(f"no such extra in pyproject.toml: {', '.join(unknown)} (there are {', '.join(extras)})")
pins = project["dependencies"] if len(sys.argv) == 1 else [pin for name in sys.argv[1:] for pin in extras[name]]
print("\n".join(pins))
