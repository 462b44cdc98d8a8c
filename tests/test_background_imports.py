"""A thread that imports scikit-learn or umap-learn in the background imports pandas, and while it does, sys.modules
holds pandas half made: plotly, drawing a chart in the page's thread, took it from there and failed ("partially
initialized module 'pandas' has no attribute 'Series'"). Each starter of such a thread imports pandas first."""

import subprocess
import sys

import pytest

from conftest import ROOT

# In a fresh interpreter: start the background work, then do what a page does while it runs (plotly's check for
# pandas arrays) until pandas is whole in sys.modules.
PAGE_WHILE_BACKGROUND_IMPORTS = """
import sys
from _plotly_utils.basevalidators import is_homogeneous_array

assert "pandas" not in sys.modules
{start}
while True:
    pandas = sys.modules.get("pandas")
    if pandas is not None and not getattr(pandas.__spec__, "_initializing", False):
        break  # imported whole: nothing half made is left to see
    is_homogeneous_array([0.0, 1.0])  # a list, as in a figure: raises AttributeError on a half-made pandas
"""

STARTERS = {
    "the UMAP warm-up": "from vae_core.maps.nonlinear import start_umap_warm_up; start_umap_warm_up()",
    "the digits prefetch": "from ui import catalogue; catalogue.prefetch_dataset('digits')",
}


@pytest.mark.parametrize("start", STARTERS.values(), ids=STARTERS.keys())
def test_a_page_drawn_while_a_background_thread_imports_never_sees_half_of_pandas(start):
    done = subprocess.run(
        [sys.executable, "-c", PAGE_WHILE_BACKGROUND_IMPORTS.format(start=start)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
