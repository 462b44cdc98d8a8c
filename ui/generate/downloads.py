"""The downloads under each view: its grid as a PNG and its latent points as a CSV."""

from collections.abc import Callable

import streamlit as st
import torch

from ui.export import png_bytes


def downloads(images: torch.Tensor | Callable[[], torch.Tensor], nrow: int, csv: bytes, stem: str) -> None:
    """PNG of the grid (made only when clicked: torchvision is slow to import) and CSV of its latent points. images:
    or a function that decodes them, where the page drew the grid and the server decodes only for the PNG."""
    a, b = st.columns(2)
    a.download_button(
        "Grid as PNG",
        data=lambda: png_bytes(images() if callable(images) else images, nrow),
        file_name=f"{stem}.png",
        mime="image/png",
        key=f"{stem}:png",
        icon=":material/download:",
        on_click="ignore",
    )
    b.download_button(
        "Latent points as CSV",
        data=csv,
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"{stem}:csv",
        icon=":material/download:",
        on_click="ignore",
    )
