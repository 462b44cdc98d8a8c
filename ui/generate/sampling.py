"""Prior samples: a grid decoded from z ~ N(0, T²·I); for a conditional model, one row per class."""

import numpy as np
import streamlit as st

from ui import session
from ui.export import points_csv
from ui.generate.downloads import downloads
from ui.generate.style import label_note
from ui.images import grid
from ui.text import plain
from vae_core.analysis.latent import decode_points, prior_latents, samples_by_class

PRIOR_SEED = "gen_seed"  # the prior samples' seed input


def next_prior_seed() -> None:
    """Button callback: the next seed for new prior samples."""
    st.session_state[PRIOR_SEED] = st.session_state.get(PRIOR_SEED, 0) + 1


def prior_section(model, name: str, names: list) -> None:
    st.caption(
        "Images decoded from z ~ N(0, T²·I): what the model makes from its prior alone. A low "
        "temperature T stays near the prior's centre; a high one reaches into its tails."
    )
    a, b, c, d = st.columns([1, 2, 2, 1], vertical_alignment="bottom")
    seed = a.number_input("Seed", 0, 2**31 - 1, key=PRIOR_SEED)
    temperature = b.slider("Temperature T", 0.1, 2.0, 1.0, 0.1, key="gen_temperature")
    side = c.slider("Grid side", 4, 16, 8, key="gen_grid")
    d.button("New samples", key="gen_new", on_click=next_prior_seed, icon=":material/casino:", width="stretch")
    if model.config.conditional:
        class_rows(model, names, name, side, temperature, int(seed))
        return
    z = prior_latents(side * side, model.config.latent_dim, temperature, int(seed))
    images = decode_points(model, z, session.image_shown())
    st.image(grid(images, nrow=side, width=560), caption=f"{side * side} samples · T = {temperature:g} · seed {seed}")
    downloads(images, side, points_csv(z, sample=range(len(z))), f"{name}-prior-T{temperature:g}-seed{seed}")


def class_rows(model, names: list, name: str, per_class: int, temperature: float, seed: int) -> None:
    """A conditional model's prior samples: one row per class, the same codes down each column."""
    images = samples_by_class(model, per_class, temperature, seed, session.image_shown())
    st.image(
        grid(images, nrow=per_class, width=min(720, 56 * per_class)),
        caption=f"One row per class, from the top: {plain(', '.join(map(str, names)))}. Each column is one code z ~ N(0, T²·I) "
        f"decoded under every label: one style, every class · T = {temperature:g} · seed {seed}",
    )
    z = prior_latents(per_class, model.config.latent_dim, temperature, seed)
    downloads(
        images,
        per_class,
        points_csv(
            np.tile(z, (len(names), 1)), sample=np.tile(range(per_class), len(names)), label=np.repeat(names, per_class)
        ),
        f"{name}-prior-by-class-T{temperature:g}-seed{seed}",
    )
    label_note(model)
