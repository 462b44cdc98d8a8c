"""The widgets' ES modules: the app's shared drawing files (ui/js) joined before the widget's own file.

The app's component files end in a Streamlit entry point (`export default function (component)`); a module may
have one default export only, and the widget's is anywidget's, so the app's entries are renamed here and never
called. What the widget uses of them are their plain functions: canvas.js's axes and legends, live_curves.js's
draw, so the notebook draws the Train page's curves with the same code.
"""

import re
from pathlib import Path

from ui.scripts import component_script

HERE = Path(__file__).parent


def widget_script(app_files: tuple, own_file: str, constants: dict | None = None) -> str:
    """The app's files (with their Streamlit entries renamed) and then the widget's own file, as one module."""
    shared = component_script(*app_files, constants=constants)
    count = iter(range(len(app_files)))
    shared = re.sub(r"^export default function", lambda _: f"function streamlitEntry{next(count)}", shared, flags=re.M)
    return shared + "\n" + (HERE / own_file).read_text(encoding="utf-8")
