"""The controls above the map: its projection, what colours its points, the label, and what it shows."""

import streamlit as st

from ui import session
from ui.links import PROJECTIONS
from vae_core.maps.nonlinear import TITLES

MAX_MANIFOLD_GRID = 20
ELLIPSE_SAMPLE = 60
PROJECTION = "explore_proj"  # the map projection control
SHOWN_PROJECTION = "_explore_shown_proj"  # the projection drawn last: what a click on the chosen one keeps


def projection_choice(latent_dim: int) -> str:
    """PCA, UMAP or t-SNE: a choice only when the latent space has more than two dimensions."""
    if latent_dim <= 2:
        return "pca"
    st.session_state.setdefault(PROJECTION, "pca")
    st.session_state[SHOWN_PROJECTION] = st.session_state[PROJECTION] or st.session_state.get(SHOWN_PROJECTION, "pca")
    st.segmented_control(
        "Map",
        PROJECTIONS,
        format_func=TITLES.get,
        key=PROJECTION,
        persist_state="session",
        on_change=keep_a_projection,
        help="PCA: a linear view, exact to decode. UMAP and t-SNE: nonlinear views that separate the "
        "clusters better; a click decodes through a fitted inverse, whose error the page shows. "
        "Fitted once per model (UMAP takes seconds).",
    )
    return st.session_state[PROJECTION]


def keep_a_projection() -> None:
    """A click on the chosen map type would unselect it (a segmented control allows none): it stays chosen."""
    if st.session_state[PROJECTION] is None:
        st.session_state[PROJECTION] = st.session_state[SHOWN_PROJECTION]


def colour_choice(md, column) -> str:
    """What colours the map's points: the label, or one of the data's true factors where they are known."""
    if md.factors is None:
        return "label"
    if st.session_state.get("explore_colour") not in ["label", *md.factor_names]:  # kept from other data's model
        st.session_state["explore_colour"] = "label"
    return column.selectbox(
        "Colour by",
        ["label", *md.factor_names],
        key="explore_colour",
        persist_state="session",
        help="The label, or one of the true factors that made each image. A factor that changes "
        "smoothly along one direction of the map is one the model has laid out by itself.",
    )


LABEL = "explore_label"  # a conditional model's label, what clicks and the manifold decode under


def label_choice(md, column) -> int:
    """The label a conditional model decodes the map's points under: a class number."""
    return session.label_choice(
        column,
        "Decode under the label",
        LABEL,
        md.class_names,
        help="A conditional VAE decodes a code together with a label: the same point of the "
        "map is the same style drawn as another class. Clicks, the hover preview and "
        "the decoded manifold use this label; a dot's reconstruction uses its own.",
        persist_state="session",
    )


def view_options(projection: str, latent_dim: int, md, conditional: bool) -> dict:
    a, b, c, d = st.columns(4)
    linear = projection == "pca"
    options = dict(
        manifold=a.toggle(
            "Decoded manifold",
            value=True,
            key="explore_manifold",
            persist_state="session",
            help="Images decoded on a regular grid over the map: the classic VAE picture.",
        ),
        hover=a.toggle(
            "Hover preview",
            value=True,
            key="explore_hover",
            persist_state="session",
            help="The image decoded at the grid node nearest the cursor, shown as you move over the map "
            "(a click decodes the exact spot).",
        ),
        ellipses=b.toggle(
            "1σ posterior ellipses",
            value=False,
            key="explore_ellipses",
            persist_state="session",
            disabled=not linear,
            help=f"The spread of q(z|x) for {ELLIPSE_SAMPLE} random test images"
            + ("." if linear else " (on linear maps only)."),
        )
        and linear,
        colour=colour_choice(md, b),
        grid_n=d.slider(
            "Manifold grid",
            6,
            MAX_MANIFOLD_GRID,
            15,
            key="explore_grid_n",
            persist_state="session",
            help="Images per side; each stays at least 24 px wide, so they can be read.",
        ),
        label=label_choice(md, d) if conditional else None,
    )
    if linear:
        options["aggregate"] = c.toggle(
            "q(z) and the prior",
            value=False,
            key="explore_aggregate",
            persist_state="session",
            disabled=latent_dim < 2,
            help="Shading: the aggregate posterior q(z), the mixture of all test images' "
            "q(z|x) (its marginal on the PCA plane above 2-D). Dotted: the prior's 1σ "
            "and 2σ. Prior mass without shading is a hole: click it to decode it.",
        )
    else:
        options["errors"] = c.toggle(
            "Round-trip error",
            value=False,
            key="explore_errors",
            persist_state="session",
            help="Shaded where the inverse is less faithful: a point sent through the "
            "inverse and back through the projection lands far from where it started.",
        )
    return options
