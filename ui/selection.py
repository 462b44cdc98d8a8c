"""The Explore map's selection and clicks, through a tiny Streamlit component (st.components.v2) whose script runs
in the page.

It receives the selection's shape from the server and puts it into the map's layout with Plotly.relayout, and
again whenever the chart is drawn anew (a timer compares what is shown with what should be). The map's figure
itself never changes with a click, so Streamlit keeps the same chart and a click costs the browser a shape, not
a new plot.

It also sends the map's clicks to the server, read from the page's own mouse events: Plotly.js drops some
clicks in the select mode Streamlit's chart selections use (plotly/plotly.js#6898), and Streamlit can lose a
widget's update that arrives while the page's script still runs, so each click is numbered and sent until the
server has taken it. Box and lasso selections still come from the chart.
"""

import streamlit as st

from ui.figures import selection_shape
from ui.geometry import Selection
from ui.scripts import component_script

SHOW_SELECTION_JS = component_script("selection.js", constants=dict(SETTLE_MS=300, CLICK_SLOP_PX=4, RESEND_MS=1500))
CLICKS_SEEN = "_map_clicks_seen"  # the number of the last click taken: the page sends a click until it is taken

_show_selection = st.components.v2.component("vae_explorer_selection", js=SHOW_SELECTION_JS)


def new_click_key(view: str) -> str:
    """Where a click on the map of `view` waits, as {"x", "y"} in map coordinates, until the page reads it."""
    return f"map-click:{view}"


def show_selection(selection, view: str, key: str, local: dict | None = None) -> None:
    """Draw this selection (a ui.geometry.Selection, or None for none) on the page's map, and pass each of the
    map's clicks on, once, to the next run under new_click_key(view). local: {"view": the page decoder's view,
    "radius": click_radius}, where the page may keep a free click to itself (selection.js keptInPage)."""

    def take_click() -> None:
        click = st.session_state[key].get("click")
        if click is not None and click["n"] > st.session_state.get(CLICKS_SEEN, 0):
            st.session_state[CLICKS_SEEN] = click["n"]
            st.session_state[new_click_key(view)] = dict(x=float(click["x"]), y=float(click["y"]))

    shapes = [] if selection is None else [selection_shape(selection)]
    if local is not None:  # the ring the page draws at its own clicks: the server's, moved
        local = {**local, "ring": selection_shape(Selection("free", x=0.0, y=0.0))}
    _show_selection(
        data={"shapes": shapes, "seen": st.session_state.get(CLICKS_SEEN, 0), "local": local},
        key=key,
        on_click_change=take_click,
    )
