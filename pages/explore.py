"""Explore: the latent map of the selected model; click anywhere to decode that point into an image."""

import copy

import numpy as np
import streamlit as st

from ui import catalogue, session
from ui.figures import aggregate_posterior_traces, latent_map, round_trip_shading
from ui.formulas import negative_loss_note
from ui.geometry import Selection, click_selection, read_selection
from ui.hover import show_hover
from ui.images import crisp, grid
from ui.links import PROJECTIONS, link_params, read_projection, read_selection_params
from ui.navigation import guarded, run_page
from ui.selection import new_click_key, show_selection
from vae_core.config import DIFFERENT_MODE, IMPORTED
from vae_core.maps.nonlinear import TITLES, start_umap_warm_up
from vae_core.stats.estimators import DEFINITIONS, density_grid

# The map is drawn from the checkpoint's cache before torch is imported (vae_core.store.map_cache): what decodes
# (vae_core.analysis.latent, vae_core.model.bounds: torch) is imported inside the functions that run after the map is sent.

MAX_REGION_IMAGES = 100
MAX_MANIFOLD_GRID = 20
ELLIPSE_SAMPLE = 60
DENSITY_POINTS = 2000  # test images whose posteriors make the q(z) shading (the map shows them all)
PROJECTION = "explore_proj"  # the map projection control
SHOWN_PROJECTION = "_explore_shown_proj"  # the projection drawn last: what a click on the chosen one keeps


def map_view(checkpoint: str, projection: str) -> str:
    """One map of one model: a selection belongs to it (a point of the UMAP map is not one of the PCA map)."""
    return checkpoint if projection == "pca" else f"{checkpoint}|{projection}"


def map_chart_key(view: str) -> str:
    """The map's widget key: its selection event lives under it (one per map view, and a new one after each
    clear_selection, which is how a chart's selection is emptied)."""
    clears = st.session_state.get(f"map-clears:{view}", 0)
    return f"map:{view}" + (f":{clears}" if clears else "")


def clear_selection(view: str) -> None:
    remember_selection(view, None)
    st.session_state[f"map-clears:{view}"] = st.session_state.get(f"map-clears:{view}", 0) + 1


def map_event(view: str):
    """The map's last selection event, as Streamlit stored it (a mapping), or None."""
    return st.session_state.get(map_chart_key(view))


def last_selection(view: str) -> Selection | None:
    return st.session_state.get(f"map-last:{view}")


def remember_selection(view: str, selection: Selection | None) -> None:
    st.session_state[f"map-last:{view}"] = selection


@st.cache_data(show_spinner=False, max_entries=32)
def manifold_image(path: str, mtime: int, n: int, projection: str, shown: str, label: int | None, _md) -> str:
    """The decoded grid over `_md`, the map of this model by this projection, under `label` for a conditional model."""
    from vae_core.analysis.latent import decode_grid

    model = catalogue.load_model(path, mtime)[0].with_label(label)
    images = decode_grid(model, _md.projection, _md.x_range, _md.y_range, n, shown)
    return grid(images, nrow=n, width=max(520, 24 * n))


@st.cache_data(show_spinner="Shading the aggregate posterior…", max_entries=16)
def aggregate_posterior(path: str, mtime: int) -> list:
    """q(z) on the map (the mixture of the test images' posteriors: exact for a 2-D latent, its marginal on
    the PCA plane otherwise) and the prior's contours."""
    md = catalogue.map_data(path, mtime)
    means, logvars = md.xy[:DENSITY_POINTS], md.logvar[:DENSITY_POINTS]
    xs, ys, density = density_grid(means, md.projection.map_covariances(logvars), md.x_range, md.y_range)
    return aggregate_posterior_traces(xs, ys, density, *md.projection.map_prior())


def current_map(row, projection: str):
    """The test set's map by the chosen projection; a UMAP or t-SNE fit shows its progress while it runs."""
    md = catalogue.map_data(row.path, row.mtime)
    if projection == "pca":
        return md
    placeholder = st.empty()
    md = catalogue.nonlinear_map(row, md, projection, lambda message, done: placeholder.progress(done, text=message))
    placeholder.empty()
    return md


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


