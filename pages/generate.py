"""Generate: prior samples, interpolation, traversals, latent arithmetic and your own image (uploaded or drawn),
for the selected model."""

import streamlit as st

from ui import catalogue, session
from ui.generate.arithmetic import arithmetic_section
from ui.generate.in_page import page_view, send_decoder
from ui.generate.interpolation import interpolation_section
from ui.generate.sampling import prior_section
from ui.generate.style import style_section
from ui.generate.traversal import traversal_section
from ui.generate.your_image import own_image_section
from ui.navigation import run_page
from ui.text import plain


def label_choice(md) -> int:
    """The label a conditional model's views decode (and your image is read) under."""
    return session.label_choice(
        st.columns([1, 2])[0],
        "Label",
        "gen_label",
        md.class_names,
        help="A conditional VAE decodes a code together with a label. Interpolation, "
        "traversals, arithmetic and your own image use this one; the prior samples and "
        "One style, every class show every label at once.",
    )


def main() -> None:
    sel = session.selected_model("generate from")
    row, model, meta, md = sel.row, sel.model, sel.meta, sel.map
    data = catalogue.dataset_for(meta)[0] if not md.missing_data else None
    st.title("Generate")
    st.caption(
        f"**{plain(row.name)}**: {row.arch} VAE ({row.likelihood} likelihood) "
        f"on {plain(catalogue.dataset_label(row.dataset))}, "
        f"{model.config.latent_dim}-D latent space" + (", conditional on the label." if row.num_classes else ".")
    )
    if md.missing_data:
        st.warning(f"This model's dataset is not available here, so test images are not offered. {plain(md.missing_data)}")
    tabs = ["Prior samples", "Interpolation", "Traversal", "Latent arithmetic", "Your own image"]
    label = None
    if model.config.conditional:
        label = label_choice(md)
        model = model.with_label(label)
        tabs.append("One style, every class")
    view = page_view(row, label, session.image_shown())  # the page decodes the sliders' images, or None: the server
    send_decoder(row, label, session.image_shown(), view)
    prior_tab, interp_tab, traverse_tab, arithmetic_tab, upload_tab, *style_tab = st.tabs(tabs)
    with prior_tab:
        prior_section(model, row.name, md.class_names)
    with interp_tab:
        interpolation_section(model, md, data, row.name, view)
    with traverse_tab:
        traversal_section(model, md, data, meta, row, view)
    with arithmetic_tab:
        arithmetic_section(model, md, data, row.name)
    with upload_tab:
        own_image_section(model, md, data, meta, row)
    for tab in style_tab:
        with tab:
            style_section(model, md, data, row.name)


run_page(main)
