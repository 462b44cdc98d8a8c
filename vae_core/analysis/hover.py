"""The hover preview's sprite: a model's decodes on a grid over the map, as one PNG and its layout. The app's
hover preview and the HTML view show the tile under the cursor."""

from __future__ import annotations

from vae_core.analysis.latent import decode_grid
from vae_core.data.images import png_data_url, to_grid_image

HOVER_GRID = 32  # tiles per side: at 32, neighbouring tiles differ by about as much as the eye resolves
MAX_SPRITE = 1024  # pixels per side: models with large images get fewer tiles, so the sprite stays small


def grid_size(image_shape) -> int:
    """Tiles per side of the hover grid for images of this (C, H, W) shape."""
    return max(8, min(HOVER_GRID, MAX_SPRITE // max(image_shape[-2:])))


def sprite_url(images, nrow: int) -> str:
    """(N, C, H, W) in [0, 1] -> one PNG, nrow tiles a row, no gaps; grey images as one channel (a third the bytes)."""
    pixels = to_grid_image(images, nrow=nrow, padding=0)
    return png_data_url(pixels[..., 0] if images.shape[1] == 1 else pixels)


def decode_sprite(model, md, shown: str = "mean") -> dict:
    """The decodes on an n x n grid over the map `md` (row-major from the top-left), as one sprite, and its layout."""
    n = grid_size(model.config.image_shape)
    images = decode_grid(model, md.projection, md.x_range, md.y_range, n, shown)
    return dict(
        sprite=sprite_url(images, n),
        n=n,
        tile=list(images.shape[-2:]),
        x_range=[float(v) for v in md.x_range],
        y_range=[float(v) for v in md.y_range],
    )
