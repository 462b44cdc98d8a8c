"""Which map is shown and what is selected on it, kept in session state per map view."""

import copy

import streamlit as st

from ui.geometry import Selection, click_selection, read_selection
from ui.selection import new_click_key


def map_view(checkpoint: str, projection: str) -> str:
    """One map of one model: a selection belongs to it (a point of the UMAP map is not one of the PCA map)."""
    return checkpoint if projection == "pca" else f"{checkpoint}|{projection}"


def map_chart_key(view: str) -> str:
    """The map's widget key: its selection event lives under it (one per map view, and a new one after each
    clear_selection, which is how a chart's selection is emptied)."""
    clears = st.session_state.get(f"map-clears:{view}", 0)
    return f"map:{view}" + (f":{clears}" if clears else "")


CLEARED = "_map_cleared"  # set by Clear selection: the click's panel then reruns the whole page (ui/explore/map.py)


def clear_selection(view: str) -> None:
    remember_selection(view, None)
    st.session_state[f"map-clears:{view}"] = st.session_state.get(f"map-clears:{view}", 0) + 1


def clear_by_button(view: str) -> None:
    """Clear selection, pressed in the click's panel: the map's chart needs its new key, which only a run of the map
    gives it (the button reruns just the panel's fragment)."""
    clear_selection(view)
    st.session_state[CLEARED] = True


def map_event(view: str):
    """The map's last selection event, as Streamlit stored it (a mapping), or None."""
    return st.session_state.get(map_chart_key(view))


def last_selection(view: str) -> Selection | None:
    return st.session_state.get(f"map-last:{view}")


def remember_selection(view: str, selection: Selection | None) -> None:
    st.session_state[f"map-last:{view}"] = selection


def current_selection(view: str, md) -> Selection | None:
    """The map's selection: the newest of a click (ui.selection, read from the page's mouse events) and a box or
    lasso (the chart's selection event). The chart can report an empty selection when it is laid out again (e.g.
    the page's width changes) while the page still shows the last one: the last real one is kept for the panel."""
    click = st.session_state.pop(new_click_key(view), None)
    if click is not None:
        remember_selection(view, click_selection(md.xy, click["x"], click["y"], md.x_range, md.y_range))
    event = map_event(view)
    if event != st.session_state.get(f"map-seen:{view}"):  # a box or lasso drawn since the last run
        st.session_state[f"map-seen:{view}"] = copy.deepcopy(event)
        selection = read_selection(event, md.xy)
        if selection is not None:
            remember_selection(view, selection)
    return last_selection(view)
