"""Explore: the latent map of the selected model; click anywhere to decode that point into an image."""
import numpy as np
import streamlit as st

from ui import state
from ui.figures import latent_map
from ui.geometry import Selection, read_selection
from ui.images import crisp, grid
from ui.navigation import run_page
from vae_core.elbo import posterior_sample
from vae_core.latent import decode_grid, decode_points

MAX_REGION_IMAGES = 100
MAX_MANIFOLD_GRID = 20
ELLIPSE_SAMPLE = 60


@st.cache_data(show_spinner=False, max_entries=32)
def manifold_image(path: str, mtime: int, n: int) -> str:
    model, _ = state.load_model(path, mtime)
    md = state.map_data(path, mtime)
    return grid(decode_grid(model, md.projection, md.x_range, md.y_range, n), nrow=n, width=max(520, 24 * n))


def view_options() -> dict:
    a, b, c = st.columns(3)
    return dict(manifold=a.toggle("Decoded manifold", value=True, key="explore_manifold",
                                  help="Images decoded on a regular grid over the map: the classic VAE picture."),
                ellipses=b.toggle("1σ posterior ellipses", value=False, key="explore_ellipses",
                                  help=f"The spread of q(z|x) for {ELLIPSE_SAMPLE} random test images."),
                grid_n=c.slider("Manifold grid", 6, MAX_MANIFOLD_GRID, 15, key="explore_grid_n",
                                  help="Images per side; each stays at least 24 px wide, so they can be read."))


def show_point(model, md, data, i: int) -> None:
    """The test image, a reconstruction from one z ~ q(z|x), and the decoded mean (from the cached encoding)."""
    mu, logvar = md.mu[i:i + 1], md.logvar[i:i + 1]
    z = posterior_sample(mu, logvar, seed=i)  # the same sample on every rerun
    recon, mean = decode_points(model, np.concatenate([z, mu]))
    label = md.label_name(md.labels[i])
    file = f" · `{data.test_names[i]}`" if data.test_names else ""
    st.markdown(f"**Test image #{i}**{file} · label **{label}**")
    cols = st.columns(3)
    for col, img, caption in zip(cols, (data.test_x[i], recon, mean),
                                 ("original", "reconstruction (z ~ q(z|x))", "decoded mean")):
        col.image(crisp(img), caption=caption, width="stretch")
    st.caption("μ = " + _fmt(mu[0]) + " · σ = " + _fmt(np.exp(0.5 * logvar[0])))
    send_to_generate(mu[0], f"test image #{i} (label {label})")


def show_free(model, md, x: float, y: float) -> None:
    z = md.projection.inverse([[x, y]])
    st.markdown(f"**Decoded at** ({x:.2f}, {y:.2f})")
    st.image(crisp(decode_points(model, z)[0], width=256), caption="decoded image", width=256)
    st.caption(("z = PCA⁻¹(x, y) = " if md.projection.pca is not None else "z = ") + _fmt(z[0]))
    send_to_generate(z[0], f"map point ({x:.2f}, {y:.2f})")


def send_to_generate(z: np.ndarray, label: str) -> None:
    """Buttons that carry this latent point to the Generate page as an interpolation endpoint."""
    name = state.checkpoint_name()
    picked = state.picked_latents(name)
    cols = st.columns(2)
    for col, slot in zip(cols, "AB"):
        col.button(f"Use as {slot}", key=f"pick_{slot}", icon=":material/arrow_forward:",
                   on_click=state.pick_latent, args=(name, slot, z, label), width="stretch",
                   help="An endpoint of the interpolation on the Generate page"
                        + (f"; now: {picked[slot]['label']}" if slot in picked else "."))


def show_region(model, md, indices: np.ndarray) -> None:
    if len(indices) == 0:
        st.info("No data points inside the selection.")
        return
    shown = indices[:MAX_REGION_IMAGES]
    st.markdown(f"**{len(indices)} points selected**" + (f" (first {len(shown)} shown)" if len(indices) > len(shown) else ""))
    nrow = int(np.ceil(np.sqrt(len(shown))))
    st.image(grid(decode_points(model, md.mu[shown]), nrow=nrow, width=420), caption="decoded means")


def _fmt(v: np.ndarray, limit: int = 8) -> str:
    text = ", ".join(f"{a:.2f}" for a in v[:limit])
    return f"[{text}{', …' if len(v) > limit else ''}]"


def current_selection(name: str, md) -> Selection | None:
    """The map's selection. The chart can report an empty one when it is laid out again (e.g. the page's
    width changes) while plotly still shows the clicked spot: the last real one is kept for the panel."""
    selection = read_selection(state.map_event(name), md.xy, md.x_range, md.y_range)
    if selection is None:
        return state.last_selection(name)
    state.remember_selection(name, selection)
    return selection


def selection_panel(sel, selection: Selection | None) -> None:
    model, md = sel.model, sel.map
    if selection is None:
        st.info("Click anywhere on the map to decode that point into an image.")
        return
    st.button("Clear selection", key="explore_clear", icon=":material/close:", on_click=state.clear_selection,
              args=(sel.row.name,))
    if selection.kind == "point":
        show_point(model, md, state.dataset_for(sel.meta)[0], selection.index)
    elif selection.kind == "free":
        show_free(model, md, selection.x, selection.y)
    else:
        show_region(model, md, selection.indices)


def main() -> None:
    sel = state.selected_model("explore")
    row, md = sel.row, sel.map
    selection = current_selection(row.name, md)
    st.title("Explore the latent space")
    how = ("the map *is* the latent space" if md.projection.pca is None
           else f"the map is a PCA projection of the {md.projection.latent_dim}-D latent space")
    st.caption(f"**{row.name}**: {row.arch} VAE ({row.likelihood} likelihood) on {state.dataset_label(row.dataset)}; "
               f"{how}. "
               "Click anywhere to decode that point; click a dot to compare the image with its reconstruction; "
               "use box or lasso select for a group.")
    if md.missing_data:
        st.warning(f"No data points drawn: the dataset of this model is not available here. {md.missing_data} "
                   "The decoded manifold and free clicks still work.")
    options = view_options()
    map_col, side_col = st.columns([4, 3], gap="medium")
    with map_col:
        rng = np.random.default_rng(0)
        ellipse_idx = (rng.choice(len(md.xy), min(ELLIPSE_SAMPLE, len(md.xy)), replace=False)
                       if options["ellipses"] else None)
        st.plotly_chart(latent_map(md, ellipse_idx=ellipse_idx, selection=selection), key=state.map_chart_key(row.name),
                        on_select="rerun",
                        selection_mode=("points", "box", "lasso"), config={"displaylogo": False, "scrollZoom": True})
    with side_col:
        with st.container(border=True):
            selection_panel(sel, selection)
        if options["manifold"]:
            st.image(manifold_image(row.path, row.mtime, options["grid_n"]),
                     caption=f"Decoded manifold: {options['grid_n']}×{options['grid_n']} grid over the map's region")


run_page(main)
