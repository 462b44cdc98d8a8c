"""The Explore map's selection, drawn in the browser onto the chart that is already there.

A tiny Streamlit component (st.components.v2, its script runs in the page) receives the selection's shape
from the server and puts it into the map's layout with Plotly.relayout, and again whenever the chart is drawn
anew (a timer compares what is shown with what should be). The map's figure itself never changes with a
click, so Streamlit keeps the same chart and a click costs the browser a shape, not a new plot
(BENCHMARKS.md section 8).
"""
import streamlit as st

from ui.figures import selection_shape

SHOW_SELECTION_JS = r"""
export default function (component) {
  window.__vaeSelection = (component.data && component.data.shapes) || [];
  const sync = () => {
    const gd = document.querySelector('[data-testid="stMain"] .js-plotly-plot');
    if (!gd || !gd._fullLayout || !window.Plotly) return;
    // Leave a new chart alone for its first moments: a relayout then made Streamlit miss the next click on
    // it about one time in four (Chromium, a UMAP map opened by link); 300 ms later it never did (8 of 8).
    gd.__vaeSeen = gd.__vaeSeen || performance.now();
    if (performance.now() - gd.__vaeSeen < SETTLE_MS) return;
    const shapes = gd.layout.shapes || [];
    const shown = shapes.filter((s) => s.name === "selection");
    if (JSON.stringify(shown) === JSON.stringify(window.__vaeSelection)) return;
    window.Plotly.relayout(gd, {shapes: [...shapes.filter((s) => s.name !== "selection"), ...window.__vaeSelection]});
  };
  sync();
  if (!window.__vaeSelectionTimer) window.__vaeSelectionTimer = setInterval(sync, 100);
}
""".replace("SETTLE_MS", "300")

_show_selection = st.components.v2.component("vae_explorer_selection", js=SHOW_SELECTION_JS)


def show_selection(selection, key: str) -> None:
    """Draw this selection (a ui.geometry.Selection, or None for none) on the page's map."""
    _show_selection(data={"shapes": [] if selection is None else [selection_shape(selection)]}, key=key)
