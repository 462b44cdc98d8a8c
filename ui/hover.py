"""Hover to decode: the Explore map shows the image decoded under the cursor, drawn in the browser.

A decode per mouse movement would be a server round trip each (a script run, torch, a new image): far from
display rate. Instead the page sends once a dense grid of decodes over the map's region, packed into one
sprite image, and a tiny st.components.v2 script picks the tile of the grid node nearest the cursor
(vae_core.latent.grid_node, the same rule) and draws it in a small box beside the cursor. A click still
decodes exactly on the server (pages/explore.py); the preview is the nearest node's image.
"""
import streamlit as st

from ui import catalogue
from ui.images import png_data_url
from ui.scripts import component_script

HOVER_GRID = 32     # tiles per side: at 32, neighbouring tiles differ by about as much as the eye resolves
MAX_SPRITE = 1024   # pixels per side: models with large images get fewer tiles, so the sprite stays small

HOVER_JS = component_script("hover.js")
_show_hover = st.components.v2.component("vae_explorer_hover", js=HOVER_JS)


def grid_size(image_shape) -> int:
    """Tiles per side of the hover grid for images of this (C, H, W) shape."""
    return max(8, min(HOVER_GRID, MAX_SPRITE // max(image_shape[-2:])))


@st.cache_data(show_spinner=False, max_entries=32)
def hover_grid(path: str, mtime: int, projection: str, shown: str, _md) -> dict:
    """The sprite of decodes on the hover grid over `_md` (this model's map by this projection) and its layout."""
    return build_sprite(catalogue.load_model(path, mtime)[0], _md, shown)


def build_sprite(model, md, shown: str = "mean") -> dict:
    from vae_core.latent import decode_grid, to_grid_image

    n = grid_size(model.config.image_shape)
    images = decode_grid(model, md.projection, md.x_range, md.y_range, n, shown)  # (n*n, C, H, W), from the top-left
    pixels = to_grid_image(images, nrow=n, padding=0)
    if images.shape[1] == 1:  # grey: a one-channel PNG is a third of the bytes, and quicker to encode
        pixels = pixels[..., 0]
    return dict(sprite=png_data_url(pixels), n=n, tile=list(images.shape[-2:]),
                x_range=[float(v) for v in md.x_range], y_range=[float(v) for v in md.y_range])


def show_hover(row, md, projection: str, key: str) -> None:
    """Hover previews on the page's map; call it after the map is sent: the sprite needs the model (torch)."""
    from ui.session import image_shown

    _show_hover(data=hover_grid(row.path, row.mtime, projection, image_shown(), md), key=key)
