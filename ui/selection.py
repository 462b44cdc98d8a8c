"""The Explore map's selection, drawn in the browser onto the chart that is already there.

A tiny Streamlit component (st.components.v2, its script runs in the page) receives the selection's shape
from the server and puts it into the map's layout with Plotly.relayout, and again whenever the chart is drawn
anew (a timer compares what is shown with what should be). The map's figure itself never changes with a
click, so Streamlit keeps the same chart and a click costs the browser a shape, not a new plot
(BENCHMARKS.md section 8).
"""
import streamlit as st

from ui.figures import selection_shape
from ui.scripts import component_script

SHOW_SELECTION_JS = component_script("selection.js", constants=dict(SETTLE_MS=300))

_show_selection = st.components.v2.component("vae_explorer_selection", js=SHOW_SELECTION_JS)


def show_selection(selection, key: str) -> None:
    """Draw this selection (a ui.geometry.Selection, or None for none) on the page's map."""
    _show_selection(data={"shapes": [] if selection is None else [selection_shape(selection)]}, key=key)
