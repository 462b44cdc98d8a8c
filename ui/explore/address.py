"""The address bar: a shared link opened (its projection and selection), and the link kept on what is shown."""

import streamlit as st

from ui import session
from ui.explore.controls import PROJECTION
from ui.explore.map_state import clear_selection, map_event, remember_selection
from ui.geometry import Selection
from ui.links import link_params, read_projection, read_selection_params


def new_link() -> dict | None:
    """The URL's parameters when they are a link someone opened, not the URL this session wrote."""
    params = st.query_params.to_dict()
    keys = {"proj", "point", "x", "y"}
    if keys & params.keys() and {k: v for k, v in params.items() if k != "model"} != {
        k: v for k, v in session.written_link().items() if k != "model"
    }:
        return params
    return None


def follow_projection_link(params: dict, latent_dim: int) -> None:
    projection, problem = read_projection(params)
    if problem:
        session.link_warning(problem)
    if projection not in (None, "pca") and latent_dim <= 2:
        session.link_warning(
            f"This model's latent space has {latent_dim} dimensions: the map is the latent space itself, "
            "so it has no other projection."
        )
    elif latent_dim > 2:
        st.session_state[PROJECTION] = projection or "pca"


def follow_selection_link(params: dict, view: str, md) -> None:
    selection, problem = read_selection_params(params, md.xy, md.x_range, md.y_range)
    if problem:
        session.link_warning(problem + ("" if selection else " Nothing is selected."))
    if map_event(view):
        clear_selection(view)  # a fresh chart: its old selection must not win over the link's
    remember_selection(view, selection)


def write_link(name: str, projection: str, selection: Selection | None) -> None:
    """Keep the URL on what is shown, so it can be shared."""
    params = link_params(name, projection, selection)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    session.remember_written_link(params)
