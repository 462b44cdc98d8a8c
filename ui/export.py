"""Downloads: image grids as PNG files and latent points as CSV. No Streamlit here."""

from __future__ import annotations

import csv
import io

import numpy as np
import torch


def png_bytes(images: torch.Tensor, nrow: int, padding: int = 2) -> bytes:
    """(N, C, H, W) in [0, 1] -> one PNG of the grid at the model's resolution, via torchvision.

    Imported here, not at the top: torchvision is slow to import (BENCHMARKS.md), and the pages only need it
    when someone actually downloads a grid.
    """
    from torchvision.utils import save_image

    buffer = io.BytesIO()
    save_image(images.detach().cpu().float(), buffer, nrow=nrow, padding=padding, pad_value=1.0, format="png")
    return buffer.getvalue()


def points_csv(z: np.ndarray, map_xy: np.ndarray | None = None, **columns) -> bytes:
    """One row per latent point: the given leading columns, z1..zD, and the map position when given."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    table = {name: list(values) for name, values in columns.items()}
    table.update({f"z{d + 1}": z[:, d] for d in range(z.shape[1])})
    if map_xy is not None:
        table["map_x"], table["map_y"] = np.asarray(map_xy)[:, 0], np.asarray(map_xy)[:, 1]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")  # RFC 4180; and a CR inside a cell is then quoted
    writer.writerow(map(_cell, table))
    for i in range(len(z)):
        writer.writerow(
            f"{v:.6g}" if isinstance(v, (float, np.floating)) else _cell(v) for v in (col[i] for col in table.values())
        )
    return text.getvalue().encode()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (OWASP, CSV injection)


def _cell(value):
    """A number to 6 significant digits; text that a spreadsheet could run as a formula with a leading apostrophe,
    so it is shown as the text it is."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
