"""Traversals: each latent dimension swept in turn, most informative first, with the factor it captures."""

import numpy as np
import streamlit as st
import torch

from ui import session
from ui.export import points_csv
from ui.generate.downloads import downloads
from ui.generate.in_page import traversal_row
from ui.generate.latent_choice import choose_latent, valid_picks
from ui.images import grid
from ui.text import plain
from vae_core import kl_per_dim
from vae_core.analysis.effects import LITTLE, row_effects, sample_spread
from vae_core.analysis.latent import decode_points, traversal_order, traverse
from vae_core.stats.metrics import best_factors
from vae_core.store.meta import CheckpointMeta


def kl_order(meta: CheckpointMeta, md, latent_dim: int) -> tuple[list[int], list[float] | None]:
    """Dimensions by their test KL (from the checkpoint, else from the map's encodings), highest first."""
    kl = meta.metrics.get("kl_per_dim")
    if kl is None and len(md.mu):
        kl = kl_per_dim(torch.from_numpy(md.mu), torch.from_numpy(md.logvar)).mean(0).tolist()
    if kl is None or len(kl) != latent_dim:
        return list(range(latent_dim)), None
    return traversal_order(kl), kl


@st.cache_data(show_spinner=False, max_entries=16)
def factor_of_each_dimension(path: str, mtime: int, _md) -> list[tuple[str, float]] | None:
    """Per latent dimension, the true factor it carries most of and its share of that factor's entropy (normalized
    mutual information on the test set, adjusted for chance), for data with known factors; else None."""
    if _md.factors is None or not len(_md.mu):
        return None
    return [(_md.factor_names[k], share) for k, share in best_factors(_md.mu, _md.factors)]


@st.cache_data(show_spinner=False, max_entries=16)
def prior_spread(path: str, mtime: int, view: str, _model) -> float:
    """sample_spread, once per model, label and image shown (`view` holds both): a traversal row's yardstick, which
    the page needs to say that a row changes little (ui/js/decoded_grid.js)."""
    return sample_spread(_model, view.rsplit("|", 1)[1])


CAPTURES = 0.1  # a share of a factor's entropy below this is not worth naming: noise in the estimate


def dimension_label(d: int, kl: list[float] | None, factors: list[tuple[str, float]] | None) -> str:
    """A traversal row's label: the dimension, its KL, and the factor it captures best, with how much of it."""
    text = f"**z{d + 1}**" + (f"  \nKL {kl[d]:.2f}" if kl is not None else "")
    if factors is not None:
        factor, share = factors[d]
        text += f"  \n{plain(factor)} **{share:.2f}**" if share >= CAPTURES else "  \nno one factor"
    return text


def traversal_section(model, md, data, meta: CheckpointMeta, row, view: str | None = None) -> None:
    """view: the page decoder's view (ui/generate/in_page.py), or None where the server decodes."""
    name = row.name
    factors = factor_of_each_dimension(row.path, row.mtime, md)
    st.caption(
        "Each row sweeps one latent dimension from −r to r while the others stay at the chosen "
        "point. Rows are ordered by each dimension's KL on the test set: informative dimensions "
        "first, collapsed ones (KL ≈ 0, the decoder ignores them) last."
        + (
            " Under each dimension: the true factor it captures best, and how much of it (the share of the "
            "factor's entropy it carries beyond what chance shows on this many images: its normalized "
            "mutual information, adjusted for chance; 1 is all of it, 0 nothing)."
            if factors is not None
            else ""
        )
    )
    latent_dim = model.config.latent_dim
    picked = valid_picks(name, latent_dim)
    point_col, range_col, steps_col = st.columns(3)
    with point_col:
        chosen = choose_latent("Through", "gen_traverse", "A", md, data, picked, 0, sources=("test", "explore", "origin"))
    span = range_col.slider("Range r", 0.5, 5.0, 3.0, 0.5, key="gen_span", help="±2 covers 95% of the prior N(0, 1).")
    steps = steps_col.slider("Steps", 5, 15, 9, key="gen_traverse_steps")
    order, kl = kl_order(meta, md, latent_dim)
    rows = order
    if latent_dim > 2:
        rows = order[: range_col.slider("Dimensions shown", 1, latent_dim, min(latent_dim, 10), key="gen_dims")]
    z = traverse(chosen[0], rows, span, steps)
    if view is not None:  # the page decodes, and says which rows change little; the server decodes only for the PNG
        between = prior_spread(row.path, row.mtime, view, model)
        for r, d in enumerate(rows):
            label_col, image_col = st.columns([1, 7], vertical_alignment="center")
            label_col.markdown(dimension_label(d, kl, factors))
            with image_col:
                traversal_row(view, z[r * steps : (r + 1) * steps], steps, f"gen_traverse_row_{r}", f"z{d + 1} swept", between)
        images = lambda: decode_points(model, z, session.image_shown())  # noqa: E731
        effects = None  # the page marks the rows (under them) and cannot tell the server which
    else:
        images = decode_points(model, z, session.image_shown())
        effects = row_effects(images, steps, sample_spread(model, session.image_shown()))
        for r, d in enumerate(rows):
            label_col, image_col = st.columns([1, 7], vertical_alignment="center")
            label_col.markdown(dimension_label(d, kl, factors) + ("  \n*changes little*" if effects[r] < LITTLE else ""))
            image_col.image(grid(images[r * steps : (r + 1) * steps], nrow=steps, width=620))
    st.caption(
        f"Through {chosen[1]}; columns from −{span:g} to {span:g}."
        + (
            f" *Changes little*{' (under a row)' if effects is None else ''}: the row moves the image by under "
            f"{LITTLE:.0%} of what separates two prior samples, "
            "so the decoder ignores that dimension here."
            if effects is None or min(effects) < LITTLE
            else ""
        )
        + ("" if kl is not None else " No KL per dimension is known for this model: natural order.")
    )
    values = np.tile(np.linspace(-span, span, steps), len(rows))
    downloads(
        images, steps, points_csv(z, dimension=[f"z{d + 1}" for d in np.repeat(rows, steps)], value=values), f"{name}-traversal"
    )
