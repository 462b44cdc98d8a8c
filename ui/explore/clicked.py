"""What a click on the map shows: a test image and its reconstruction, a decoded point, or a selected group."""

import numpy as np
import streamlit as st

from ui import catalogue, session
from ui.explore.map_state import clear_by_button
from ui.geometry import Selection
from ui.images import crisp, grid
from ui.text import plain

MAX_REGION_IMAGES = 100


def selection_panel(row, md, view: str, selection: Selection | None, label: int | None, in_page: bool = False) -> None:
    """in_page: the page draws a free click's image itself (ui/explore/browser_decode.py), so the server does not."""
    if selection is None:
        st.info("Click anywhere on the map to decode that point into an image.")
        return
    st.button("Clear selection", key="explore_clear", icon=":material/close:", on_click=clear_by_button, args=(view,))
    if selection.kind == "free" and in_page:  # the page shows the point, its z and the buttons (decoded.js)
        session.show_pick_note()
        return
    model, meta = catalogue.load_model(row.path, row.mtime)
    model = model.with_label(label)
    if selection.kind == "point":
        show_point(model, md, catalogue.dataset_for(meta)[0], selection.index)
    elif selection.kind == "free":
        show_free(model, md, selection.x, selection.y)
    else:
        show_region(model, md, selection.indices)


def show_point(model, md, data, i: int) -> None:
    """The test image, a reconstruction from one z ~ q(z|x), and the decoded mean (from the cached encoding)."""
    from vae_core.analysis.latent import decode_points  # first paint: torch comes after the map
    from vae_core.model.bounds import posterior_sample  # first paint: torch comes after the map

    mu, logvar = md.mu[i : i + 1], md.logvar[i : i + 1]
    z = posterior_sample(mu, logvar, seed=i)  # the same sample on every rerun
    shown = session.image_shown()
    recon, mean = decode_points(model, np.concatenate([z, mu]), shown, y=int(md.labels[i]))  # under its own label
    label = md.label_name(md.labels[i])
    file = f" · {plain(data.test_names[i])}" if data.test_names else ""
    st.markdown(f"**Test image #{i}**{file} · label **{plain(label)}**")
    cols = st.columns(3)
    for col, img, caption in zip(
        cols,
        (data.test_x[i], recon, mean),
        ("original", "reconstruction (z ~ q(z|x))", "decoded mean" if shown == "mean" else "most likely x at μ"),
    ):
        col.image(crisp(img), caption=caption, width="stretch")
    if md.factors is not None:
        st.caption("True factors: " + " · ".join(f"{name} **{factor_text(md, name, i)}**" for name in md.factor_names))
    st.caption("μ = " + _fmt(mu[0]) + " · σ = " + _fmt(np.exp(0.5 * logvar[0])))
    send_to_generate(mu[0], f"test image #{i} (label {label})")


def factor_text(md, name: str, i: int) -> str:
    value = md.factor(name)[i]
    return md.factor_categories[name][int(value)] if name in md.factor_categories else f"{value:.3g}"


def show_free(model, md, x: float, y: float) -> None:
    """A free click the server decodes (where the page decodes, ui/js/decoded.js shows all of this itself)."""
    from vae_core.analysis.latent import decode_points  # first paint: torch comes after the map

    z = md.projection.inverse([[x, y]])
    st.markdown(f"**Decoded at** ({x:.2f}, {y:.2f})")
    st.image(crisp(decode_points(model, z, session.image_shown())[0], width=256), caption="decoded image", width=256)
    if hasattr(md.projection, "round_trip_error"):  # a nonlinear map: say how far to trust its inverse
        error = float(md.projection.round_trip_error([[x, y]])[0])
        width = md.x_range[1] - md.x_range[0]
        st.caption(
            f"z = inverse(x, y) = {_fmt(z[0])}, a kernel average of the codes of the nearest test images on "
            f"the map. Round trip here: the decoded code maps back **{error:.2f}** away ({error / width:.0%} of "
            "the map's width); far from the data the inverse returns the nearest images' codes."
        )
    else:
        st.caption(("z = PCA⁻¹(x, y) = " if md.projection.is_pca else "z = ") + _fmt(z[0]))
    send_to_generate(z[0], f"map point ({x:.2f}, {y:.2f})")


def send_to_generate(z: np.ndarray, label: str) -> None:
    """Buttons that carry this latent point to the Generate page as an interpolation endpoint."""
    name = session.checkpoint_name()
    picked = session.picked_latents(name)
    cols = st.columns(2)
    for col, slot in zip(cols, "AB"):
        col.button(
            f"Use as {slot}",
            key=f"pick_{slot}",
            icon=":material/arrow_forward:",
            on_click=session.pick_latent,
            args=(name, slot, z, label),
            width="stretch",
            help="An endpoint of the interpolation on the Generate page"
            + (f"; now: {picked[slot]['label']}" if slot in picked else "."),
        )
    session.show_pick_note()


def show_region(model, md, indices: np.ndarray) -> None:
    from vae_core.analysis.latent import decode_points  # first paint: torch comes after the map

    if len(indices) == 0:
        st.info("No data points inside the selection.")
        return
    shown = indices[:MAX_REGION_IMAGES]
    st.markdown(f"**{len(indices)} points selected**" + (f" (first {len(shown)} shown)" if len(indices) > len(shown) else ""))
    nrow = int(np.ceil(np.sqrt(len(shown))))
    images = decode_points(model, md.mu[shown], session.image_shown(), y=md.labels[shown])  # each under its own label
    st.image(grid(images, nrow=nrow, width=420), caption="decoded from their means")
    labels, counts = np.unique(md.labels[indices], return_counts=True)
    label = f"{len(indices)} points selected on Explore (mostly {md.label_name(labels[np.argmax(counts)])})"
    name = session.checkpoint_name()
    groups = session.picked_groups(name)
    for col, slot in zip(st.columns(2), "AB"):
        col.button(
            f"Use as group {slot}",
            key=f"group_{slot}",
            icon=":material/group_add:",
            width="stretch",
            on_click=session.pick_group,
            args=(name, slot, indices, label),
            help="A group of the latent arithmetic on the Generate page, v = mean(B) − mean(A)"
            + (f"; now: {groups[slot]['label']}" if slot in groups else "."),
        )
    session.show_pick_note()


def _fmt(v: np.ndarray, limit: int = 8) -> str:
    text = ", ".join(f"{a:.2f}" for a in v[:limit])
    return f"[{text}{', …' if len(v) > limit else ''}]"