def show_point(model, md, data, i: int) -> None:
    """The test image, a reconstruction from one z ~ q(z|x), and the decoded mean (from the cached encoding)."""
    from vae_core.analysis.latent import decode_points
    from vae_core.model.bounds import posterior_sample

    mu, logvar = md.mu[i : i + 1], md.logvar[i : i + 1]
    z = posterior_sample(mu, logvar, seed=i)  # the same sample on every rerun
    shown = session.image_shown()
    recon, mean = decode_points(model, np.concatenate([z, mu]), shown, y=int(md.labels[i]))  # under its own label
    label = md.label_name(md.labels[i])
    file = f" · `{data.test_names[i]}`" if data.test_names else ""
    st.markdown(f"**Test image #{i}**{file} · label **{label}**")
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
    from vae_core.analysis.latent import decode_points

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
    from vae_core.analysis.latent import decode_points

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


def current_selection(view: str, md) -> Selection | None:
    """The map's selection: the newest of a click (ui.selection, read from the page's mouse events) and a box or
    lasso (the chart's selection event). The chart can report an empty selection when it is laid out again (e.g.
    the page's width changes) while the page still shows the last one: the last real one is kept for the panel."""
    click = st.session_state.pop(new_click_key(view), None)
    if click is not None:
        remember_selection(view, click_selection(md.xy, click["x"], click["y"], md.x_range, md.y_range))
    event = map_event(view)
    if event != st.session_state.get(f"map-seen:{view}"):  # a box or lasso drawn since the last run
        st.session_state[f"map-seen:{view}"] = copy.deepcopy(event)
        selection = read_selection(event, md.xy)
        if selection is not None:
            remember_selection(view, selection)
    return last_selection(view)


def new_link() -> dict | None:
    """The URL's parameters when they are a link someone opened, not the URL this session wrote."""
    params = st.query_params.to_dict()
    keys = {"proj", "point", "x", "y"}
    if keys & params.keys() and {k: v for k, v in params.items() if k != "model"} != {
        k: v for k, v in session.written_link().items() if k != "model"
    }:
        return params
    return None


def follow_projection_link(params: dict, latent_dim: int) -> None:
    projection, problem = read_projection(params)
    if problem:
        st.warning(problem, icon=":material/link_off:")
    if projection not in (None, "pca") and latent_dim <= 2:
        st.warning(
            f"This model's latent space has {latent_dim} dimensions: the map is the latent space itself, "
            "so it has no other projection.",
            icon=":material/link_off:",
        )
    elif latent_dim > 2:
        st.session_state[PROJECTION] = projection or "pca"


def follow_selection_link(params: dict, view: str, md) -> None:
    selection, problem = read_selection_params(params, md.xy, md.x_range, md.y_range)
    if problem:
        st.warning(problem + ("" if selection else " Nothing is selected."), icon=":material/link_off:")
    if map_event(view):
        clear_selection(view)  # a fresh chart: its old selection must not win over the link's
    remember_selection(view, selection)


def write_link(name: str, projection: str, selection: Selection | None) -> None:
    """Keep the URL on what is shown, so it can be shared."""
    params = link_params(name, projection, selection)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    session.remember_written_link(params)


def selection_panel(row, md, view: str, selection: Selection | None, label: int | None) -> None:
    if selection is None:
        st.info("Click anywhere on the map to decode that point into an image.")
        return
    st.button("Clear selection", key="explore_clear", icon=":material/close:", on_click=clear_selection, args=(view,))
    model, meta = catalogue.load_model(row.path, row.mtime)
    model = model.with_label(label)
    if selection.kind == "point":
        show_point(model, md, catalogue.dataset_for(meta)[0], selection.index)
    elif selection.kind == "free":
        show_free(model, md, selection.x, selection.y)
    else:
        show_region(model, md, selection.indices)


