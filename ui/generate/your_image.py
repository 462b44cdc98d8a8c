"""Your own image: uploaded or drawn, placed on the map, reconstructed and scored beside the test images."""

import numpy as np
import streamlit as st
import torch

from ui.export import points_csv
from ui.figures import overlay_map, point_trace
from ui.generate.downloads import downloads
from ui.generate.draw import drawn_image
from ui.generate.image_input import (
    IWAE_K,
    OwnImage,
    data_background,
    data_fill,
    draws_light_on_dark,
    model_input,
    upload_preview,
    upload_terms,
)
from ui.generate.style import style_row
from ui.images import crisp, grid
from ui.text import plain
from vae_core import DatasetError
from vae_core.model.bounds import ImageTerms
from vae_core.store.meta import CheckpointMeta

NEIGHBOURS = 8
OWN_SOURCES = {"upload": "Upload a file", "draw": "Draw one"}


def own_image_section(model, md, data, meta: CheckpointMeta, row) -> None:
    c, h, w = model.config.image_shape
    st.caption(
        f"Upload an image of any size or draw one: it is converted to the model's {h}×{w} "
        f"{'grey' if c == 1 else 'colour'} input, encoded, placed on the map and reconstructed."
    )
    source = st.radio(
        "Your image",
        list(OWN_SOURCES),
        format_func=OWN_SOURCES.get,
        key="gen_own_source",
        horizontal=True,
        label_visibility="collapsed",
    )
    map_col = None
    if source == "upload":
        image = uploaded_image()
    else:  # beside the canvas, so a stroke and where it lands are seen together
        canvas_col, map_col = st.columns([1, 2], gap="medium")
        with canvas_col:
            image = drawn_image(row)
    if image is not None:
        show_own_image(model, md, data, meta, row, image, map_col)
    elif map_col is not None:
        own_image_map(md, map_col)


def uploaded_image() -> OwnImage | None:
    upload = st.file_uploader(
        "An image (PNG, JPEG, BMP, GIF or WebP)", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"], key="gen_upload"
    )
    if upload is None:
        return None
    return OwnImage(upload.getvalue(), upload.name, f"uploaded: {upload.name}", f"gen_invert:{upload.file_id}")


def show_own_image(model, md, data, meta: CheckpointMeta, row, image: OwnImage, map_col=None) -> None:
    """Convert, offer to invert, score, reconstruct and place on the map: the same for an upload and a drawing.
    The map goes in `map_col` when one is given, else beside the nearest test images."""
    invert = invert_choice(model, row, image)
    if invert is None:
        return
    label = getattr(model, "label", None)  # a conditional model's, chosen at the top of the page
    x, terms, (reconstruction, mean) = upload_terms(row.path, row.mtime, image.data, invert, label)
    cols = st.columns(4)
    for col, img, caption in zip(
        cols, (x, reconstruction, mean), ("as the model sees it", "reconstruction (z ~ q(z|x))", "decoded mean")
    ):
        col.image(crisp(img), caption=caption, width="stretch")
    cols[3].image(upload_preview(image.data), caption=image.caption, width="stretch")
    show_terms(terms, meta)
    xy = md.projection.transform(terms.mu[None])
    if map_col is None:
        map_col, near_col = st.columns([3, 2])
    else:  # the map is up beside the canvas: the neighbours keep the width they have beside the map
        near_col = st.columns([2, 3])[0]
    own_image_map(md, map_col, xy)
    if len(md.mu):
        near = np.argsort(((md.mu - terms.mu) ** 2).sum(1))[:NEIGHBOURS]
        labels = ", ".join(md.label_name(md.labels[i]) for i in near)
        near_col.image(
            grid(data.test_x[near], nrow=4, width=360), caption=f"Nearest test images in latent space: {plain(labels)}"
        )
    with near_col:
        images = torch.stack([x, reconstruction, mean])
        downloads(
            images,
            3,
            points_csv(terms.mu[None], xy, image=[image.name], **{f"sigma{d + 1}": [s] for d, s in enumerate(terms.sigma)}),
            f"{row.name}-your-image",
        )
    if label is not None:
        style_row(
            model,
            md.class_names,
            terms.mu,
            f"the code of {plain(image.name)}, read as {plain(md.label_name(label))},",
            f"{row.name}-your-image-style",
        )


def invert_choice(model, row, image: OwnImage) -> bool | None:
    """Whether to invert the image, preselected when it is light on dark and the model's are not, or the other
    way round; None (and a message) when the file is not an image."""
    try:
        with st.spinner("Reading your image…"):  # the first time, the model's data are loaded to frame it alike
            fill = data_fill(row.path, row.mtime)
            x = model_input(image.data, model.config.image_shape, fill, data_background(row.path, row.mtime))
            image_dark = float(x.mean()) < 0.5
    except DatasetError as err:
        st.error(f"**{plain(image.name)}**: {plain(err)}")
        return None
    model_dark = draws_light_on_dark(row.path, row.mtime)
    return st.checkbox(
        "Invert colours",
        value=model_dark != image_dark,
        key=image.invert_key,
        help=f"This model draws {'light on dark' if model_dark else 'dark on light'}; "
        "inverting is preselected when your image is the other way round.",
    )


def own_image_map(md, where, xy: np.ndarray | None = None) -> None:
    """The map with your image on it; before there is one, the map it will land on."""
    overlays = [] if xy is None else [point_trace("your image", xy, text=["your image"])]
    where.plotly_chart(overlay_map(md, overlays), key="gen_upload_map", config={"displaylogo": False})


def show_terms(terms: ImageTerms, meta: CheckpointMeta) -> None:
    test = meta.metrics
    a, b, c, d = st.columns(4)
    a.metric("Reconstruction", f"{terms.recon:.1f} nats", help=f"E[−log p(x|z)] over {IWAE_K} samples z ~ q(z|x)")
    b.metric("KL", f"{terms.kl:.2f} nats", help="KL(q(z|x) ‖ N(0, I)): the information z carries about x")
    delta = None if test.get("test_loss") is None else f"{terms.loss - test['test_loss']:+.1f} vs test mean"
    c.metric(
        "−ELBO",
        f"{terms.loss:.1f} nats",
        delta=delta,
        delta_color="inverse",
        help="Reconstruction + KL. Far above the test mean: the image is unlike the training data.",
    )
    d.metric(
        f"log p(x) ≥ (IWAE, k={IWAE_K})",
        f"{terms.log_px:.1f} nats",
        help="A tighter lower bound on the log-likelihood than the ELBO (Burda et al. 2015)",
    )
