"""Explore: the latent map of the selected model; click anywhere to decode that point into an image."""

import streamlit as st

from ui import catalogue, session
from ui.explore.address import follow_projection_link, follow_selection_link, new_link, write_link
from ui.explore.browser_decode import page_view, send_decoder
from ui.explore.controls import projection_choice, view_options
from ui.explore.details import doctor_section
from ui.explore.html_view import html_download
from ui.explore.map import current_map, map_and_panel
from ui.explore.map_state import last_selection, map_view
from ui.explore.training_replay import replay_section
from ui.formulas import negative_loss_note
from ui.hover import show_hover
from ui.navigation import guarded, run_page
from ui.text import plain
from vae_core.maps.nonlinear import TITLES, start_umap_warm_up

# The map is drawn from the checkpoint's cache before torch is imported (vae_core.store.map_cache): what decodes
# (vae_core.analysis.latent, vae_core.model.bounds: torch) is imported inside the functions (in ui/explore/) that
# run after the map is sent.


def main() -> None:
    row = session.selected_row("explore")
    latent_dim = row.latent_dim
    link = new_link()
    if link is not None:
        follow_projection_link(link, latent_dim)
    st.title("Explore the latent space")
    projection = projection_choice(latent_dim)
    view = map_view(row.name, projection)
    write_link(row.name, projection, last_selection(view))  # the address follows a new map type before it is fitted
    md = current_map(row, projection)
    if link is not None:
        follow_selection_link(link, view, md)
    how = (
        "the map *is* the latent space"
        if latent_dim <= 2
        else f"the map is a {TITLES[projection]} projection of the {latent_dim}-D latent space"
    )
    st.caption(
        f"**{plain(row.name)}**: {row.arch} VAE ({row.likelihood} likelihood) "
        f"on {plain(catalogue.dataset_label(row.dataset))}; "
        f"{how}. "
        "Click anywhere to decode that point; click a dot to compare the image with its reconstruction; "
        "use box or lasso select for a group. The address bar keeps the view: copy it to share it."
        + (f" Decoded images show {session.IMAGE_TITLES[session.image_shown()]}." if session.offers_mode(row) else "")
        + (f" {negative_loss_note(row.likelihood)}" if (row.test_loss or 0) < 0 else "")
    )
    if row.num_classes:
        st.info(
            "A **conditional VAE**: it is given each image's label, so its code need not hold the class and "
            "holds the style instead, what the label does not say (for digits: slant, thickness, size). The dots are "
            "coloured by label, and the classes "
            "overlap on the map rather than form clusters. A click decodes the point under the label chosen "
            "beside the map.",
            icon=":material/label:",
        )
    if md.missing_data:
        st.warning(
            f"No data points drawn: the dataset of this model is not available here. {plain(md.missing_data)} "
            "The decoded manifold and free clicks still work."
        )
    options = view_options(projection, latent_dim, md, row.num_classes > 0)
    options["page_view"] = page_view(row, md, projection, options["label"], session.image_shown())
    st.fragment(guarded(map_and_panel))(row, md, view, projection, options)
    send_decoder(row, md, projection, options["label"], session.image_shown())  # after the map: torch
    if options["hover"]:
        show_hover(row, md, projection, key="explore_hover_grid", label=options["label"], view=options["page_view"])
    html_download(row, md, projection, options["colour"], options["label"])
    catalogue.warm_up_training()  # after the map is drawn: the process that trains gets ready before Start is clicked
    if latent_dim > 2:  # UMAP is a click away: its code compiles while this map is looked at
        start_umap_warm_up()
    doctor_section(row, md)
    replay_section(row)


run_page(main)