def estimates_panel(row) -> None:
    """The split of the average KL: how the codes fill the prior (vae_core.stats.estimators)."""
    est = catalogue.posterior_estimates(row.path, row.mtime)
    if est is None:
        return
    with st.expander("How the codes fill the prior: I(x; z), total correlation, dimension-wise KL"):
        rows = [
            ("average KL", "avg_kl"),
            ("I(x; z)", "mutual_info"),
            ("KL(q(z) ‖ p(z))", "kl_aggregate"),
            ("total correlation", "total_correlation"),
            ("dimension-wise KL", "dimwise_kl"),
        ]
        st.markdown(
            "| term | nats | what it is |\n| --- | ---: | --- |\n"
            + "\n".join(f"| {label} | {getattr(est, key):.2f} | {DEFINITIONS[key].split(': ', 1)[1]} |" for label, key in rows)
        )
        st.caption(
            f"On {est.n_images:,} test images; q(z) is the mixture of their posteriors q(z|x). "
            "average KL = I(x; z) + KL(q(z) ‖ p(z)), and KL(q(z) ‖ p(z)) = total correlation + dimension-wise "
            f"KL (Hoffman & Johnson 2016; Chen et al. 2018). I(x; z) is at most log N = {np.log(est.n_images):.2f}."
        )


def map_and_panel(row, md, view: str, projection: str, choices: dict) -> None:
    """The map and what a click on it shows. A fragment: a click reruns only this, not the page around it."""
    selection = current_selection(view, md)
    write_link(row.name, projection, selection)
    map_col, side_col = st.columns([4, 3], gap="medium")
    with map_col:
        rng = np.random.default_rng(0)
        ellipse_idx = rng.choice(len(md.xy), min(ELLIPSE_SAMPLE, len(md.xy)), replace=False) if choices["ellipses"] else None
        underlays = (
            aggregate_posterior(row.path, row.mtime)
            if choices.get("aggregate")
            else [round_trip_shading(md.projection)]
            if choices.get("errors")
            else []
        )
        st.plotly_chart(
            latent_map(md, ellipse_idx=ellipse_idx, underlays=underlays, colour_by=choices["colour"]),
            key=map_chart_key(view),
            on_select="rerun",
            selection_mode=("box", "lasso"),  # clicks come from ui.selection, never dropped
            config={"displaylogo": False, "scrollZoom": False},
        )  # the wheel scrolls the page, not the axes
        show_selection(selection, view, key="explore_selection")
    with side_col:
        with st.container(border=True):
            selection_panel(row, md, view, selection, choices["label"])
        if choices["manifold"]:
            under = "" if choices["label"] is None else f", under the label {md.label_name(choices['label'])}"
            st.image(
                manifold_image(row.path, row.mtime, choices["grid_n"], projection, session.image_shown(), choices["label"], md),
                caption=f"Decoded manifold: {choices['grid_n']}×{choices['grid_n']} grid over the map's region{under}",
            )
        estimates_panel(row)


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
        f"**{row.name}**: {row.arch} VAE ({row.likelihood} likelihood) on {catalogue.dataset_label(row.dataset)}; "
        f"{how}. "
        "Click anywhere to decode that point; click a dot to compare the image with its reconstruction; "
        "use box or lasso select for a group. The address bar keeps the view: copy it to share it."
        + (f" Decoded images show {session.IMAGE_TITLES[session.image_shown()]}." if row.likelihood in DIFFERENT_MODE else "")
        + (f" {negative_loss_note(row.likelihood)}" if (row.test_loss or 0) < 0 else "")
    )
    if row.num_classes:
        st.info(
            "A **conditional VAE**: it is given each image's label, so its code need not hold the class and "
            "holds the style instead (slant, thickness, size). The dots are coloured by label, and the classes "
            "overlap on the map rather than form clusters. A click decodes the point under the label chosen "
            "beside the map.",
            icon=":material/label:",
        )
    if md.missing_data:
        st.warning(
            f"No data points drawn: the dataset of this model is not available here. {md.missing_data} "
            "The decoded manifold and free clicks still work."
        )
    options = view_options(projection, latent_dim, md, row.num_classes > 0)
    st.fragment(guarded(map_and_panel))(row, md, view, projection, options)
    if options["hover"]:  # outside the fragment: sent once, not again with every click; after the map: torch
        show_hover(row, md, projection, key="explore_hover_grid", label=options["label"])
    html_download(row, md, projection, options["colour"], options["label"])
    catalogue.warm_up_training()  # after the map is drawn: the process that trains gets ready before Start is clicked
    if latent_dim > 2:  # UMAP is a click away: its code compiles while this map is looked at
        start_umap_warm_up()
    doctor_section(row, md)
    replay_section(row)


