"""A latent point for a view: a point picked on Explore, a test image's mean, or the origin."""

import numpy as np
import streamlit as st

from ui import session
from ui.images import crisp
from ui.text import plain


def choose_latent(label: str, key: str, slot: str, md, data, picked: dict, default_index: int, sources=("explore", "test")):
    """A latent point: Explore pick `slot`, a test image's mean or the origin. (z, description), or None."""
    names = {"explore": f"Explore pick {slot}", "test": "a test image", "origin": "the origin (z = 0)"}
    options = [s for s in sources if (s != "explore" or slot in picked) and (s != "test" or data is not None)]
    if not options:
        return None
    source = st.radio(label, options, format_func=names.get, key=f"{key}_source", horizontal=True)
    if source == "explore":
        st.caption(plain(picked[slot]["label"]))
        return np.asarray(picked[slot]["z"], np.float32), picked[slot]["label"]
    if source == "origin":
        return np.zeros(md.projection.latent_dim, np.float32), "the origin"
    i = int(st.number_input("Test image", 0, len(data.test_x) - 1, default_index, key=f"{key}_index"))
    st.image(crisp(data.test_x[i], width=84), caption=f"#{i}, label {plain(md.label_name(md.labels[i]))}")
    return md.mu[i], f"test image #{i}"


def valid_picks(name: str, latent_dim: int) -> dict:
    """Explore picks for this checkpoint that still fit its latent size (a file may have been replaced)."""
    return {slot: p for slot, p in session.picked_latents(name).items() if len(p["z"]) == latent_dim}
