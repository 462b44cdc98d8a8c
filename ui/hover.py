"""Hover to decode: the Explore map shows the image decoded under the cursor, drawn in the browser.

A decode per mouse movement would be a server round trip each (a script run, torch, a new image): far from
display rate. Instead the page sends once a dense grid of decodes over the map's region, packed into one
sprite image, and a tiny st.components.v2 script picks the tile of the grid node nearest the cursor
(vae_core.analysis.latent.grid_node, the same rule) and draws it in a small box beside the cursor. Where the page
holds the model's decoder (ui/explore/browser_decode.py) it decodes the exact point under the cursor instead, and
the sprite stays the fallback.
"""

import streamlit as st

from ui import catalogue
from ui.scripts import component_script

HOVER_JS = component_script("decoding.js", "hover.js")
_show_hover = st.components.v2.component("vae_explorer_hover", js=HOVER_JS)


@st.cache_data(show_spinner=False, max_entries=32)
def hover_grid(path: str, mtime: int, projection: str, shown: str, label: int | None, _md) -> dict:
    """The sprite of decodes on the hover grid over `_md` (this model's map by this projection) and its layout,
    under `label` for a conditional model."""
    from vae_core.analysis.hover import decode_sprite  # torch: after the map is sent, never before

    return decode_sprite(catalogue.load_model(path, mtime)[0].with_label(label), _md, shown)


def show_hover(row, md, projection: str, key: str, label: int | None = None, view: str | None = None) -> None:
    """Hover previews on the page's map; call it after the map is sent: the sprite needs the model (torch). view: what
    the page's own decoder decodes exactly under the cursor once it holds it (ui/explore/browser_decode.py); the
    sprite's tiles until then, and wherever it cannot."""
    from ui.session import image_shown

    grid = hover_grid(row.path, row.mtime, projection, image_shown(), label, md)
    _show_hover(data=dict(grid, view=view), key=key)