@st.cache_data(show_spinner="IWAE bound of the original…", max_entries=8)
def checkpoint_scores(path: str, mtime: int) -> tuple[dict, dict | None]:
    """The model's saved test metrics and its IWAE bound (as a finished run's, vae_core.runs.registry.final_iwae)."""
    from vae_core.runs.registry import final_iwae

    model, meta = catalogue.load_model(path, mtime)
    data = catalogue.dataset_for(meta)[0]
    return dict(meta.metrics), None if data is None else final_iwae(model, data)


def doctor_section(row, md) -> None:
    """The collapse doctor (ui/doctor.py), when some of the model's dimensions have collapsed."""
    from ui.doctor import doctor_panel
    from vae_core import DatasetError
    from vae_core.analysis.doctor import original_spec

    meta = catalogue.load_model(row.path, row.mtime)[1]
    try:
        spec, why_not = original_spec(meta), ""
    except ValueError as err:
        spec, why_not = None, str(err)

    def load_data():
        data, problem = catalogue.dataset_for(meta)
        if data is None:
            raise DatasetError(f"its data are not here, so it cannot be retrained: {problem}")
        return data

    doctor_panel(
        row.path,
        row.name,
        meta.metrics.get("kl_per_dim") or [],
        spec,
        load_data,
        lambda: checkpoint_scores(row.path, row.mtime),
        why_not,
    )


def html_download(row, md, projection: str, colour_by: str, label: int | None) -> None:
    """This view (model, map, colouring, label) as one HTML file that opens without a server: built when clicked."""
    from vae_core.analysis.html_export import export_html

    model, meta = catalogue.load_model(row.path, row.mtime)
    model = model.with_label(label)
    data = None if md.missing_data else catalogue.dataset_for(meta)[0]
    test_x = None if data is None else data.test_x
    shown = session.image_shown()
    st.download_button(
        "Download this view as HTML",
        key="explore_html",
        icon=":material/download:",
        mime="text/html",
        file_name=f"{row.name.replace('/', '-')}-{projection}-{colour_by}.html",
        on_click="ignore",
        data=lambda: export_html(model, meta, md, test_x, projection, colour_by, shown, row.name),
        help="One file with the map coloured as here, the image decoded under the cursor, a clicked dot's test image "
        "and reconstruction, the decoded manifold and the training curves. It opens from disk in any browser, "
        "with no server and no network (about 5 MB: plotly.js is inside).",
    )


@st.cache_resource(show_spinner=False, max_entries=4)  # one shared copy: st.cache_data would copy it per view
def saved_replay(path: str, mtime: int):
    """The model's replay, or the reason it cannot be shown (vae_core.analysis.replay.ReplayError) as text."""
    from vae_core.analysis.replay import ReplayError, from_history

    meta = catalogue.load_model(path, mtime)[1]
    try:
        return from_history(meta.history, meta.beta_changes, meta.image_shape)
    except ReplayError as err:
        return f"This model's replay cannot be shown: {err}."


def replay_section(row) -> None:
    """The replay of the model's training, epoch by epoch, as the Train page showed it (off until asked for)."""
    if not st.toggle(
        "Replay its training",
        key="explore_replay",
        help="How the map formed while the model trained: each epoch's map of 500 test images, a few "
        "reconstructions and the KL per dimension, kept in the checkpoint.",
    ):
        return
    from ui.replay import replay_panel, run_every

    key = f"explore_replay_{row.name}"
    if row.arch == IMPORTED:
        st.info(
            "This is an imported model (ONNX): it comes without its training history, so there is no replay "
            "or training curve to show.",
            icon=":material/info:",
        )
        return
    replay = saved_replay(row.path, row.mtime)
    if isinstance(replay, str):
        st.warning(replay, icon=":material/warning:")
        return
    show = lambda: replay_panel(
        replay,
        key,
        empty_note=("This model was saved without a replay of its training (saved before replays were kept, or by a sweep)."),
    )
    st.fragment(run_every=run_every(key, None))(guarded(show))()


run_page(main)
