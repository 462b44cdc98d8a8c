"""Hover to decode: the Explore map shows the image decoded under the cursor, drawn in the browser.

A decode per mouse movement would be a server round trip each (a script run, torch, a new image): far from
display rate. Instead the page sends once a dense grid of decodes over the map's region, packed into one
sprite image, and a tiny st.components.v2 script picks the tile of the grid node nearest the cursor
(vae_core.analysis.latent.grid_node, the same rule) and draws it in a small box beside the cursor. A click still
decodes exactly on the server (ui/explore/clicked.py); the preview is the nearest node's image.
"""

import streamlit as st

from ui import catalogue
from ui.scripts import component_script

HOVER_JS = component_script("hover.js")
_show_hover = st.components.v2.component("vae_explorer_hover", js=HOVER_JS)


@st.cache_data(show_spinner=False, max_entries=32)
def hover_grid(path: str, mtime: int, projection: str, shown: str, label: int | None, _md) -> dict:
    """The sprite of decodes on the hover grid over `_md` (this model's map by this projection) and its layout,
    under `label` for a conditional model."""
    from vae_core.analysis.hover import decode_sprite  # torch: after the map is sent, never before

    return decode_sprite(catalogue.load_model(path, mtime)[0].with_label(label), _md, shown)


def show_hover(row, md, projection: str, key: str, label: int | None = None) -> None:
    """Hover previews on the page's map; call it after the map is sent: the sprite needs the model (torch)."""
    from ui.session import image_shown

    _show_hover(data=hover_grid(row.path, row.mtime, projection, image_shown(), label, md), key=key)
