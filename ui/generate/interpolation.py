"""Interpolation: the decoded path between two latent points, linear and spherical, and where it runs on the map."""

import numpy as np
import streamlit as st

from ui import session
from ui.explore.browser_decode import decoded_grid
from ui.export import points_csv
from ui.figures import overlay_map, path_trace, point_trace
from ui.generate.downloads import downloads
from ui.generate.latent_choice import choose_latent, valid_picks
from ui.images import grid
from ui.text import plain
from vae_core.analysis.latent import decode_points, interpolate

PATH_COLORS = {"linear": "black", "slerp": "#d4007a"}


def interpolation_section(model, md, data, name: str, view: str | None = None) -> None:
    """view: the page decoder's view (ui/generate/in_page.py), or None where the server decodes."""
    st.caption(
        "The decoded path between two latent points. Linear goes straight; spherical (slerp) keeps "
        "to the shell where a Gaussian prior's mass lies in many dimensions (White 2016). "
        "Pick endpoints here or with *Use as A/B* on the Explore page."
    )
    picked = valid_picks(name, model.config.latent_dim)
    left, right, options = st.columns(3)
    with left:
        a = choose_latent("A from", "gen_A", "A", md, data, picked, 0)
    with right:
        b = choose_latent("B from", "gen_B", "B", md, data, picked, first_other_label(md))
    if a is None or b is None:
        st.info(
            "This model's test images are not available here: pick two points on the Explore map with "
            "*Use as A* and *Use as B*."
        )
        return
    steps = options.slider("Steps", 3, 20, 10, key="gen_steps")
    paths = {method: interpolate(a[0], b[0], steps, method) for method in PATH_COLORS}
    z = np.concatenate(list(paths.values()))
    xy = md.projection.transform(z)
    grid_col, map_col = st.columns([3, 2])
    caption = f"From A ({plain(a[1])}) to B ({plain(b[1])}). Top row: linear. Bottom row: spherical (slerp)."
    if view is not None:  # the page decodes; the server only for the PNG, when it is asked for
        with grid_col:
            decoded_grid(view, z, steps, max(640, 56 * steps), "gen_interp_grid", "the interpolation")
            st.caption(caption)
        images = lambda: decode_points(model, z, session.image_shown())  # noqa: E731
    else:
        images = decode_points(model, z, session.image_shown())
        grid_col.image(grid(images, nrow=steps, width=max(640, 56 * steps)), caption=caption)
    ends = np.stack([xy[0], xy[steps - 1]])
    overlays = [
        path_trace(m, xy[i * steps : (i + 1) * steps], c, text=[f"t = {t:.2f}" for t in np.linspace(0, 1, steps)])
        for i, (m, c) in enumerate(PATH_COLORS.items())
    ]
    map_col.plotly_chart(
        overlay_map(md, overlays + [point_trace("A, B", ends, text=["A", "B"])]),
        key="gen_interp_map",
        config={"displaylogo": False},
    )
    with grid_col:
        t = np.tile(np.linspace(0, 1, steps), 2)
        downloads(images, steps, points_csv(z, xy, path=np.repeat(list(paths), steps), t=t), f"{name}-interpolation")


def first_other_label(md) -> int:
    """A default B that differs from A (test image 0) in label, so the default path is interesting."""
    others = np.flatnonzero(md.labels != md.labels[0]) if len(md.labels) else []
    return int(others[0]) if len(others) else 0
