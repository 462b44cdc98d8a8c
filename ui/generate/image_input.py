"""Your own image as the model reads it: uploaded or drawn, converted, framed, scored and decoded (cached)."""

from dataclasses import dataclass

import streamlit as st
import torch

from ui import catalogue
from ui.images import thumbnail
from vae_core.analysis.estimates import read_image
from vae_core.analysis.latent import decode_points, prior_latents
from vae_core.data.datasets import DEFAULT_CONTENT_FRACTION, as_float, content_fraction, image_to_tensor
from vae_core.model.bounds import ImageTerms

IWAE_K = 500


@dataclass(frozen=True)
class OwnImage:
    """An image to place on the map, uploaded or drawn: both take the same way to the model (show_own_image)."""

    data: bytes  # the file's bytes: PNG, JPEG, ... (the canvas sends a PNG)
    name: str  # in messages and the CSV
    caption: str  # under its preview
    invert_key: str  # the invert checkbox: one per upload, one for all the strokes of a drawing


# The page reruns on every widget in every tab: an upload is decoded, converted and scored once, not
# on each rerun (IWAE_K decodes, and a large JPEG can take a while to decode).
@st.cache_data(show_spinner=False, max_entries=16)
def model_input(data: bytes, image_shape: tuple, fill: float, background: str) -> torch.Tensor:
    return image_to_tensor(data, image_shape, fill, background)


@st.cache_data(show_spinner=False, max_entries=8)
def data_fill(path: str, mtime: int) -> float:
    """How much of the frame the model's images fill, so an upload is framed as they are."""
    _, meta = catalogue.load_model(path, mtime)
    data, _ = catalogue.dataset_for(meta)
    return content_fraction(data.test_x) if data is not None else DEFAULT_CONTENT_FRACTION


def data_background(path: str, mtime: int) -> str:
    """What transparent pixels become for this model: what its training images' were composited on."""
    return catalogue.load_model(path, mtime)[1].data_options.background


@st.cache_data(show_spinner="Encoding your image…", max_entries=16)
def upload_terms(
    path: str, mtime: int, data: bytes, invert: bool, label: int | None
) -> tuple[torch.Tensor, ImageTerms, torch.Tensor]:
    """The image as the model sees it, its ELBO terms (the reconstruction term averaged over IWAE_K samples of
    q(z|x), so it does not jump with one lucky sample), and two decodings: one sample of q(z|x) and the mean.
    label: what a conditional model reads the image as."""
    model = catalogue.load_model(path, mtime)[0].with_label(label)
    x = model_input(data, model.config.image_shape, data_fill(path, mtime), data_background(path, mtime))
    x = 1 - x if invert else x
    read = read_image(model, x, samples=IWAE_K)
    return x, read.terms, (read.reconstruction, read.mean)


@st.cache_data(show_spinner=False, max_entries=16)
def upload_preview(data: bytes) -> str:
    return thumbnail(data)


@st.cache_data(show_spinner=False, max_entries=8)
def draws_light_on_dark(path: str, mtime: int) -> bool:
    """Whether the model's images are mostly dark, as MNIST and digits are: its test images tell, and where
    they are not here, its own samples (which a barely trained model may draw too dark)."""
    model, meta = catalogue.load_model(path, mtime)
    data, _ = catalogue.dataset_for(meta)
    images = (
        data.test_x[:1000]
        if data is not None
        else decode_points(model.with_label(0), prior_latents(64, model.config.latent_dim))
    )
    return float(as_float(images).mean()) < 0.5
