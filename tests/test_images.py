"""Display images: grids and thumbnails as PNG data URLs for st.image."""

import base64
import io

import numpy as np
import torch
from PIL import Image

from ui.images import grid, thumbnail


def decode(url: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :]))))


def test_grid_is_a_png_data_url_of_the_upscaled_grid():
    images = torch.zeros(4, 1, 8, 8)
    pixels = decode(grid(images, nrow=2, width=170))  # 2 * (8 + 1) + 1 = 19 pixels, upscaled ceil(170 / 19) = 9 times
    assert pixels.shape == (19 * 9, 19 * 9, 3)
    assert pixels[0, 0].tolist() == [255, 255, 255] and pixels[9, 9].tolist() == [0, 0, 0]  # padding, image
    # never narrower than asked: rounding the factor down showed a row of eight 28-pixel images at 233 pixels
    assert decode(grid(torch.rand(16, 1, 28, 28), nrow=8, width=420)).shape[1] >= 420


def test_thumbnail_fits_the_side_and_keeps_the_aspect_ratio():
    buffer = io.BytesIO()
    Image.new("L", (1000, 500), 200).save(buffer, format="JPEG")
    pixels = decode(thumbnail(buffer.getvalue(), side=256))
    assert pixels.shape == (128, 256, 3) and abs(int(pixels[64, 128, 0]) - 200) <= 2
