"""The JavaScript of the app's components (ui/js/*.js, joined by ui/scripts.py) parsed by Chromium's own engine as
the ES modules Streamlit runs: a syntax error is reported here with its message, not as a blank chart."""

import base64

import pytest

from browser import chromium_page
from ui.canvas_charts import CHARTS_JS
from ui.explore.browser_decode import DECODED_JS, DECODER_JS
from ui.hover import HOVER_JS
from ui.live_curves import LIVE_CURVES_JS
from ui.selection import SHOW_SELECTION_JS

pytestmark = pytest.mark.browser

# a module that parses and exports a default function gives "function"; one that does not, its error
LOAD = """async (source) => {
  try {
    const module = await import("data:text/javascript;base64," + source);
    return typeof module.default;
  } catch (err) {
    return `${err.name}: ${err.message}`;
  }
}"""


def load_as_module(page, script: str) -> str:
    return page.evaluate(LOAD, base64.b64encode(script.encode()).decode())


def test_every_component_script_is_a_module_with_a_default_function():
    with chromium_page() as page:
        page.goto("about:blank")
        results = {
            name: load_as_module(page, script)
            for name, script in (
                ("charts", CHARTS_JS),
                ("live curves", LIVE_CURVES_JS),
                ("hover", HOVER_JS),
                ("selection", SHOW_SELECTION_JS),
                ("decoder", DECODER_JS),
                ("decoded image", DECODED_JS),
            )
        }
        broken = load_as_module(page, CHARTS_JS.replace("function lines(", "function lines((", 1))
    assert results == dict.fromkeys(("charts", "live curves", "hover", "selection", "decoder", "decoded image"), "function")
    assert broken.startswith("SyntaxError")  # the check sees what a broken file would do
