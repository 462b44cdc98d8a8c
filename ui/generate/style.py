"""One style, every class: a conditional model's code of one image, decoded under each label."""

import weakref

import numpy as np
import streamlit as st

from ui import session
from ui.export import points_csv
from ui.generate.downloads import downloads
from ui.generate.latent_choice import choose_latent, valid_picks
from ui.images import grid
from ui.text import plain
from vae_core.analysis.effects import LITTLE, label_effect
from vae_core.analysis.latent import every_label

_LABEL_EFFECTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per loaded model: measured once


def style_section(model, md, data, name: str) -> None:
    """A conditional model's code of one image, decoded under each label in turn: its style in every class."""
    st.caption(
        "A conditional VAE's code holds what the label does not: the style. Take the code of one image (a "
        "test image, encoded under its own label, or a point picked on Explore) and decode it under each "
        "label: the same style in every class. *Your own image* does the same for an upload or a drawing."
    )
    picked = valid_picks(name, model.config.latent_dim)
    left, _ = st.columns([1, 2])
    with left:
        chosen = choose_latent("Style from", "gen_style", "A", md, data, picked, 0)
    if chosen is None:
        st.info("This model's test images are not available here: pick a point on the Explore map with *Use as A*.")
        return
    style_row(model, md.class_names, chosen[0], f"the code of {chosen[1]}", f"{name}-style")


def style_row(model, names: list, z: np.ndarray, what: str, stem: str) -> None:
    """The code z (D,) decoded under every label of a conditional model, as one row with the class names."""
    images = every_label(model, z[None], session.image_shown())
    st.image(
        grid(images, nrow=len(names), width=min(720, 64 * len(names))),
        caption=f"One style, every class: {what} decoded under each label, from the left: {plain(', '.join(map(str, names)))}",
    )
    downloads(images, len(names), points_csv(np.repeat(z[None], len(names), 0), label=names), stem)
    label_note(model)


def label_note(model) -> None:
    """Under rows decoded under every label: a warning when the label changes little (vae_core.analysis.effects),
    so nearly identical rows are explained instead of puzzling."""
    if model not in _LABEL_EFFECTS:
        _LABEL_EFFECTS[model] = label_effect(model)
    effect = _LABEL_EFFECTS[model]
    if effect is not None and effect < LITTLE:
        st.warning(
            f"The label changes little: decoding one code under each label moves the image by {effect:.2f} of what "
            "separates two codes under one label. The decoder ignores the label, so the rows look alike; the code "
            "carries the class instead.",
            icon=":material/label_off:",
        )
